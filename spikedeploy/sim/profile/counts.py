"""Counts of what a network did, per node and per time step, accumulated over batches.

Definitions (NeuroBench's names where they mean the same; docs/profiling.md has the details):

* events        non-zero outputs of a node: spikes of a neuron layer, non-zero (graded)
                payloads of the input. Counted at the step they are emitted.
* synaptic ops  per synapse node, per step t, charged to the step the triggering event was
                emitted (the step Lava's Dense/Conv process receives it and computes):
                `effective` = events x non-zero outgoing weights (NeuroBench Effective_ACs, or
                Effective_MACs when the source sends graded payloads), `chip` = events x all
                outgoing synapses, zero weights included, `dense` = every synapse every step.
* neuron updates every neuron every step; `active` ones have non-zero state, input or bias (see
                activity.observe_lif), the rest are inactive.
* spike messages one per event and per synapse node that reads it (one per destination layer).

All counts are exact integers, summed over samples; divide by `samples` for per inference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ...graph import LIF, Graph
from .activity import Activity
from .connectivity import EVENT_SOURCES, Connectivity, event_source

SYNAPTIC_OP_FLAVOURS = ("effective", "chip", "dense")
STATE_FIELDS = ("current_wraps", "voltage_clips", "max_abs_current", "max_abs_voltage",
                "replay_mismatches")


@dataclass
class Counts:
    """Integer counts over `samples` samples of `steps` steps. Arrays are (steps,) per node."""

    samples: int
    steps: int
    events: dict[str, np.ndarray]                   # Input and LIF nodes
    synaptic_ops: dict[str, dict[str, np.ndarray]]  # synapse node -> flavour -> (steps,)
    active_updates: dict[str, np.ndarray]           # LIF nodes
    neuron_updates: dict[str, np.ndarray]           # LIF nodes: all updates, active or inactive
    messages: dict[str, np.ndarray]                 # Input and LIF nodes
    state: dict[str, dict[str, int]] = field(default_factory=dict)   # LIF nodes

    def inactive_updates(self, name: str) -> np.ndarray:
        return self.neuron_updates[name] - self.active_updates[name]


class CountAccumulator:
    """Adds up batch after batch. Fan-outs are fixed per network, so each synapse node costs
    one matrix-vector product per batch: (events per presynaptic neuron and step) x fan-out."""

    def __init__(self, graph: Graph, wiring: dict[str, Connectivity], steps: int):
        self.graph, self.wiring, self.steps = graph, wiring, steps
        self.sources = {syn: event_source(graph, syn) for syn in wiring}
        spiking = [n for n in graph.order if isinstance(graph.nodes[n], EVENT_SOURCES)]
        self.out_degree = {n: sum(s == n for s in self.sources.values()) for n in spiking}
        self.neurons = {n: int(np.prod(graph.shapes[n])) for n in graph.neuron_names}
        zeros = lambda: np.zeros(steps, np.int64)   # noqa: E731
        self.counts = Counts(
            0, steps, {n: zeros() for n in spiking},
            {s: {f: zeros() for f in SYNAPTIC_OP_FLAVOURS} for s in wiring},
            {n: zeros() for n in graph.neuron_names}, {n: zeros() for n in graph.neuron_names},
            {n: zeros() for n in spiking},
            {n: dict.fromkeys(STATE_FIELDS, 0) for n in graph.neuron_names})
        self._fanouts = {s: (torch.as_tensor(c.fanout_nonzero, dtype=torch.float64),
                             torch.as_tensor(c.fanout_all, dtype=torch.float64))
                         for s, c in wiring.items()}

    def add(self, activity: Activity) -> None:
        c = self.counts
        batch = next(iter(activity.events.values())).shape[0]
        per_neuron = {}        # events per presynaptic neuron and step, summed over the batch
        for name, events in activity.events.items():
            # (F, T), exact. Counted in the replay's time-major memory, (T, N, F): a reduction
            # over N in the sample-major view strides through memory and took 3x as long.
            time_major = events.movedim(-1, 0).reshape(self.steps, batch, -1)
            per_neuron[name] = torch.count_nonzero(time_major, dim=1).T.cpu().to(torch.float64)
            emitted = _as_int(per_neuron[name].sum(0))
            c.events[name] += emitted
            c.messages[name] += emitted * self.out_degree[name]
        for syn, (nonzero, every) in self._fanouts.items():
            ops = c.synaptic_ops[syn]
            ops["effective"] += _as_int(nonzero @ per_neuron[self.sources[syn]])
            ops["chip"] += _as_int(every @ per_neuron[self.sources[syn]])
            ops["dense"] += batch * self.wiring[syn].synapses
        for name, seen in activity.neurons.items():
            c.active_updates[name] += seen.active_per_step.cpu().numpy()
            c.neuron_updates[name] += batch * self.neurons[name]
            state = c.state[name]
            for key in ("current_wraps", "voltage_clips", "replay_mismatches"):
                state[key] += getattr(seen, key)
            for key in ("max_abs_current", "max_abs_voltage"):
                state[key] = max(state[key], getattr(seen, key))
        c.samples += batch


def _as_int(x: torch.Tensor) -> np.ndarray:
    return np.rint(x.numpy()).astype(np.int64)


def neuron_layers(graph: Graph) -> list[str]:
    return [n for n in graph.order if isinstance(graph.nodes[n], LIF)]


def counts_equal(a: Counts, b: Counts) -> bool:
    """Every count of every node and step, and every state observation, is the same."""
    if (a.samples, a.steps) != (b.samples, b.steps) or a.state != b.state:
        return False
    tables = ("events", "active_updates", "neuron_updates", "messages")
    same = all(getattr(a, t).keys() == getattr(b, t).keys() and all(
        np.array_equal(v, getattr(b, t)[k]) for k, v in getattr(a, t).items()) for t in tables)
    return same and a.synaptic_ops.keys() == b.synaptic_ops.keys() and all(
        np.array_equal(v, b.synaptic_ops[s][f]) for s, ops in a.synaptic_ops.items()
        for f, v in ops.items())

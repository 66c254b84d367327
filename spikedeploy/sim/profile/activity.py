"""Replay a network on recorded or emulated activity, watching every neuron's state.

A recording holds spikes only; what a neuron did in between (was its update active or
inactive, did its 24-bit state overflow) follows from the spikes that reached it. `observe`
walks the graph like the emulator, with the emulator's own operations, but for each neuron
layer it

* runs the fixed-point LIF step by step and notes, per step, how many neurons were active and
  whether u wrapped or v clipped at 24 bits, and
* passes the *recorded* spikes on downstream when there are any (so every later layer sees
  exactly what the recorded run saw) and counts where the replay disagrees with them.

Without a recording it is the emulator, with the same spikes, plus the observations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from ...graph import LIF, Graph, Input
from ..lif import ACT_SHIFT, STATE_HALF, LIFParams, LIFState, decay, lif_step
from ..ops import OPS


@dataclass
class NeuronObservation:
    """One neuron layer over one batch. Counts are summed over samples and neurons."""

    active_per_step: torch.Tensor    # (T,) int64: updates with non-zero state, input or bias
    current_wraps: int             # updates where u left the signed 24-bit range and wrapped
    voltage_clips: int             # updates where v was clipped to +-(2^23 - 1)
    max_abs_current: int           # largest |u| the recursion asked for, before wrapping
    max_abs_voltage: int           # largest |v| the recursion asked for, before clipping
    replay_mismatches: int = 0     # entries where the replay's spikes differ from the recording


@dataclass
class Activity:
    """One batch: events (spikes or graded payloads) of every Input and LIF node, as
    (N, *shape, T) tensors, and the observation of every LIF node."""

    events: dict[str, torch.Tensor]
    neurons: dict[str, NeuronObservation]


def observe_lif(node: LIF, inputs: list[torch.Tensor]) -> tuple[torch.Tensor, NeuronObservation]:
    """Lava's LIF (sim/lif.py `lif_step`) over time, noting active updates and 24-bit overflow.

    An update is active when the neuron's u or v is non-zero before it, its summed input is
    non-zero, or it has a bias: the rule SANA-FE's Loihi model uses to charge a neuron update
    (sanafe 2.2.9 src/models.cpp `LoihiLifModel::update`), with the summed input standing for
    "a spike message arrived". Inactive updates only read the neuron.
    """
    activation = inputs[0] if len(inputs) == 1 else torch.stack(inputs).sum(0)
    device, steps = activation.device, activation.shape[-1]
    params = LIFParams.from_node(node, device)
    biased = torch.broadcast_to(params.bias != 0, activation.shape[1:-1])
    state = LIFState.zeros(activation.shape[:-1], device)
    spikes = torch.empty(activation.shape, dtype=torch.uint8, device=device)
    active = torch.zeros(steps, dtype=torch.int64, device=device)
    wraps = clips = max_u = max_v = torch.zeros((), dtype=torch.int64, device=device)
    for t in range(steps):
        a = activation[..., t]
        active[t] = ((state.current != 0) | (state.voltage != 0) | (a != 0) | biased).sum()
        wanted_u = decay(state.current, params.current_factor) + (a << ACT_SHIFT)
        decayed_v = decay(state.voltage, params.voltage_factor)
        s, state = lif_step(a, state, params)
        wanted_v = (decayed_v + state.current + params.bias).abs()
        wraps = wraps + (wanted_u != state.current).sum()
        clips = clips + (wanted_v > STATE_HALF - 1).sum()
        max_u = torch.maximum(max_u, wanted_u.abs().max())
        max_v = torch.maximum(max_v, wanted_v.max())
        spikes[..., t] = s
    return spikes, NeuronObservation(active, int(wraps), int(clips), int(max_u), int(max_v))


# Node types whose state is watched during the replay; every other node runs the emulator's op.
OBSERVERS: dict[type, Callable] = {LIF: observe_lif}


class Replay:
    """The graph's operations, built once, run batch after batch."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._ops = {name: OPS[type(node)](node) for name, node in graph.nodes.items()
                     if not isinstance(node, Input) and type(node) not in OBSERVERS}

    def observe(self, inputs: torch.Tensor,
                recorded: Mapping[str, torch.Tensor] | None = None) -> Activity:
        """inputs: (N, *input_shape, T) int64; recorded: {LIF node: spikes (N, *shape, T)}."""
        graph, recorded = self.graph, recorded or {}
        values = {graph.input_name: inputs}
        events = {graph.input_name: inputs}
        neurons = {}
        pending = {n: len(graph.successors(n)) for n in graph.nodes}
        for name in graph.order:
            node = graph.nodes[name]
            if isinstance(node, Input):
                continue
            preds = [values[p] for p in graph.predecessors(name)]
            for pred in graph.predecessors(name):     # free synaptic currents once consumed
                pending[pred] -= 1
                if pending[pred] == 0 and pred not in events:
                    values.pop(pred)
            observer = OBSERVERS.get(type(node))
            if observer is None:
                values[name] = self._ops[name](preds)
                continue
            spikes, neurons[name] = observer(node, preds)
            if name in recorded:
                given = recorded[name].to(spikes.device, torch.uint8)
                neurons[name].replay_mismatches = int((given != spikes).sum())
                spikes = given
            values[name] = events[name] = spikes
        return Activity(events, neurons)

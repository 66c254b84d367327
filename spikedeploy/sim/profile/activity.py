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

import numpy as np
import torch

from ...graph import LIF, Graph, Input
from ..emulator import sample_major, time_major
from ..exact import Spikes
from ..lif import (
    ACT_SHIFT,
    STATE_HALF,
    LIFParams,
    decay,
    frame_in_memory_order,
    in_logical_order,
    lif_spike_buffer,
    memory_order,
)
from ..memory import keep_freed_memory
from ..ops import OPS, OpContext, summed


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


def _previous(trace: torch.Tensor) -> torch.Tensor:
    """(T, ...) state after each step -> the state before each step (zero before step 0)."""
    before = torch.zeros_like(trace)
    before[1:] = trace[:-1]
    return before


def observe_lif(node: LIF, inputs: list[torch.Tensor]) -> tuple[Spikes, NeuronObservation]:
    """Lava's LIF over time, noting active updates and 24-bit overflow. Inputs and outputs are
    time-major, as the emulator's operations use them.

    An update is active when the neuron's u or v is non-zero before it, its summed input is
    non-zero, or it has a bias: the rule SANA-FE's Loihi model uses to charge a neuron update
    (sanafe 2.2.9 src/models.cpp `LoihiLifModel::update`), with the summed input standing for
    "a spike message arrived". Inactive updates only read the neuron. On CPU the observations
    come from the emulator's compiled recursion in the same pass; elsewhere from its traces.
    """
    activation = summed(inputs)                                   # (T, N, *shape)
    params = LIFParams.from_node(node, activation.device)
    observe = _observe_compiled if activation.device.type == "cpu" else _observe_traces
    return observe(activation, params)


def _observe_compiled(activation: torch.Tensor, params: LIFParams
                      ) -> tuple[Spikes, NeuronObservation]:
    from ..lif_kernel import lif_observe_kernel

    steps, *shape = activation.shape
    if activation.dtype != torch.float32:       # Lava's neuron sums its input in int32
        activation = activation.to(torch.int32)
    # elementwise, like the emulator's kernel: kept in the input's memory order, no copy
    order = memory_order(activation)
    physical = activation.permute(order).contiguous()
    bias = frame_in_memory_order(params.bias.expand(*shape), order).contiguous()
    spikes, active, stats = lif_observe_kernel(
        physical.reshape(steps, -1).numpy(), bias.reshape(-1).numpy(),
        (params.current_factor, params.voltage_factor), params.threshold,
        spike_dtype=np.uint8)
    delayed = torch.from_numpy(spikes).reshape(steps + 1, *physical.shape[1:])
    return (Spikes(in_logical_order(delayed, order)),
            NeuronObservation(torch.from_numpy(active), *stats))


def _observe_traces(activation: torch.Tensor, params: LIFParams
                    ) -> tuple[Spikes, NeuronObservation]:
    activation = activation.to(torch.int64)
    spikes, current, voltage = lif_spike_buffer(activation, params, return_state=True)
    current, voltage = current.to(torch.int64), voltage.to(torch.int64)
    u_before, v_before = _previous(current), _previous(voltage)
    biased = torch.broadcast_to(params.bias != 0, activation.shape[2:])
    active = (u_before != 0) | (v_before != 0) | (activation != 0) | biased
    wanted_u = decay(u_before, params.current_factor) + (activation << ACT_SHIFT)
    wanted_v = (decay(v_before, params.voltage_factor) + current + params.bias).abs()
    observation = NeuronObservation(
        active.flatten(1).sum(1), int((wanted_u != current).sum()),
        int((wanted_v > STATE_HALF - 1).sum()), int(wanted_u.abs().max()),
        int(wanted_v.max()))
    return Spikes(spikes), observation


# Node types whose state is watched during the replay; every other node runs the emulator's op.
OBSERVERS: dict[type, Callable] = {LIF: observe_lif}


class Replay:
    """The graph's operations, built once, run batch after batch."""

    def __init__(self, graph: Graph):
        self.graph = graph
        keep_freed_memory()             # as the emulator does (sim/memory.py)
        index = {name: k for k, name in enumerate(graph.neuron_names)}
        self._ops = {name: OPS[type(node)](node, OpContext(index.get(name, 0)))
                     for name, node in graph.nodes.items()
                     if not isinstance(node, Input) and type(node) not in OBSERVERS}

    def observe(self, inputs: torch.Tensor,
                recorded: Mapping[str, torch.Tensor] | None = None) -> Activity:
        """inputs: (N, *input_shape, T) int64; recorded: {LIF node: spikes (N, *shape, T)}."""
        graph, recorded = self.graph, recorded or {}
        values = {graph.input_name: time_major(inputs, inputs.device)}
        events = {graph.input_name: inputs}
        neurons = {}
        pending = {n: len(graph.successors(n)) for n in graph.nodes}
        with torch.inference_mode():
            for name in graph.order[1:] if graph.order[0] == graph.input_name else graph.order:
                node = graph.nodes[name]
                if isinstance(node, Input):
                    continue
                preds = [values[p] for p in graph.predecessors(name)]
                for pred in graph.predecessors(name):     # free what no one reads any more
                    pending[pred] -= 1
                    if pending[pred] == 0:
                        values.pop(pred)
                observer = OBSERVERS.get(type(node))
                if observer is None:
                    values[name] = self._ops[name](preds)
                    continue
                spikes, neurons[name] = observer(node, preds)
                if name in recorded:
                    given = time_major(recorded[name], spikes.device).to(spikes.delayed.dtype)
                    neurons[name].replay_mismatches = int((given != spikes.now).sum())
                    spikes.now.copy_(given)
                values[name] = spikes
                events[name] = sample_major(spikes)
        return Activity(events, neurons)

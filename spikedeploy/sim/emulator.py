"""The fast oracle: run a graph on a batch of samples with Loihi's fixed-point arithmetic.

Because every synapse delays by at least one step, each node's whole time series can be
computed from its inputs' whole time series: nodes are evaluated once each, in topological
order, batched over samples and time. Only the neuron recursion loops over time, in a compiled
kernel on CPU. Internally tensors are time-major (T, N, *shape); the API is sample-major.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from ..errors import SpikedeployError
from ..graph import Graph, Input
from .exact import Spikes
from .memory import keep_freed_memory
from .ops import OPS, OpContext

CPU_PASS_BYTES = 64 << 20


class Emulator:
    """Bit-exact twin of the Lava fixed-point simulation of `graph`, on CPU or CUDA.

    `reset_interval` reproduces lava-dl's netx `Network(reset_interval=R)`: the k-th neuron
    layer (graph order, from 0) zeroes its u and v before every time step t (from 1) with
    t % R == (k + 1) % R, so each layer's clock starts when its input first arrives, as lava-dl
    trains and records. None (default): every neuron starts from zero and is never reset.
    """

    def __init__(self, graph: Graph, device: str | torch.device = "cpu",
                 reset_interval: int | None = None):
        if reset_interval is not None and reset_interval < 1:
            raise SpikedeployError(f"reset interval must be at least 1, got {reset_interval}")
        self.graph = graph
        self.device = torch.device(device)
        if self.device.type == "cpu":
            keep_freed_memory()         # 2x faster passes: no page faults (memory.py)
        neuron_index = {name: k for k, name in enumerate(graph.neuron_names)}
        self._ops = {name: OPS[type(node)](node, OpContext(neuron_index.get(name, 0),
                                                           reset_interval))
                     for name, node in graph.nodes.items() if not isinstance(node, Input)}

    def run(self, inputs: torch.Tensor, record: Iterable[str] | None = None
            ) -> dict[str, torch.Tensor]:
        """inputs: (N, *input_shape, T) integers. Returns {node: (N, *shape, T)} for `record`.

        By default every neuron and every output node is recorded; spikes come back as uint8,
        an average readout as float64.
        """
        graph = self.graph
        expected = graph.shapes[graph.input_name]
        if tuple(inputs.shape[1:-1]) != expected:
            raise SpikedeployError(f"input of shape {tuple(inputs.shape[1:-1])} does not match "
                                   f"the network's input shape {expected}")
        keep = set(graph.neuron_names + graph.output_names if record is None else record)
        unknown = keep - set(graph.nodes)
        if unknown:
            raise SpikedeployError(f"no node named {', '.join(sorted(unknown))} in the graph")
        inputs = torch.as_tensor(inputs)
        chunk = self.samples_per_pass(inputs.shape[-1])
        if len(inputs) <= chunk:
            return self._run(inputs, keep)
        parts = [self._run(inputs[i:i + chunk], keep) for i in range(0, len(inputs), chunk)]
        return {name: torch.cat([p[name] for p in parts]) for name in parts[0]}

    def samples_per_pass(self, steps: int) -> int:
        """How many samples go through the graph together. On CPU, as many as keep one layer's
        float32 time series within CPU_PASS_BYTES, which bounds the memory a large batch takes
        (a few such series are alive at once); passes of 4 to 64 samples ran equally fast on
        the benchmark ResNet (bench/emulator_vs_lava.py), within the noise. On a GPU, all of
        them: there the batch is the parallelism."""
        if self.device.type != "cpu":
            return 1 << 62
        largest = max(int(np.prod(shape)) for shape in self.graph.shapes.values())
        return max(1, CPU_PASS_BYTES // (4 * steps * largest))

    def _run(self, inputs: torch.Tensor, keep: set[str]) -> dict[str, torch.Tensor]:
        graph = self.graph
        pending = {n: len(graph.successors(n)) for n in graph.nodes}
        values = {graph.input_name: time_major(inputs, self.device)}
        result = {}
        with torch.inference_mode():
            for name in graph.order:
                if name != graph.input_name:
                    values[name] = self._ops[name]([values[p] for p in graph.predecessors(name)])
                if name in keep:
                    result[name] = sample_major(values[name])
                for pred in graph.predecessors(name):       # free what no one reads any more
                    pending[pred] -= 1
                    if pending[pred] == 0:
                        values.pop(pred, None)
        return result


def sample_major(value: torch.Tensor | Spikes) -> torch.Tensor:
    """(T, N, *shape) -> (N, *shape, T); spikes as uint8."""
    if isinstance(value, Spikes):
        value = value.now.to(torch.uint8)
    return value.movedim(0, -1)


def time_major(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """(N, *shape, T) -> contiguous (T, N, *shape); binary data travels as uint8."""
    small = x.dtype == torch.bool or (x.numel() and int(x.min()) >= 0 and int(x.max()) <= 1)
    x = x.to(device, torch.uint8 if small else torch.int64)
    return x.movedim(-1, 0).contiguous()

"""The fast oracle: run a graph on a batch of samples with Loihi's fixed-point arithmetic.

Because every synapse delays by exactly one step, each node's whole time series can be computed
from its inputs' whole time series: nodes are evaluated once each, in topological order, batched
over samples and time. Only the neuron recursion loops over time.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from ..errors import SpikedeployError
from ..graph import Graph, Input
from .ops import OPS


class Emulator:
    """Bit-exact twin of the Lava fixed-point simulation of `graph`, on CPU or CUDA."""

    def __init__(self, graph: Graph, device: str | torch.device = "cpu"):
        self.graph = graph
        self.device = torch.device(device)
        self._ops = {name: OPS[type(node)](node) for name, node in graph.nodes.items()
                     if not isinstance(node, Input)}

    def run(self, inputs: torch.Tensor, record: Iterable[str] | None = None
            ) -> dict[str, torch.Tensor]:
        """inputs: (N, *input_shape, T) integers. Returns {node: (N, *shape, T)} for `record`.

        By default every neuron and every output node is recorded; spikes come back as uint8.
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
        pending = {n: len(graph.successors(n)) for n in graph.nodes}
        values = {graph.input_name: inputs.to(self.device, torch.int64)}
        result = {}
        for name in graph.order:
            if name != graph.input_name:
                values[name] = self._ops[name]([values[p] for p in graph.predecessors(name)])
            if name in keep:
                result[name] = values[name]
            for pred in graph.predecessors(name):       # free what no one reads any more
                pending[pred] -= 1
                if pending[pred] == 0:
                    values.pop(pred, None)
        return result

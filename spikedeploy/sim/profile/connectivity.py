"""Who connects to whom: per synapse node, the fan-out of every presynaptic neuron and the fan-in
of every postsynaptic neuron, computed once per network so that counting is a dot product.

One table, `CONNECTIVITY`, maps a synapse node type to its rule. Every rule returns the weights
the chip really uses (Lava's Dense drops the last bit of odd mixed-sign weights) and, per
presynaptic neuron, how many outgoing synapses it has:

* `fanout_all`      every synapse inside the layer's bounds, zero weights included: what the
                    chip executes for one spike when it stores the layer densely;
* `fanout_nonzero`  only synapses whose weight is not zero: NeuroBench's "effective" operations.

Padding positions are not synapses (nothing sits there), exactly as a convolution of all-ones
input counts them. Arrays are flattened in C order, the order `Flatten` and Lava's Dense use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ...graph import Conv, Dense, Flatten, Graph, Input, SumPool
from ...graph.fields import Shape
from ...graph.nodes import LIF, Node
from ..ops import lava_dense_weights


@dataclass(frozen=True)
class Connectivity:
    """One synapse node's wiring. Fan-outs are per presynaptic neuron, fan-ins per postsynaptic."""

    fanout_all: np.ndarray         # (F_in,) int64
    fanout_nonzero: np.ndarray     # (F_in,) int64
    fan_in_all: np.ndarray         # (F_out,) int64: synapses into each postsynaptic neuron
    stored_weights: int            # weights the layer stores when a kernel is shared
    weights: np.ndarray            # the weights as the chip uses them

    @property
    def synapses(self) -> int:
        return int(self.fanout_all.sum())

    @property
    def nonzero_synapses(self) -> int:
        return int(self.fanout_nonzero.sum())


def _conv_wiring(kernel: np.ndarray, input_shape: Shape, stride, padding, dilation,
                 groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(fan-out per input neuron, fan-in per output neuron) of a 0/1 kernel.

    With an all-ones input, the output holds each output neuron's fan-in; the gradient of the
    output's sum with respect to the input holds each input neuron's fan-out. Both in float64,
    exact for any layer that fits in memory.
    """
    x = torch.ones((1, *input_shape), dtype=torch.float64, requires_grad=True)
    w = torch.as_tensor(kernel, dtype=torch.float64)
    y = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y.sum().backward()
    as_int = lambda t: np.rint(t.detach().numpy()).astype(np.int64).reshape(-1)  # noqa: E731
    return as_int(x.grad), as_int(y)


def _kernel_rule(kernel: np.ndarray, input_shape: Shape, stride, padding, dilation,
                 groups: int) -> Connectivity:
    fanout_all, fan_in = _conv_wiring(np.ones_like(kernel), input_shape, stride, padding,
                                      dilation, groups)
    fanout_nonzero, _ = _conv_wiring((kernel != 0).astype(np.int64), input_shape, stride,
                                     padding, dilation, groups)
    return Connectivity(fanout_all, fanout_nonzero, fan_in, int(kernel.size), kernel)


def conv_connectivity(node: Conv, input_shape: Shape) -> Connectivity:
    return _kernel_rule(node.weight, input_shape, node.stride, node.padding, node.dilation,
                        node.groups)


def sumpool_connectivity(node: SumPool, input_shape: Shape) -> Connectivity:
    """Deployed as a depthwise convolution whose kernel is `weight` everywhere (Lava's Conv)."""
    channels = input_shape[0]
    kernel = np.full((channels, 1, *node.kernel), node.weight, dtype=np.int64)
    return _kernel_rule(kernel, input_shape, node.stride, node.padding, (1, 1), channels)


def dense_connectivity(node: Dense, input_shape: Shape) -> Connectivity:
    weights = lava_dense_weights(node.weight)
    n_out, n_in = weights.shape
    return Connectivity(np.full(n_in, n_out, np.int64), (weights != 0).sum(0).astype(np.int64),
                        np.full(n_out, n_in, np.int64), int(weights.size), weights)


CONNECTIVITY: dict[type[Node], Callable[[Node, Shape], Connectivity]] = {
    Conv: conv_connectivity, SumPool: sumpool_connectivity, Dense: dense_connectivity,
}
EVENT_SOURCES = (Input, LIF)       # nodes whose output is events (spikes or graded payloads)
RESHAPES = (Flatten,)              # nodes that only relabel their input's neurons


def event_source(graph: Graph, name: str) -> str:
    """The Input or LIF node whose events reach `name`'s input, looking through reshapes."""
    (pred,) = graph.predecessors(name)
    while isinstance(graph.nodes[pred], RESHAPES):
        (pred,) = graph.predecessors(pred)
    return pred


def synapse_names(graph: Graph) -> list[str]:
    return [n for n in graph.order if type(graph.nodes[n]) in CONNECTIVITY]


def wiring(graph: Graph) -> dict[str, Connectivity]:
    """Connectivity of every synapse node, keyed by node name."""
    return {name: CONNECTIVITY[type(graph.nodes[name])](graph.nodes[name],
                                                       graph.shapes[graph.predecessors(name)[0]])
            for name in synapse_names(graph)}


def destination(graph: Graph, synapse: str) -> str:
    """The neuron a synapse feeds (the graph guarantees exactly one)."""
    (dest,) = graph.successors(synapse)
    return dest

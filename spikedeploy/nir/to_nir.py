"""Our graph -> `nir.NIRGraph`, one converter per node type (docs/nir.md, "Export").

Values become NIR's floats by dividing our integers by powers of two (exact in float64), and
every Loihi integer NIR has no field for rides in the node's `metadata`, so `from_nir` gets
the very same graph back. Time constants are in seconds for a step of `dt` (units.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import nir
import numpy as np

from ..errors import SpikedeployError
from ..graph import LIF, Average, Conv, Dense, Flatten, Graph, Input, Node, SumPool
from .units import (
    DECAY_UNITS,
    DEFAULT_DT_SECONDS,
    DT_KEY,
    FILE_UNITS_PER_FLOAT,
    FORMAT_KEY,
    GRAPH_METADATA_KEY,
    NODE_TYPE_KEY,
    SCALE_KEY,
    check_dt,
)

# dt / tau written for a decay of 0: 2^-24, a relative leak a float simulator sees only after
# millions of steps, and 4096 * 2^-24 rounds back to a decay of exactly 0.
NIR_NO_DECAY = 2.0 ** -24

Converter = Callable[[str, Node, Graph, float], nir.NIRNode]


def to_nir(graph: Graph, dt: float = DEFAULT_DT_SECONDS) -> nir.NIRGraph:
    """The NIR graph of `graph`, with time constants for a step of `dt` seconds.

    Each of our outputs (nodes nothing reads) gets a NIR `Output` node after it.
    """
    dt = check_dt(dt)
    nodes = {name: _CONVERTERS[type(graph.nodes[name])](name, graph.nodes[name], graph, dt)
             for name in graph.order}
    edges = list(graph.edges)
    for name in graph.output_names:
        out = _unique(f"{name}_output", nodes)
        nodes[out] = nir.Output(output_type={"output": np.array(graph.shapes[name])})
        edges.append((name, out))
    metadata = {FORMAT_KEY: 1, DT_KEY: float(dt), SCALE_KEY: FILE_UNITS_PER_FLOAT,
                GRAPH_METADATA_KEY: json.dumps(graph.metadata, default=_jsonable)}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata,
                        type_check=_nir_infers_shapes_right(graph))


def _nir_infers_shapes_right(graph: Graph) -> bool:
    """nir 1.0.8's type inference takes a Conv2d's input channels from weight.shape[1]
    (ignoring groups) and both kernel sizes from weight.shape[2]: it would refuse correct
    graphs with grouped convolutions or non-square kernels, so those skip NIR's check."""
    for node in graph.nodes.values():
        if isinstance(node, Conv) and (node.groups > 1 or node.kernel[0] != node.kernel[1]):
            return False
        if isinstance(node, SumPool) and node.kernel[0] != node.kernel[1]:
            return False
    return True


def _jsonable(value):
    """numpy arrays and scalars in our metadata (netx files keep their input transform)."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _unique(name: str, taken) -> str:
    while name in taken:
        name += "_"
    return name


def _floats(values) -> np.ndarray:
    """File units -> NIR's float units (divide by 64: exact in float64)."""
    return np.asarray(values, dtype=np.float64) / FILE_UNITS_PER_FLOAT


def _input(name: str, node: Input, graph: Graph, dt: float) -> nir.NIRNode:
    return nir.Input(input_type={"input": np.array(node.shape)},
                     metadata={"message_bits": node.message_bits})


def _conv(name: str, node: Conv, graph: Graph, dt: float) -> nir.NIRNode:
    (source,) = graph.predecessors(name)
    return nir.Conv2d(input_shape=tuple(graph.shapes[source][1:]), weight=_floats(node.weight),
                      stride=node.stride, padding=node.padding, dilation=node.dilation,
                      groups=node.groups, bias=np.zeros(node.weight.shape[0]))


def _dense(name: str, node: Dense, graph: Graph, dt: float) -> nir.NIRNode:
    # weight_exp shifts the sum (floor); the float weight carries it, the metadata keeps it.
    weight = _floats(node.weight) * 2.0 ** node.weight_exp
    metadata = {"weight_exp": node.weight_exp, "netx_weight_fit": int(node.netx_weight_fit)}
    if node.delay is not None:      # NIR's Linear has no per-synapse delay: only we read it
        metadata["delay"] = node.delay
    return nir.Linear(weight=weight, metadata=metadata)


def _sumpool(name: str, node: SumPool, graph: Graph, dt: float) -> nir.NIRNode:
    """NIR's SumPool2d has no weight: a weight of 1.0 (64) is one; any other weight becomes the
    Conv2d it stands for, each channel summing only itself (not grouped: see `to_nir`), so
    every framework computes the same sums."""
    if node.weight == FILE_UNITS_PER_FLOAT:
        return nir.SumPool2d(kernel_size=np.array(node.kernel), stride=np.array(node.stride),
                             padding=np.array(node.padding))
    (source,) = graph.predecessors(name)
    channels = graph.shapes[source][0]
    weight = np.eye(channels)[:, :, None, None] * np.full(node.kernel, node.weight)
    return nir.Conv2d(input_shape=tuple(graph.shapes[source][1:]), weight=_floats(weight),
                      stride=node.stride, padding=node.padding, dilation=1, groups=1,
                      bias=np.zeros(channels), metadata={NODE_TYPE_KEY: "sumpool"})


def _flatten(name: str, node: Flatten, graph: Graph, dt: float) -> nir.NIRNode:
    (source,) = graph.predecessors(name)
    return nir.Flatten(input_type={"input": np.array(graph.shapes[source])}, start_dim=0,
                       end_dim=-1)


def _average(name: str, node: Average, graph: Graph, dt: float) -> nir.NIRNode:
    """SLAYER's Average readout is a linear map with weights 1/group: NIR's Affine."""
    (source,) = graph.predecessors(name)
    size = int(np.prod(graph.shapes[source]))
    group = size // node.outputs
    weight = np.kron(np.eye(node.outputs), np.full((1, group), 1.0 / group))
    return nir.Affine(weight=weight, bias=np.zeros(node.outputs),
                      metadata={NODE_TYPE_KEY: "average", "outputs": node.outputs})


def _lif(name: str, node: LIF, graph: Graph, dt: float) -> nir.NIRNode:
    """CubaLIF with the Euler gains of units.py; our per-channel bias becomes v_leak."""
    shape = node.shape
    du = _decay_fraction(node.current_decay_12bit)
    dv = _decay_fraction(node.voltage_decay_12bit)
    bias = _floats(node.bias_mant).reshape((-1,) + (1,) * (len(shape) - 1))
    full = np.ones(shape)
    return nir.CubaLIF(
        tau_syn=full * dt / du, tau_mem=full * dt / dv, r=full / dv,
        v_leak=full * bias / dv, v_threshold=full * _floats(node.threshold_mant),
        v_reset=np.zeros(shape), w_in=full * _input_gain(name, graph) / du,
        metadata={"threshold_mant": node.threshold_mant,
                  "current_decay_12bit": node.current_decay_12bit,
                  "voltage_decay_12bit": node.voltage_decay_12bit, "bias_mant": node.bias_mant})


def _decay_fraction(decay_12bit: int) -> float:
    """dt / tau. Loihi's "no decay" (0) would need tau, w_in and r infinite; NIR_NO_DECAY
    stands in: finite everywhere, back to 0 when rounded to 12 bits."""
    return decay_12bit / DECAY_UNITS if decay_12bit else NIR_NO_DECAY


def _input_gain(name: str, graph: Graph) -> float:
    """1 behind synapses; 1/64 for a neuron reading the input directly, whose integers enter
    the current as they are (a synapse weight of one file unit, 1/64 in float units)."""
    direct = [isinstance(graph.nodes[p], Input) for p in graph.predecessors(name)]
    if any(direct) and not all(direct):
        raise SpikedeployError(f"neuron '{name}' reads the input both directly and through "
                               "synapses; NIR's single w_in cannot give both their gains")
    return 1.0 / FILE_UNITS_PER_FLOAT if all(direct) else 1.0


_CONVERTERS: dict[type[Node], Converter] = {
    Input: _input, Conv: _conv, Dense: _dense, SumPool: _sumpool, Flatten: _flatten,
    Average: _average, LIF: _lif,
}

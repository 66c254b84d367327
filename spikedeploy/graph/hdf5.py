"""Read and write graphs as HDF5 in lava-dl's netx layout, plus extras netx ignores.

The file is a list of netx blocks `/layer/{i}`, each a synapse and the neuron it feeds, so a chain
we write loads unchanged in `lava.lib.dl.netx.hdf5.Network`. What netx cannot express is stored
where netx never looks: HDF5 attributes (node names, graded-input bits, a block's source when it
is not the previous block) and a `skip/{k}` group per extra synapse into a block's neuron (a
residual shortcut). Sum-pools are written as depthwise convolutions, which netx can run.
The full specification, with the test that checks each promise, is docs/format.md.
Reading, of our files and of lava-dl's, is in hdf5_read.py.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import h5py
import numpy as np

from ..atomic import atomic_path
from ..errors import GraphError
from .graph import Graph
from .hdf5_read import FORMAT_VERSION, VERSION_ATTR, read
from .nodes import LIF, SYNAPSE_TYPES, Average, Conv, Dense, Flatten, Input, SumPool

__all__ = ["FORMAT_VERSION", "read", "write"]


@dataclass
class _Block:
    """One netx layer: what it outputs, plus the synapses that feed its neuron."""

    output: str
    kind: str                      # 'input', 'flatten' or 'block'
    synapse: str | None = None     # the main synapse, netx's view of the block
    skips: list[str] = field(default_factory=list)
    input_node: str | None = None  # an input layer that drives a neuron directly


def write(graph: Graph, path: str | os.PathLike) -> None:
    """Write `graph` to `path` atomically: the file appears whole or not at all."""
    blocks = _blocks(graph)
    index = {b.output: i for i, b in enumerate(blocks)}
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs[VERSION_ATTR] = FORMAT_VERSION
        f.attrs["metadata"] = json.dumps(graph.metadata, sort_keys=True)
        layers = f.create_group("layer")
        for i, block in enumerate(blocks):
            group = layers.create_group(str(i))
            _BLOCK_WRITERS[block.kind](group, graph, block, index, i)


def _blocks(graph: Graph) -> list[_Block]:
    blocks: list[_Block] = []
    for name in graph.order:
        node = graph.nodes[name]
        if isinstance(node, Input):
            direct = [s for s in graph.successors(name) if isinstance(graph.nodes[s], LIF)]
            if direct and len(graph.successors(name)) > 1:
                raise GraphError(f"input '{name}' drives a neuron directly and also feeds other "
                                 "nodes; the netx layout cannot hold that")
            if not direct:
                blocks.append(_Block(name, "input"))
        elif isinstance(node, Flatten):
            blocks.append(_Block(name, "flatten"))
        elif isinstance(node, Average):
            blocks.append(_Block(name, "average"))
        elif isinstance(node, LIF):
            blocks.append(_neuron_block(graph, name, blocks))
    return blocks


def _neuron_block(graph: Graph, name: str, blocks: list[_Block]) -> _Block:
    preds = graph.predecessors(name)
    if any(isinstance(graph.nodes[p], Input) for p in preds):
        if len(preds) > 1 or blocks:
            raise GraphError(f"neuron '{name}' mixes direct input with synapses; "
                             "the netx layout cannot hold that")
        return _Block(name, "input", input_node=preds[0])
    previous = blocks[-1].output if blocks else None
    main = next((s for s in preds if graph.predecessors(s)[0] == previous), preds[0])
    return _Block(name, "block", synapse=main, skips=[s for s in preds if s != main])


def _write_str(group: h5py.Group, key: str, text: str) -> None:
    group.create_dataset(key, (1,), "S10", [text.encode("ascii")])


def _write_input(group, graph: Graph, block: _Block, index, i) -> None:
    input_name = block.input_node or block.output
    node = graph.nodes[input_name]
    _write_str(group, "type", "input")
    group.create_dataset("shape", data=np.array(node.shape))
    group.attrs["name"] = input_name
    group.attrs["message_bits"] = node.message_bits
    if block.input_node is not None:
        group.attrs["neuron_name"] = block.output
        _write_neuron(group, graph.nodes[block.output], scalar_bias=True)


def _write_flatten(group, graph: Graph, block: _Block, index, i) -> None:
    _write_str(group, "type", "flatten")
    group.create_dataset("shape", data=np.array(graph.shapes[block.output]))
    group.attrs["name"] = block.output


def _write_average(group, graph: Graph, block: _Block, index, i) -> None:
    """lava-dl's average block; it reads the previous block, so we place it right after."""
    if index[graph.predecessors(block.output)[0]] != i - 1:
        raise GraphError(f"average '{block.output}' must directly follow the neuron it reads")
    _write_str(group, "type", "average")
    group.create_dataset("shape", data=np.array(graph.shapes[block.output]))
    group.attrs["name"] = block.output


def _write_block(group, graph: Graph, block: _Block, index, i) -> None:
    _write_synapse(group, graph, block.synapse, index)
    source = index[graph.predecessors(block.synapse)[0]]
    if source != i - 1:
        group.attrs["source"] = source
    group.create_dataset("shape", data=np.array(graph.nodes[block.output].shape))
    group.attrs["name"] = block.output
    _write_neuron(group, graph.nodes[block.output])
    for k, skip in enumerate(block.skips):
        sub = group.create_group(f"skip/{k}")
        _write_synapse(sub, graph, skip, index)
        sub.attrs["source"] = index[graph.predecessors(skip)[0]]


def _write_synapse(group, graph: Graph, name: str, index) -> None:
    node = graph.nodes[name]
    group.attrs["synapse_name"] = name
    _SYNAPSE_WRITERS[type(node)](group, node, graph.shapes[graph.predecessors(name)[0]])


def _write_conv_fields(group, weight, stride, padding, dilation, groups) -> None:
    _write_str(group, "type", "conv")
    group.create_dataset("weight", data=weight)
    group.create_dataset("kernelSize", data=np.array(weight.shape[2:]))
    group.create_dataset("stride", data=np.array(stride))
    group.create_dataset("padding", data=np.array(padding))
    group.create_dataset("dilation", data=np.array(dilation))
    group.create_dataset("groups", data=groups)
    group.create_dataset("inChannels", data=weight.shape[1] * groups)
    group.create_dataset("outChannels", data=weight.shape[0])


def _write_conv(group, node: Conv, input_shape) -> None:
    _write_conv_fields(group, node.weight, node.stride, node.padding, node.dilation, node.groups)


def _write_sumpool(group, node: SumPool, input_shape) -> None:
    channels = input_shape[0]
    weight = np.full((channels, 1, *node.kernel), node.weight, dtype=np.int64)
    _write_conv_fields(group, weight, node.stride, node.padding, (1, 1), channels)
    group.attrs["op"] = "sumpool"


def _write_dense(group, node: Dense, input_shape) -> None:
    _write_str(group, "type", "dense")
    group.create_dataset("weight", data=node.weight)
    group.create_dataset("inFeatures", data=node.weight.shape[1])
    group.create_dataset("outFeatures", data=node.weight.shape[0])
    if node.weight_exp:
        group.attrs["weight_exp"] = node.weight_exp
    if node.delay is not None:
        group.create_dataset("delay", data=node.delay)
    if node.netx_weight_fit:      # netx always refits; the attribute tells our own reader
        group.attrs["weight_fit"] = "netx"


def _write_neuron(group, node: LIF, scalar_bias: bool = False) -> None:
    bias = node.bias_mant
    if scalar_bias:     # netx's Input block reads one int bias for the whole layer
        if (bias != bias[0]).any():
            raise GraphError("an input layer's neuron needs one bias for all channels")
        bias = bias[0]
    group.create_dataset("bias", data=bias)
    _write_str(group, "neuron/type", "CUBA")
    group.create_dataset("neuron/iDecay", data=node.current_decay_12bit)
    group.create_dataset("neuron/vDecay", data=node.voltage_decay_12bit)
    group.create_dataset("neuron/vThMant", data=node.threshold_mant)
    group.create_dataset("neuron/refDelay", data=1)
    group.create_dataset("neuron/gradedSpike", data=False)


_BLOCK_WRITERS = {"input": _write_input, "flatten": _write_flatten, "average": _write_average,
                  "block": _write_block}
_SYNAPSE_WRITERS = {Conv: _write_conv, SumPool: _write_sumpool, Dense: _write_dense}
assert set(_SYNAPSE_WRITERS) == set(SYNAPSE_TYPES)

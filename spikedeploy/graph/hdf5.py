"""Read and write graphs as HDF5 in lava-dl's netx layout, plus extras netx ignores.

The file is a list of netx blocks `/layer/{i}`, each a synapse and the neuron it feeds, so a chain
we write loads unchanged in `lava.lib.dl.netx.hdf5.Network`. What netx cannot express is stored
where netx never looks: HDF5 attributes (node names, graded-input bits, a block's source when it
is not the previous block) and a `skip/{k}` group per extra synapse into a block's neuron (a
residual shortcut). Sum-pools are written as depthwise convolutions, which netx can run.
The full specification, with the test that checks each promise, is docs/format.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from ..atomic import atomic_path
from ..errors import GraphError, SpikedeployError
from .graph import Graph
from .nodes import LIF, SYNAPSE_TYPES, Conv, Dense, Flatten, Input, Node, SumPool, as_pair

FORMAT_VERSION = 1
VERSION_ATTR = "spikedeploy_format_version"
CUBA_TYPES = ("CUBA", "LOIHI")


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
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


_BLOCK_WRITERS = {"input": _write_input, "flatten": _write_flatten, "block": _write_block}
_SYNAPSE_WRITERS = {Conv: _write_conv, SumPool: _write_sumpool, Dense: _write_dense}
assert set(_SYNAPSE_WRITERS) == set(SYNAPSE_TYPES)


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
@dataclass
class _Reader:
    """Accumulates nodes and edges while the layers are read in order."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)   # node each layer outputs, by index

    def add(self, name: str, node: Node) -> str:
        if name in self.nodes:
            raise GraphError(f"node name '{name}' is used twice")
        self.nodes[name] = node
        return name

    def source(self, index: int, layer: int) -> str:
        if not 0 <= index < len(self.outputs) or self.outputs[index] is None:
            raise GraphError(f"layer {layer} reads from layer {index}, which does not come "
                             "before it")
        return self.outputs[index]


def read(path: str | os.PathLike) -> Graph:
    """Read a graph from our files or from netx files written by lava-dl.

    Every problem becomes one SpikedeployError naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.is_file():
        raise SpikedeployError("no such file", path)
    try:
        with h5py.File(path, "r") as f:
            return _read_file(f)
    except SpikedeployError as err:
        raise SpikedeployError(err.message, path) from None
    except (OSError, KeyError, ValueError, TypeError, IndexError) as err:
        raise SpikedeployError(f"not a readable network file ({_reason(err)})", path) from None


def _reason(err: Exception) -> str:
    text = str(err).strip().split("\n")[0]
    if isinstance(err, OSError) and ("signature" in text or "truncated" in text
                                     or "Unable to" in text):
        return "truncated or corrupt HDF5"
    return text or type(err).__name__


def _read_file(f: h5py.File) -> Graph:
    _refuse_links_out(f)
    version = f.attrs.get(VERSION_ATTR)
    if version is not None and int(version) != FORMAT_VERSION:
        raise GraphError(f"format version {int(version)} is not supported "
                         f"(this spikedeploy reads version {FORMAT_VERSION})")
    metadata = json.loads(f.attrs["metadata"]) if "metadata" in f.attrs else {}
    if "layer" not in f:
        raise GraphError("no /layer group: not a netx network description")
    layers = f["layer"]
    keys = sorted(layers.keys(), key=lambda k: int(k) if k.isdigit() else -1)
    if [k for k in keys] != [str(i) for i in range(len(keys))]:
        raise GraphError(f"/layer must hold groups 0..N-1, found {list(layers.keys())}")
    reader = _Reader()
    for i, key in enumerate(keys):
        group = layers[key]
        kind = _read_str(group, "type", f"layer {i}")
        if kind not in _LAYER_READERS:
            raise GraphError(f"layer {i}: unknown layer type '{kind}'")
        try:
            reader.outputs.append(_LAYER_READERS[kind](group, reader, i))
        except GraphError as err:
            raise GraphError(f"layer {i} ({kind}): {err.message}") from None
    return Graph(reader.nodes, reader.edges, metadata)


def _refuse_links_out(f: h5py.File) -> None:
    """Hostile-file guard: never follow links or storage that point outside this file."""
    def visit(group: h5py.Group, prefix: str) -> None:
        for key in group.keys():
            link = group.get(key, getlink=True)
            where = f"{prefix}/{key}"
            if not isinstance(link, h5py.HardLink):
                raise GraphError(f"{where} is a {type(link).__name__}; links are refused")
            obj = group[key]
            if isinstance(obj, h5py.Group):
                visit(obj, where)
            elif obj.is_virtual or obj.external:
                raise GraphError(f"{where} stores its data outside the file; refused")
    visit(f, "")


def _read_str(group: h5py.Group, key: str, where: str) -> str:
    if key not in group:
        raise GraphError(f"{where}: missing '{key}'")
    value = group[key][()]
    if isinstance(value, np.ndarray):
        value = value.flat[0] if value.size else b""
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _read_array(group: h5py.Group, key: str) -> np.ndarray:
    if key not in group:
        raise GraphError(f"missing '{key}'")
    if not isinstance(group[key], h5py.Dataset):
        raise GraphError(f"'{key}' is not a dataset")
    return np.asarray(group[key][()])


def _read_optional(group: h5py.Group, key: str, default):
    return _read_array(group, key) if key in group else default


def _read_input(group, reader: _Reader, i: int) -> str:
    name = str(group.attrs.get("name", "input"))
    bits = int(group.attrs.get("message_bits", 0))
    shape = tuple(int(s) for s in _read_array(group, "shape"))
    reader.add(name, Input(shape=shape, message_bits=bits))
    if "neuron" not in group:
        return name
    neuron = reader.add(str(group.attrs.get("neuron_name", f"layer{i}")),
                        _read_neuron(group, shape))
    reader.edges.append((name, neuron))
    return neuron


def _read_flatten(group, reader: _Reader, i: int) -> str:
    name = reader.add(str(group.attrs.get("name", f"layer{i}")), Flatten())
    reader.edges.append((reader.source(i - 1, i), name))
    return name


def _read_block(group, reader: _Reader, i: int) -> str:
    if "shape" not in group:
        raise GraphError("missing 'shape'")
    shape = tuple(int(s) for s in _read_array(group, "shape"))
    lif = _read_neuron(group, shape)
    neuron = str(group.attrs.get("name", f"layer{i}"))
    main_source = int(group.attrs.get("source", i - 1))
    _add_synapse(group, reader, i, main_source, neuron, default_name=f"{neuron}_synapse")
    skips = group["skip"] if "skip" in group else {}
    for k in sorted(skips.keys(), key=int):
        sub = skips[k]
        if "source" not in sub.attrs:
            raise GraphError(f"skip {k} has no 'source' attribute")
        _add_synapse(sub, reader, i, int(sub.attrs["source"]), neuron,
                     default_name=f"{neuron}_skip{k}")
    return reader.add(neuron, lif)


def _add_synapse(group, reader: _Reader, i: int, source: int, neuron: str,
                 default_name: str) -> None:
    kind = _read_str(group, "type", f"layer {i}")
    if kind not in _SYNAPSE_READERS:
        raise GraphError(f"unknown synapse type '{kind}'")
    name = reader.add(str(group.attrs.get("synapse_name", default_name)),
                      _SYNAPSE_READERS[kind](group))
    reader.edges += [(reader.source(source, i), name), (name, neuron)]


def _read_conv(group) -> Node:
    weight = _read_array(group, "weight")
    if weight.ndim == 5 and weight.shape[-1] == 1:      # SLAYER keeps a trailing time axis
        weight = weight[..., 0]
    stride = as_pair(_read_optional(group, "stride", 1), "stride")
    padding = as_pair(_read_optional(group, "padding", 0), "padding")
    if group.attrs.get("op") == "sumpool":
        if weight.ndim != 4 or weight.size == 0 or (weight != weight.flat[0]).any():
            raise GraphError("a sum-pool must have one constant weight")
        return SumPool(kernel=weight.shape[2:], weight=weight.flat[0], stride=stride,
                       padding=padding)
    return Conv(weight=weight, stride=stride, padding=padding,
                dilation=_read_optional(group, "dilation", 1),
                groups=int(_read_optional(group, "groups", 1)))


def _read_pool(group) -> Node:
    """lava-dl's own pool layer: a (1, 1, kH, kW) kernel of one repeated weight."""
    weight = _read_array(group, "weight").reshape(-1)
    if weight.size == 0 or (weight != weight[0]).any():
        raise GraphError("a sum-pool must have one constant weight")
    kernel = as_pair(_read_optional(group, "kernelSize", None), "kernelSize")
    return SumPool(kernel=kernel, weight=weight[0],
                   stride=as_pair(_read_optional(group, "stride", kernel), "stride"),
                   padding=as_pair(_read_optional(group, "padding", 0), "padding"))


def _read_dense(group) -> Node:
    weight = _read_array(group, "weight")
    if weight.ndim > 2:
        weight = weight.reshape(weight.shape[0], -1)
    return Dense(weight=weight, weight_exp=int(group.attrs.get("weight_exp", 0)))


def _read_neuron(group, shape) -> LIF:
    if "neuron" not in group:
        raise GraphError("missing 'neuron'")
    neuron = group["neuron"]
    kind = _read_str(neuron, "type", "neuron")
    if kind not in CUBA_TYPES:
        raise GraphError(f"neuron type '{kind}' is not supported (only CUBA)")
    bias = _read_optional(group, "bias", None)
    if bias is not None:
        bias = _per_channel_bias(np.asarray(bias), shape)
    return LIF(shape=shape,
               threshold_mant=_read_array(neuron, "vThMant"),
               current_decay_12bit=_read_array(neuron, "iDecay"),
               voltage_decay_12bit=_read_array(neuron, "vDecay"),
               bias_mant=bias)


def _per_channel_bias(bias: np.ndarray, shape) -> np.ndarray:
    if bias.ndim == 0:
        return np.full(shape[0], bias)
    if bias.shape == (shape[0],):
        return bias
    raise GraphError(f"bias of shape {bias.shape} is not one value per channel of {shape}")


_LAYER_READERS = {"input": _read_input, "flatten": _read_flatten, "conv": _read_block,
                  "dense": _read_block, "pool": _read_block}
_SYNAPSE_READERS = {"conv": _read_conv, "dense": _read_dense, "pool": _read_pool}

"""Read network files: ours (docs/format.md) and plain netx files written by lava-dl.

Each netx block becomes nodes through one reader per block type (`_LAYER_READERS`) and one per
synapse type (`_SYNAPSE_READERS`). Plain netx files, which have no format version, are read as
lava-dl's netx builds them (graph/netx.py), so ground truth recorded with lava-dl applies.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from ..errors import GraphError, SpikedeployError
from .fields import as_pair
from .graph import Graph
from .netx import DEFAULT_DENSE_NEURON, expand_delay
from .nodes import LIF, Average, Conv, Dense, Flatten, Input, Node, SumPool

FORMAT_VERSION = 1
VERSION_ATTR = "spikedeploy_format_version"
CUBA_TYPES = ("CUBA", "LOIHI")
# What h5py and numpy raise on a damaged file: HDF5's C library reports corrupt structures as
# OSError or RuntimeError ("Link iteration failed"), values of the wrong kind surface as
# KeyError / ValueError / TypeError / IndexError / OverflowError (tests/graph/test_fuzz.py).
_DAMAGE = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError, OverflowError)
# Block types of lava-dl's format that spikedeploy does not run, and why.
_REFUSED_LAYERS = {
    "concat": "concatenation", "convT": "transposed convolution", "unpool": "unpooling",
    "dense_rec": "recurrent dense", "dense_comp": "complex dense",
}


@dataclass
class _Reader:
    """Accumulates nodes and edges while the layers are read in order."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)   # node each layer outputs, by index
    netx: bool = False            # a plain netx file: read it the way lava-dl's netx builds it
    notes: dict = field(default_factory=dict)          # what netx ignores, kept as metadata

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
    except _DAMAGE as err:
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
    layers = _group(f, "layer", "/")
    keys = sorted(layers.keys(), key=lambda k: int(k) if k.isdigit() else -1)
    if [k for k in keys] != [str(i) for i in range(len(keys))]:
        raise GraphError(f"/layer must hold groups 0..N-1, found {list(layers.keys())}")
    reader = _Reader(netx=version is None)
    for i, key in enumerate(keys):
        group = _group(layers, key, "/layer")
        kind = _read_str(group, "type", f"layer {i}")
        if kind in _REFUSED_LAYERS:
            raise GraphError(f"layer {i}: '{kind}' blocks ({_REFUSED_LAYERS[kind]}) are not "
                             "supported")
        if kind not in _LAYER_READERS:
            raise GraphError(f"layer {i}: unknown layer type '{kind}'")
        try:
            reader.outputs.append(_LAYER_READERS[kind](group, reader, i))
        except GraphError as err:
            raise GraphError(f"layer {i} ({kind}): {err.message}") from None
    return Graph(reader.nodes, reader.edges, {**reader.notes, **metadata})


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
            elif not isinstance(obj, h5py.Dataset):      # e.g. a committed Datatype
                raise GraphError(f"{where} is a {type(obj).__name__}, not a group or dataset")
            elif obj.is_virtual or obj.external:
                raise GraphError(f"{where} stores its data outside the file; refused")
    visit(f, "")


def _group(parent: h5py.Group, key: str, where: str) -> h5py.Group:
    """parent[key], which the format says is a group (a dataset there has no members)."""
    obj = parent[key]
    if not isinstance(obj, h5py.Group):
        raise GraphError(f"{where}: '{key}' must be a group, found a dataset")
    return obj


def _index(key: str) -> int:
    if not key.isdigit():
        raise GraphError(f"'{key}' is not a numbered group (0, 1, ...)")
    return int(key)


def _read_str(group: h5py.Group, key: str, where: str) -> str:
    if key not in group:
        raise GraphError(f"{where}: missing '{key}'")
    if not isinstance(group[key], h5py.Dataset):
        raise GraphError(f"{where}: '{key}' is not a dataset")
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
                        _read_neuron(group, shape, bias=not reader.netx))
    if reader.netx:
        # netx keeps an input block's `weight` and `bias` as a transform for the caller to apply
        # to the data and gives its neuron no bias (netx/hdf5.py, create_input); so do we.
        transform = {k: float(_read_array(group, k).reshape(-1)[0])
                     for k in ("weight", "bias") if k in group}
        if transform:
            reader.notes["netx_input_transform"] = transform
    reader.edges.append((name, neuron))
    return neuron


def _read_flatten(group, reader: _Reader, i: int) -> str:
    source = reader.source(i - 1, i)
    node = reader.nodes[source]
    if reader.netx and isinstance(node, Input) and not reader.edges:
        # netx connects a flattened input straight to the dense block after it: the data is
        # then a vector (neuron, time), in the order of the flattened (C, H, W) input.
        reader.nodes[source] = Input(shape=(int(np.prod(node.shape)),),
                                     message_bits=node.message_bits)
        return source
    name = reader.add(str(group.attrs.get("name", f"layer{i}")), Flatten())
    reader.edges.append((source, name))
    return name


def _read_average(group, reader: _Reader, i: int) -> str:
    outputs = int(np.prod(_read_array(group, "shape")))
    name = reader.add(str(group.attrs.get("name", f"layer{i}")), Average(outputs))
    reader.edges.append((reader.source(i - 1, i), name))
    return name


def _read_block(group, reader: _Reader, i: int) -> str:
    if "shape" not in group:
        raise GraphError("missing 'shape'")
    shape = tuple(int(s) for s in _read_array(group, "shape"))
    if _read_str(group, "type", f"layer {i}") == "dense":
        shape = (int(np.prod(shape)),)            # netx flattens a dense block's shape
    lif = _read_neuron(group, shape, default=DEFAULT_DENSE_NEURON if reader.netx else None)
    neuron = str(group.attrs.get("name", f"layer{i}"))
    main_source = int(group.attrs.get("source", i - 1))
    _add_synapse(group, reader, i, main_source, neuron, default_name=f"{neuron}_synapse")
    skips = _group(group, "skip", "block") if "skip" in group else {}
    for k in sorted(skips.keys(), key=_index):
        sub = _group(skips, k, "skip")
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
                      _SYNAPSE_READERS[kind](group, reader.netx))
    reader.edges += [(reader.source(source, i), name), (name, neuron)]


def _read_conv(group, netx: bool) -> Node:
    if "delay" in group:
        raise GraphError("axonal delays on a conv block are not supported (netx ignores them "
                         "and Lava's Conv has none)")
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


def _read_pool(group, netx: bool) -> Node:
    """lava-dl's own pool layer: a (1, 1, kH, kW) kernel of one repeated weight."""
    weight = _read_array(group, "weight").reshape(-1)
    if weight.size == 0 or (weight != weight[0]).any():
        raise GraphError("a sum-pool must have one constant weight")
    kernel = as_pair(_read_optional(group, "kernelSize", None), "kernelSize")
    return SumPool(kernel=kernel, weight=weight[0],
                   stride=as_pair(_read_optional(group, "stride", kernel), "stride"),
                   padding=as_pair(_read_optional(group, "padding", 0), "padding"))


def _read_dense(group, netx: bool) -> Node:
    weight = _read_array(group, "weight")
    if weight.ndim == 1:        # netx reshapes a vector to (outFeatures, -1)
        weight = weight.reshape(int(_read_array(group, "outFeatures")), -1)
    if weight.ndim > 2:
        weight = weight.reshape(weight.shape[0], -1)
    delay = _read_optional(group, "delay", None)
    if delay is not None:
        delay = expand_delay(delay, weight.shape)
    return Dense(weight=weight, weight_exp=int(group.attrs.get("weight_exp", 0)), delay=delay,
                 netx_weight_fit=netx or group.attrs.get("weight_fit") == "netx")


def _read_neuron(group, shape, bias: bool = True, default: dict | None = None) -> LIF:
    if "neuron" not in group:
        if default is None:
            raise GraphError("missing 'neuron'")
        fields = default
    else:
        fields = _read_cuba_fields(_group(group, "neuron", "block"))
    bias_mant = _read_optional(group, "bias", None) if bias else None
    if bias_mant is not None:
        bias_mant = _per_channel_bias(np.asarray(bias_mant), shape)
    return LIF(shape=shape, threshold_mant=fields["vThMant"],
               current_decay_12bit=fields["iDecay"], voltage_decay_12bit=fields["vDecay"],
               bias_mant=bias_mant)


def _read_cuba_fields(neuron: h5py.Group) -> dict:
    kind = _read_str(neuron, "type", "neuron")
    if kind == "SDNN":
        raise GraphError("SDNN (sigma-delta) neurons are not supported: spikedeploy runs CUBA "
                         "LIF networks only")
    if kind not in CUBA_TYPES:
        raise GraphError(f"neuron type '{kind}' is not supported (only CUBA)")
    if "messageBits" in neuron and int(_read_array(neuron, "messageBits")):
        raise GraphError("graded-spike CUBA neurons (messageBits > 0) are not supported")
    return {key: _read_array(neuron, key) for key in ("vThMant", "iDecay", "vDecay")}


def _per_channel_bias(bias: np.ndarray, shape) -> np.ndarray:
    if bias.ndim == 0:
        return np.full(shape[0], bias)
    if bias.shape == (shape[0],):
        return bias
    raise GraphError(f"bias of shape {bias.shape} is not one value per channel of {shape}")


_LAYER_READERS = {"input": _read_input, "flatten": _read_flatten, "conv": _read_block,
                  "dense": _read_block, "pool": _read_block, "average": _read_average}
_SYNAPSE_READERS = {"conv": _read_conv, "dense": _read_dense, "pool": _read_pool}

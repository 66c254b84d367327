"""NIR graph -> our graph on Loihi's fixed point, with a quantization report (docs/nir.md).

Three passes: each NIR node becomes a float part (parts.py, one converter per NIR type); each
neuron's input gain (NIR's w_in and r) is folded into the synapses that feed it, since Loihi's
gains are 1; then one weight scale for the whole network turns floats into integers.
"""

from __future__ import annotations

import json

import nir
import numpy as np

from ..errors import GraphError, SpikedeployError
from ..graph import Average, Graph, Input
from .parts import CONVERTERS, Neuron, Readout, Synapse, Unmappable, per_channel, uniform
from .quantize import Scale, choose_scale, quantize_neuron, quantize_synapse
from .report import QuantizationReport
from .units import DEFAULT_DT_SECONDS, DT_KEY, FORMAT_KEY, GRAPH_METADATA_KEY, SCALE_KEY, check_dt


def from_nir(graph: nir.NIRGraph, dt: float | None = None) -> tuple[Graph, QuantizationReport]:
    """Our graph for `graph`, and what quantizing it cost.

    `dt`: seconds per Loihi step; default the file's own `dt` (files we wrote) or 1e-4 s
    (snnTorch's). Raises SpikedeployError naming every node that has no Loihi equivalent.
    """
    dt = check_dt(graph.metadata.get(DT_KEY, DEFAULT_DT_SECONDS) if dt is None else dt)
    parts = _convert_all(graph, dt)
    edges = [(a, b) for a, b in graph.edges if parts[a] is not None and parts[b] is not None]
    direct = _fold_gains(parts, edges)
    scale = _scale_for(graph, parts)
    report = QuantizationReport(scale.value, scale.source, dt)
    report.not_mapped = {n: "dropped: an output is whatever nothing reads"
                         for n, p in parts.items() if p is None}
    nodes = {name: _quantize(name, part, graph.nodes[name], scale, report)
             for name, part in parts.items() if part is not None}
    _check_direct_inputs(direct, parts, scale)
    try:
        ours = Graph(nodes, edges, _metadata(graph, dt, scale))
    except GraphError as err:
        raise SpikedeployError(f"the NIR graph does not fit spikedeploy's graph: "
                               f"{err.message}") from None
    return ours, report


def _convert_all(graph: nir.NIRGraph, dt: float) -> dict:
    parts, refused = {}, []
    for name, node in graph.nodes.items():
        converter = CONVERTERS.get(type(node))
        try:
            if converter is None:
                raise Unmappable("not a NIR type spikedeploy knows")
            parts[name] = converter(node, dt)
        except (Unmappable, GraphError) as why:      # GraphError: e.g. an input of 2 axes
            refused.append(f"cannot map NIR node '{name}' ({type(node).__name__}): {why}")
    if refused:
        raise SpikedeployError("; ".join(refused))
    return parts


def _fold_gains(parts: dict, edges: list[tuple[str, str]]) -> list[str]:
    """Multiply each synapse by the gain of the neuron it feeds; move synapse biases into the
    neuron. Returns the neurons that read the input directly (no synapse to fold into)."""
    direct = []
    for src, dst in edges:
        neuron, source = parts[dst], parts[src]
        if not isinstance(neuron, Neuron):
            continue
        if isinstance(source, Input):
            direct.append(dst)
        elif isinstance(source, Synapse):
            try:
                _fold_into(source, neuron)
            except Unmappable as why:
                raise SpikedeployError(f"cannot map NIR node '{dst}' fed by '{src}': {why}") \
                    from None
    return direct


def _fold_into(synapse: Synapse, neuron: Neuron) -> None:
    if synapse.kind == "dense":
        gain = neuron.gain.reshape(-1)
        synapse.weight = synapse.weight * gain[:, None]
    elif synapse.kind == "conv":
        gain = per_channel(neuron.gain, neuron.shape, "the input gain (w_in, r)")
        synapse.weight = synapse.weight * gain.reshape(-1, 1, 1, 1)
    else:
        gain = uniform(neuron.gain, "the input gain (w_in, r)")
        synapse.weight = synapse.weight * gain
    if synapse.bias is not None and np.any(synapse.bias):
        if neuron.du != 1.0:   # a constant into a decaying current is not a constant into v
            raise Unmappable("a synapse bias is exact on Loihi only when the neuron keeps no "
                             "current (tau_syn = dt); use bias=False or a LIF neuron")
        neuron.bias = neuron.bias + np.broadcast_to(gain, synapse.bias.shape) * synapse.bias
    synapse.bias = None


def _scale_for(graph: nir.NIRGraph, parts: dict) -> Scale:
    if graph.metadata.get(FORMAT_KEY) is not None and SCALE_KEY in graph.metadata:
        return Scale(float(graph.metadata[SCALE_KEY]), "written by spikedeploy", grid=1)
    synapses = [p for p in parts.values() if isinstance(p, Synapse)]
    neurons = [p for p in parts.values() if isinstance(p, Neuron)]
    return choose_scale(synapses, neurons)


def _quantize(name: str, part, node: nir.NIRNode, scale: Scale, report: QuantizationReport):
    try:
        return _quantize_part(name, part, type(node).__name__, scale, report)
    except GraphError as err:     # a value our node refuses, e.g. a stride of 0
        raise SpikedeployError(f"cannot map NIR node '{name}' ({type(node).__name__}): "
                               f"{err.message}") from None


def _quantize_part(name: str, part, kind: str, scale: Scale, report: QuantizationReport):
    if isinstance(part, Synapse):
        ours, rounding = quantize_synapse(name, kind, part, scale)
        report.synapses.append(rounding)
        return ours
    if isinstance(part, Neuron):
        ours, rounding = quantize_neuron(name, kind, part, scale)
        report.neurons.append(rounding)
        return ours
    if isinstance(part, Readout):
        return Average(part.outputs)
    return part             # Input and Flatten are already ours


def _check_direct_inputs(direct: list[str], parts: dict, scale: Scale) -> None:
    """Loihi adds input integers to the current as they are: the gain must be one file unit."""
    for name in direct:
        file_units = parts[name].gain * scale.value
        if not np.allclose(file_units, 1.0, rtol=1e-6):
            raise SpikedeployError(
                f"NIR node '{name}' reads the input directly with gain "
                f"{float(np.max(parts[name].gain)):.4g}, {float(np.max(file_units)):.4g} file "
                "units at this weight scale; Loihi adds input values as they are (1): put a "
                "Linear or Conv2d in between")


def _metadata(graph: nir.NIRGraph, dt: float, scale: Scale) -> dict:
    if GRAPH_METADATA_KEY in graph.metadata:
        try:
            return json.loads(graph.metadata[GRAPH_METADATA_KEY])
        except (TypeError, ValueError):
            pass
    return {"nir_import": {"dt": dt, "weight_scale": scale.value, "source": scale.source}}

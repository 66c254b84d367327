"""Trained SpikingNetwork -> graph, on the chip's fixed-point grid, without touching the model.

One converter per layer type. Weights go through the destination neuron's own 8-bit quantizer
(the same function quantization-aware training used), so the exported integers are exactly what
the quantized forward pass computed with. Anything the chip cannot run is refused with a clear
error naming the layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import torch
from lava.lib.dl.slayer.neuron import cuba
from lava.lib.dl.slayer.neuron.norm import MeanOnlyBatchNorm
from lava.lib.dl.slayer.synapse import layer as synapse
from torch import nn

from ..errors import GraphError, SpikedeployError
from ..graph import LIF, Conv, Dense, Flatten, Graph, Input, Node, SumPool
from .checks import LAVA_GROUPS_MAX, check_weight_grid, regroup


class Exportable(Protocol):
    """What export needs of a trained network (train.network.SpikingNetwork provides it)."""

    layers: nn.ModuleDict
    edges: list[tuple[str, str]]
    order: list[str]
    input_name: str
    input_shape: tuple[int, ...]
    input_message_bits: int

    def neuron_for(self, synapse_name: str) -> cuba.Neuron: ...


class ExportError(SpikedeployError):
    """The trained model holds something Loihi cannot run."""


def _weight(module: nn.Module) -> torch.Tensor:
    """The synapse's float weight, also under weight normalization, without changing it."""
    if getattr(module, "weight_norm_enabled", False):
        return torch._weight_norm(module.weight_v, module.weight_g, 0)
    return module.weight


# Neuron `norm` module type -> how it scales the weights of every synapse into its neuron
# (batch-norm folding). Train registers its own; training's forward pass applies the same.
WEIGHT_FOLDS: dict[type, Callable[[nn.Module, torch.Tensor], torch.Tensor]] = {}


def grid_weight(model: Exportable, name: str) -> np.ndarray:
    """Float weight -> integer file units (w * 64): folded by the destination neuron's norm if
    it folds, then through that neuron's quantizer, as the quantized forward pass does."""
    neuron = model.neuron_for(name)
    weight = _weight(model.layers[name]).detach().clone()
    fold = WEIGHT_FOLDS.get(type(neuron.norm))
    if fold is not None:
        try:
            weight = fold(neuron.norm, weight)
        except SpikedeployError as err:
            raise ExportError(f"layer '{name}': {err.message}") from None
    weight = neuron.quantize_8bit(weight, descale=True)
    return check_weight_grid(weight.cpu().numpy(), name)


def _pair(value, name: str, what: str) -> tuple[int, int]:
    value = tuple(int(v) for v in value)
    if len(value) == 3 and value[2] not in (0, 1):
        raise ExportError(f"layer '{name}': {what} along time is not supported")
    return value[0], value[1]


def export_conv(model: Exportable, name: str, shapes) -> Node:
    module = model.layers[name]
    weight, groups = regroup(grid_weight(model, name)[..., 0], module.groups)
    return Conv(weight=weight, stride=_pair(module.stride, name, "stride"),
                padding=_pair(module.padding, name, "padding"),
                dilation=_pair(module.dilation, name, "dilation"), groups=groups)


def export_dense(model: Exportable, name: str, shapes) -> Node:
    weight = grid_weight(model, name)
    return Dense(weight=weight.reshape(weight.shape[0], -1))


def export_pool(model: Exportable, name: str, shapes) -> Node:
    module = model.layers[name]
    kernel = _pair(module.kernel_size, name, "kernel")
    stride = _pair(module.stride, name, "stride")
    (source,) = [a for a, b in model.edges if b == name]
    size = shapes[source][1:]
    # SLAYER's Pool pads odd-sized inputs on its own; only exact tilings deploy bit-exactly.
    if stride != kernel or any(module.padding) or size[0] % kernel[0] or size[1] % kernel[1]:
        raise ExportError(f"layer '{name}': sum-pool must tile its {size[0]}x{size[1]} input "
                          f"exactly (stride == kernel, no padding); got kernel {kernel}, "
                          f"stride {stride}")
    weight = int(grid_weight(model, name).reshape(-1)[0])
    channels = shapes[source][0]
    if channels <= LAVA_GROUPS_MAX:
        return SumPool(kernel=kernel, weight=weight, stride=stride)
    # Too many channels for Lava's depthwise conv: the same sum as a grouped conv.
    depthwise = np.full((channels, 1, *kernel), weight, np.int64)
    wide, groups = regroup(depthwise, channels)
    return Conv(weight=wide, stride=stride, groups=groups)


def _mean_only_bias(norm: MeanOnlyBatchNorm) -> torch.Tensor:
    return norm.bias                  # SLAYER's own: -(quantized running mean) * 64


# Neuron `norm` module type -> its per-channel bias in bias_mant units (train adds its own).
BIAS_RULES: dict[type, Callable[[nn.Module], torch.Tensor]] = {
    MeanOnlyBatchNorm: _mean_only_bias,
}


def neuron_bias_mant(neuron: cuba.Neuron, channels: int, name: str) -> np.ndarray:
    if neuron.norm is None:
        return np.zeros(channels, np.int64)
    rule = BIAS_RULES.get(type(neuron.norm))
    if rule is None:
        raise ExportError(f"layer '{name}': no bias rule for norm {type(neuron.norm).__name__}")
    value = rule(neuron.norm).detach().reshape(-1).expand(channels)
    return torch.round(value).to(torch.int64).cpu().numpy()


def export_neuron(model: Exportable, name: str, shapes) -> Node:
    neuron = model.layers[name]
    if neuron.graded_spike:
        raise ExportError(f"layer '{name}': graded-spike neurons are not supported")
    if not neuron.shared_param:
        raise ExportError(f"layer '{name}': per-channel decays are not supported")
    (shape,) = {shapes[p] for p in [a for a, b in model.edges if b == name]}
    return LIF(shape=shape, threshold_mant=neuron.v_th_mant,
               current_decay_12bit=int(neuron.cx_current_decay),
               voltage_decay_12bit=int(neuron.cx_voltage_decay),
               bias_mant=neuron_bias_mant(neuron, shape[0], name))


def export_flatten(model: Exportable, name: str, shapes) -> Node:
    return Flatten()


# Layer module type -> converter. Training code registers its own layer types here.
EXPORTERS: dict[type, Callable[[Exportable, str, dict], Node]] = {
    synapse.Conv: export_conv, synapse.Dense: export_dense, synapse.Pool: export_pool,
    cuba.Neuron: export_neuron,
}


@torch.no_grad()
def export_model(model: Exportable, metadata: dict | None = None) -> Graph:
    """The graph of `model` on the chip's grid. The model's parameters and mode are unchanged."""
    nodes: dict[str, Node] = {model.input_name: Input(shape=model.input_shape,
                                                      message_bits=model.input_message_bits)}
    shapes = {model.input_name: nodes[model.input_name].shape}
    for name in model.order:
        module = model.layers[name]
        converter = EXPORTERS.get(type(module))
        if converter is None:
            raise ExportError(f"layer '{name}' of type {type(module).__name__} cannot run on "
                              f"Loihi (supported: {', '.join(c.__name__ for c in EXPORTERS)})")
        nodes[name] = converter(model, name, shapes)
        preds = [a for a, b in model.edges if b == name]
        try:
            shapes[name] = nodes[name].output_shape([shapes[p] for p in preds])
        except GraphError as err:
            raise ExportError(f"layer '{name}': {err.message}") from None
    return Graph(nodes, model.edges, metadata or {})

"""CUBA neurons for training, and the `norm` modules that act on their input current.

SLAYER's CUBA neuron has no bias term of its own; it applies an optional `norm` module to its
current u before the voltage integrates it, so v integrates norm(u). Lava's LIF adds
bias_mant << 6 to v each step; with SLAYER's state scale of 4096 that is u + b with
b = bias_mant / 64. So a per-channel shift there is exactly the chip's bias, and a per-channel
scale there is exactly a scale of every weight into the neuron (u is linear in them): batch
normalization of the current folds into the synapses' weights and the neuron's bias.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from lava.lib.dl.slayer.neuron import cuba
from lava.lib.dl.slayer.neuron.norm import MeanOnlyBatchNorm
from lava.lib.dl.slayer.utils import quantize
from torch import nn

from ..config import NeuronConfig
from ..errors import ConfigError, SpikedeployError
from ..export.exporter import BIAS_RULES, WEIGHT_FOLDS
from ..graph.fields import BIAS_MANT_MAX, BIAS_MANT_MIN

BIAS_STEP = 1 / 64      # one bias_mant unit in SLAYER's units


def grid_bias(bias: torch.Tensor) -> torch.Tensor:
    """A bias on the chip's grid (13-bit bias_mant, bias_exp 6), straight-through gradient."""
    return quantize(bias, step=BIAS_STEP).clamp(BIAS_MANT_MIN * BIAS_STEP,
                                                BIAS_MANT_MAX * BIAS_STEP)


def _per_channel(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(C,) -> broadcastable against `like`, whose channels are dimension 1: (N, C, ..., T)."""
    return values.reshape((1, -1) + (1,) * (like.dim() - 2))


class CurrentBias(nn.Module):
    """A learnable bias per channel, on the chip's bias grid (13-bit bias_mant, bias_exp 6)."""

    def __init__(self, num_features: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(num_features))

    def quantized_bias(self) -> torch.Tensor:
        return grid_bias(self.bias)

    def forward(self, current: torch.Tensor) -> torch.Tensor:
        return current + _per_channel(self.quantized_bias(), current)


class CurrentBatchNorm(nn.Module):
    """Batch normalization of a neuron's input current, folded for the chip.

    Training: u' = gamma (u - mean) / sqrt(var + eps) + beta, with mean and var per channel
    over batch, space and time, and running estimates kept as torch's BatchNorm keeps them
    (biased variance to normalize, unbiased for the running estimate). This is the batch
    normalization of input currents that makes deep spiking ResNets trainable in Ledinauskas
    et al. 2020 ("Training deep spiking neural networks", arXiv:2006.04436), at the place
    where SLAYER applies `norm`.

    Folded (evaluation mode, or `frozen` for quantization-aware training): the synapses into
    the neuron compute with W * scale, scale = gamma / sqrt(running_var + eps) per output
    channel (see `FoldedWeight`), and the neuron adds the bias beta - scale * running_mean on
    the chip's 1/64 grid. That is the exported network, operation for operation.
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(num_features))        # gamma
        self.bias = nn.Parameter(torch.zeros(num_features))         # beta
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.frozen = False          # set by SpikingNetwork.set_quantized

    @property
    def folded(self) -> bool:
        return self.frozen or not self.training

    def scale(self) -> torch.Tensor:
        return self.weight / torch.sqrt(self.running_var + self.eps)

    def fold_weight(self, weight: torch.Tensor) -> torch.Tensor:
        """A synapse weight (out, in, kH, kW, kT) times the scale of its output channel."""
        if weight.shape[0] != self.weight.shape[0]:
            raise SpikedeployError(f"batch norm over {self.weight.shape[0]} channels cannot fold "
                                   f"into a synapse with {weight.shape[0]} output channels (a "
                                   "sum-pool has one weight for all channels)")
        return weight * self.scale().reshape((-1,) + (1,) * (weight.dim() - 1))

    def folded_bias(self) -> torch.Tensor:
        return grid_bias(self.bias - self.scale() * self.running_mean)

    def forward(self, current: torch.Tensor) -> torch.Tensor:
        if self.folded:
            return current + _per_channel(self.folded_bias(), current)
        dims = [0] + list(range(2, current.dim()))
        mean = current.mean(dims)
        var = current.var(dims, unbiased=False)
        with torch.no_grad():
            count = current.numel() / current.shape[1]
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(var * count / max(count - 1, 1), self.momentum)
        scale = self.weight / torch.sqrt(var + self.eps)
        return (current - _per_channel(mean, current)) * _per_channel(scale, current) \
            + _per_channel(self.bias, current)


class FoldedWeight:
    """pre_hook_fx of a synapse into a batch-normalized neuron: W * scale while the norm is
    folded, then the chip's 8-bit grid when `quantizer` is given. Export computes the same
    (WEIGHT_FOLDS, then the same quantizer)."""

    def __init__(self, norm: CurrentBatchNorm, quantizer: Callable | None):
        self.norm, self.quantizer = norm, quantizer

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        if self.norm.folded:
            weight = self.norm.fold_weight(weight)
        return weight if self.quantizer is None else self.quantizer(weight)


NORMS = {"none": None, "bias": CurrentBias, "batch": CurrentBatchNorm,
         "mean_only": MeanOnlyBatchNorm}
# A per-channel scale cannot fold into a sum-pool (one weight for all channels): neurons fed
# only by pools take this norm instead.
UNSCALABLE_FALLBACK = {"batch": "bias"}


def make_neuron(cfg: NeuronConfig, channels: int, scalable: bool = True) -> cuba.Neuron:
    """A CUBA neuron with `cfg`'s norm; `scalable`: its input weights can absorb a scale."""
    if cfg.norm not in NORMS:
        raise ConfigError(f"unknown neuron norm '{cfg.norm}'; known: {', '.join(NORMS)}")
    norm = NORMS[cfg.norm if scalable else UNSCALABLE_FALLBACK.get(cfg.norm, cfg.norm)]
    return cuba.Neuron(
        threshold=cfg.threshold, current_decay=cfg.current_decay,
        voltage_decay=cfg.voltage_decay, tau_grad=cfg.tau_grad, scale_grad=cfg.scale_grad,
        # Sized up front: a checkpoint's per-channel tensors must fit before the first forward.
        norm=None if norm is None else functools.partial(norm, num_features=channels))


def synapse_weight_hook(neuron: cuba.Neuron, quantized: bool) -> Callable | None:
    """What a synapse into `neuron` computes with: its weight, folded by the neuron's batch
    norm if it has one, on the chip's grid when `quantized` (straight-through gradients)."""
    quantizer = neuron.quantize_8bit if quantized else None
    if isinstance(neuron.norm, CurrentBatchNorm):
        return FoldedWeight(neuron.norm, quantizer)
    return quantizer


def freeze_norm(neuron: cuba.Neuron, frozen: bool) -> None:
    """Quantization-aware training runs batch norm folded with its running statistics, so its
    forward pass is the exported network's (batch-norm folding in quantized training: Jacob et
    al. 2018, arXiv:1712.05877, sec. 3.2)."""
    if isinstance(neuron.norm, CurrentBatchNorm):
        neuron.norm.frozen = frozen


BIAS_RULES[CurrentBias] = lambda norm: norm.quantized_bias() / BIAS_STEP
BIAS_RULES[CurrentBatchNorm] = lambda norm: norm.folded_bias() / BIAS_STEP
WEIGHT_FOLDS[CurrentBatchNorm] = CurrentBatchNorm.fold_weight

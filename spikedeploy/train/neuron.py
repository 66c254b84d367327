"""CUBA neurons for training, and the modules that give them a per-channel bias.

SLAYER's CUBA neuron has no bias term of its own; it applies an optional `norm` module to its
current before the voltage integrates it, so v integrates u + b. Lava's LIF adds
bias_mant << 6 to v each step; with SLAYER's state scale of 4096 that is b = bias_mant / 64.
"""

from __future__ import annotations

import functools

import torch
from lava.lib.dl.slayer.neuron import cuba
from lava.lib.dl.slayer.neuron.norm import MeanOnlyBatchNorm
from lava.lib.dl.slayer.utils import quantize
from torch import nn

from ..config import NeuronConfig
from ..errors import ConfigError
from ..export.exporter import BIAS_RULES
from ..graph.nodes import BIAS_MANT_MAX, BIAS_MANT_MIN

BIAS_STEP = 1 / 64      # one bias_mant unit in SLAYER's units


class CurrentBias(nn.Module):
    """A learnable bias per channel, on the chip's bias grid (13-bit bias_mant, bias_exp 6)."""

    def __init__(self, num_features: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(num_features))

    def quantized_bias(self) -> torch.Tensor:
        return quantize(self.bias, step=BIAS_STEP).clamp(BIAS_MANT_MIN * BIAS_STEP,
                                                         BIAS_MANT_MAX * BIAS_STEP)

    def forward(self, current: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (current.dim() - 2)
        return current + self.quantized_bias().reshape(shape)


NORMS = {"none": None, "bias": CurrentBias, "mean_only": MeanOnlyBatchNorm}


def make_neuron(cfg: NeuronConfig, channels: int) -> cuba.Neuron:
    if cfg.norm not in NORMS:
        raise ConfigError(f"unknown neuron norm '{cfg.norm}'; known: {', '.join(NORMS)}")
    norm = NORMS[cfg.norm]
    return cuba.Neuron(
        threshold=cfg.threshold, current_decay=cfg.current_decay,
        voltage_decay=cfg.voltage_decay, tau_grad=cfg.tau_grad, scale_grad=cfg.scale_grad,
        # Sized up front: a checkpoint's per-channel tensors must fit before the first forward.
        norm=None if norm is None else functools.partial(norm, num_features=channels))


def _current_bias_mant(norm: CurrentBias) -> torch.Tensor:
    return norm.quantized_bias() / BIAS_STEP


BIAS_RULES[CurrentBias] = _current_bias_mant

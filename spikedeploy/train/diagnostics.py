"""Gradient-flow diagnostics: does the gradient reach every layer, through depth and time?

A deep spiking network trains only if the surrogate gradient neither explodes nor vanishes on
its way back through the layers and the time steps (Ledinauskas et al. 2020, "Training Deep
Spiking Neural Networks", section 3: they tune the surrogate's width and height for this).
The measure, per synapse with trainable weights, in the order the network computes them (the
depth index): the root mean square of d(loss)/d(weight) over the synapse's weights, i.e. the
gradient's L2 norm divided by sqrt(number of weights), so that a 3x3x3x64 stem and a 512x2048
layer compare. It is taken after each optimizer step's backward pass (after DDP's all-reduce:
the global batch's gradient) and averaged over the steps of an epoch.

A layer is flagged when its value leaves [grad_rms_min, grad_rms_max], or when it is more than
grad_ratio_max times above or below the median of all layers' values that epoch (a gradient
that grows or shrinks geometrically with depth shows here first).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import torch
from lava.lib.dl.slayer.neuron import cuba
from torch import nn

from ..config import DiagnosticsConfig


@dataclass(frozen=True)
class Surrogate:
    """SLAYER's surrogate spike derivative, in the neuron's voltage units (threshold's units):

        d spike / d v = peak * exp(-|v - threshold| / width)
        width = TAU_RHO_MULT * tau_grad * threshold
        peak = SCALE_RHO_MULT * scale_grad / (2 * width)

    with SLAYER's cuba constants TAU_RHO_MULT = 100 and SCALE_RHO_MULT = 0.1: `tau_grad` sets
    the width, `scale_grad` the area (the height for a given width).
    """

    width: float
    peak: float


def surrogate_of(neuron: cuba.Neuron) -> Surrogate:
    width = cuba.TAU_RHO_MULT * neuron.tau_rho
    return Surrogate(width, cuba.SCALE_RHO_MULT * neuron.scale_rho / (2 * width))


def monitored_synapses(model: nn.Module) -> list[str]:
    """Synapses with trainable weights, in the network's computation order (input first)."""
    return [name for name in model.order
            if isinstance(getattr(model.layers[name], "weight", None), nn.Parameter)
            and model.layers[name].weight.requires_grad]


class GradientMonitor:
    """Accumulates per-synapse weight-gradient RMS over the steps of one epoch."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.names = monitored_synapses(model)
        self._sum: torch.Tensor | None = None
        self._steps = 0

    @torch.no_grad()
    def record(self) -> None:
        """Call after backward, before the optimizer step. Stays on the device (no sync)."""
        rms = torch.stack([_grad_rms(self.model.layers[n].weight) for n in self.names])
        self._sum = rms if self._sum is None else self._sum + rms
        self._steps += 1

    def epoch_means(self) -> dict[str, float]:
        """Mean gradient RMS per synapse since the last call, then start over."""
        if self._sum is None:
            return {}
        means = (self._sum / self._steps).tolist()
        self._sum, self._steps = None, 0
        return dict(zip(self.names, means, strict=True))


def _grad_rms(weight: nn.Parameter) -> torch.Tensor:
    if weight.grad is None:           # no gradient reached it at all: vanished
        return torch.zeros((), device=weight.device)
    return torch.linalg.vector_norm(weight.grad.detach().float()) / weight.numel() ** 0.5


def gradient_warnings(grad_rms: dict[str, float], cfg: DiagnosticsConfig) -> list[str]:
    """One line per layer whose gradient RMS explodes or vanishes, by the rules above."""
    if not grad_rms:
        return []
    median = statistics.median(grad_rms.values())
    warnings = []
    for name, rms in grad_rms.items():
        problem = _problem(rms, median, cfg)
        if problem:
            warnings.append(f"{name}: gradient {problem}")
    return warnings


def _problem(rms: float, median: float, cfg: DiagnosticsConfig) -> str:
    if not math.isfinite(rms):
        return f"explodes (RMS {rms})"
    if rms > cfg.grad_rms_max:
        return f"explodes (RMS {rms:.3g} > diagnostics.grad_rms_max {cfg.grad_rms_max:g})"
    if rms < cfg.grad_rms_min:
        return f"vanishes (RMS {rms:.3g} < diagnostics.grad_rms_min {cfg.grad_rms_min:g})"
    if not median > 0:                # most layers got no gradient: flagged above already
        return ""
    if rms > cfg.grad_ratio_max * median:
        return (f"explodes (RMS {rms:.3g} is {rms / median:.3g} x the median {median:.3g}; "
                f"diagnostics.grad_ratio_max {cfg.grad_ratio_max:g})")
    if rms * cfg.grad_ratio_max < median:
        return (f"vanishes (RMS {rms:.3g} is 1/{median / rms:.3g} of the median {median:.3g}; "
                f"diagnostics.grad_ratio_max {cfg.grad_ratio_max:g})")
    return ""

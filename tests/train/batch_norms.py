"""Batch norms in a state worth testing: statistics of real data and random affine parameters."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def give_batch_norms_statistics(model: nn.Module, x: torch.Tensor, passes: int) -> None:
    """`passes` training-mode forward passes over `x` (running statistics that are not the
    initial 0 and 1), then scales in [0.5, 2] and shifts in [-0.5, 0.5]: a fold that ignored
    any of them would show."""
    model.train()
    for _ in range(passes):
        model(x)
    for name, param in model.named_parameters():
        if name.endswith("norm.weight"):
            param.uniform_(0.5, 2.0)
        elif name.endswith("norm.bias"):
            param.uniform_(-0.5, 0.5)

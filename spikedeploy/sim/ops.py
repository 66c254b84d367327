"""One integer-exact operation per node type: node -> function(list of inputs) -> output.

Tensors are (N, *shape, T). A synapse's output at step t is computed from its input at t-1
(Lava's Dense and Conv send what they computed in the previous step), so every synapse ends with
`_one_step_later`. Convolutions run in floating point for speed; `_exact_dtype` picks a dtype
whose mantissa holds every partial sum exactly, so the results are the integers Lava computes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..graph.nodes import LIF, Conv, Dense, Flatten, Input, Node, SumPool
from .lif import LIFParams, lif_run

Op = Callable[[list[torch.Tensor]], torch.Tensor]
CONV_OUTPUT_BITS = 24           # Lava's fixed-point Conv wraps its output to signed 24 bits


def _exact_dtype(max_abs_weight: int, max_abs_input: int, fan_in: int) -> torch.dtype:
    """float32 is exact while every partial sum stays below 2^24, float64 below 2^53."""
    bound = max_abs_weight * max_abs_input * fan_in
    if bound < 2**24:
        return torch.float32
    if bound < 2**53:
        return torch.float64
    raise OverflowError(f"synaptic sums up to {bound} cannot be computed exactly")


def _wrap_signed(x: torch.Tensor, bits: int) -> torch.Tensor:
    half = 1 << (bits - 1)
    return (x + half) % (2 * half) - half


def _one_step_later(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    out[..., 1:] = x[..., :-1]
    return out


def _max_abs(x: torch.Tensor) -> int:
    return int(x.abs().max()) if x.numel() else 0


def _conv_frames(x: torch.Tensor, weight: np.ndarray, stride, padding, dilation, groups):
    """Apply a 2-D convolution to every frame of x: (N, C, H, W, T) -> (N, C', H', W', T)."""
    n, c, h, w, t = x.shape
    fan_in = int(np.prod(weight.shape[1:]))
    dtype = _exact_dtype(int(np.abs(weight).max(initial=0)), _max_abs(x), fan_in)
    frames = x.permute(0, 4, 1, 2, 3).reshape(n * t, c, h, w).to(dtype)
    kernel = torch.as_tensor(weight, dtype=dtype, device=x.device)
    y = F.conv2d(frames, kernel, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = torch.round(y).to(torch.int64)
    y = y.reshape(n, t, *y.shape[1:]).permute(0, 2, 3, 4, 1)
    return _wrap_signed(y, CONV_OUTPUT_BITS)


def conv_op(node: Conv) -> Op:
    def run(inputs):
        (x,) = inputs
        return _one_step_later(_conv_frames(x, node.weight, node.stride, node.padding,
                                            node.dilation, node.groups))
    return run


def sumpool_op(node: SumPool) -> Op:
    def run(inputs):
        (x,) = inputs
        channels = x.shape[1]
        weight = np.full((channels, 1, *node.kernel), node.weight, dtype=np.int64)
        return _one_step_later(_conv_frames(x, weight, node.stride, node.padding, (1, 1),
                                            channels))
    return run


def lava_dense_weights(weight: np.ndarray) -> np.ndarray:
    """The weights Lava's bit-accurate Dense model really uses (8 weight bits, its default).

    It picks a sign mode from the weights, clips to 8 bits in that mode, and in mixed-sign mode
    drops the least significant bit (the sign takes one of the 8 bits): odd weights round down.
    """
    w = weight.astype(np.int64)
    if w.min(initial=0) >= 0:                       # excitatory: 0..255, all bits kept
        return np.clip(w, 0, 255)
    if w.max(initial=0) <= 0:                       # inhibitory: -255..0, all bits kept
        return np.clip(w, -255, 0)
    return (np.clip(w, -256, 255) >> 1) << 1        # mixed: floor to even


def dense_op(node: Dense) -> Op:
    weight = lava_dense_weights(node.weight)
    fan_in = weight.shape[1]

    def run(inputs):
        (x,) = inputs                               # (N, F, T)
        dtype = _exact_dtype(int(np.abs(weight).max(initial=0)), _max_abs(x), fan_in)
        w = torch.as_tensor(weight, dtype=dtype, device=x.device)
        y = torch.round(torch.einsum("of,nft->not", w, x.to(dtype))).to(torch.int64)
        y = y << node.weight_exp if node.weight_exp >= 0 else y >> -node.weight_exp
        return _one_step_later(y)
    return run


def lif_op(node: LIF) -> Op:
    params = {}

    def run(inputs):
        activation = inputs[0] if len(inputs) == 1 else torch.stack(inputs).sum(0)
        device = activation.device
        if device not in params:
            params[device] = LIFParams.from_node(node, device)
        return lif_run(activation, params[device])
    return run


def flatten_op(node: Flatten) -> Op:
    return lambda inputs: inputs[0].reshape(inputs[0].shape[0], -1, inputs[0].shape[-1])


def input_op(node: Input) -> Op:
    raise TypeError("the input node is fed with data, not computed")


OPS: dict[type[Node], Callable[[Node], Op]] = {
    Input: input_op, Conv: conv_op, SumPool: sumpool_op, Dense: dense_op, LIF: lif_op,
    Flatten: flatten_op,
}

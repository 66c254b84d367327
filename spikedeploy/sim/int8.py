"""Convolutions of spikes in 8-bit integer arithmetic on CPU (oneDNN's int8 kernels), exactly.

Why: on CPUs with 8-bit dot-product instructions (AVX-512 VNNI, AVX-VNNI, ARM dot product)
oneDNN multiplies 8-bit numbers four times as fast as it multiplies float32 numbers, and a
spike is one bit. PyTorch reaches those kernels through `torch.ops.onednn.qconv2d_pointwise`,
the operator its own int8 inference (torch.ao quantization, x86 inductor) uses; we call it
with unit scales and zero offsets, so no rounding step of quantization is involved.

Why the result is exact. The input is spikes, 0 or 1, as uint8; each weight is w = m * 2^k
with an 8-bit mantissa m in [-128, 127] and k per output channel (`int8_weights`). oneDNN
multiplies u8 by s8 and adds the products into int32 accumulators. With VNNI, four products
go straight into int32 (vpdpbusd, no saturation); without it, pairs of products are first
added in int16 (vpmaddubsw, which saturates beyond +-32767), but a pair of 0/1 times [-128,
127] lies within +-256, so nothing saturates. The int32 total is at most 128 * fan_in in
magnitude, far below 2^31 for any layer the format can hold (`exact.exact_dtype` refuses
fan-ins that large). The accumulator then becomes float32 and is multiplied by the channel's
scale 2^k (oneDNN's "dequantization"): both exact while the result stays below 2^24, which
the caller checks (the same bound as its float32 path). Only binary inputs take this path;
graded inputs (8-bit pixels) could saturate the int16 pairs on CPUs without VNNI.

Belt and braces: before first use, `int8_exact_here` runs one convolution with extreme values
through both paths and uses int8 only if they agree bit for bit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

MANTISSA_MIN, MANTISSA_MAX = -128, 127


def int8_weights(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """weight (C', C/g, kh, kw) integers -> (int8 mantissas, float32 per-channel scales 2^k)
    with mantissa * scale == weight exactly, or None when some channel has no such form.
    The smallest k that fits is taken, so the scale is 1 whenever the weights are 8-bit."""
    rows = np.asarray(weight, dtype=np.int64).reshape(weight.shape[0], -1)
    exponents = [_exponent(row) for row in rows]
    if None in exponents:
        return None
    shifts = np.array(exponents, dtype=np.int64)[:, None]
    mantissas = (rows >> shifts).astype(np.int8).reshape(weight.shape)
    return mantissas, np.ldexp(1.0, shifts[:, 0]).astype(np.float32)


def _exponent(row: np.ndarray) -> int | None:
    """The smallest k that brings row / 2^k into [-128, 127], if it divides every entry (a
    larger k cannot divide what this one does not)."""
    k = 0
    while row.min(initial=0) >> k < MANTISSA_MIN or row.max(initial=0) >> k > MANTISSA_MAX:
        k += 1
    return None if np.any(row % (1 << k)) else k


@dataclass(frozen=True)
class Int8Conv:
    """One convolution's prepacked int8 weights: call with (frames, C, H, W) uint8 spikes in
    channels-last layout, get the float32 sums (channels-last), exact integers."""

    packed: torch.Tensor
    scales: torch.Tensor
    stride: list[int]
    padding: list[int]
    dilation: list[int]
    groups: int

    @classmethod
    def build(cls, mantissas: np.ndarray, scales: np.ndarray, stride, padding, dilation,
              groups: int) -> Int8Conv:
        scale = torch.from_numpy(scales)
        stride, padding, dilation = list(stride), list(padding), list(dilation)
        packed = torch.ops.onednn.qconv_prepack(torch.from_numpy(mantissas), scale, 1.0, 0,
                                                stride, padding, dilation, groups, None)
        return cls(packed, scale, stride, padding, dilation, groups)

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        offsets = torch.zeros(len(self.scales), dtype=torch.int64)
        return torch.ops.onednn.qconv2d_pointwise(
            frames, 1.0, 0, self.packed, self.scales, offsets, None, self.stride, self.padding,
            self.dilation, self.groups, 1.0, 0, torch.float32, "none", [], "")


@functools.lru_cache(maxsize=256)
def _cached_conv(key, stride, padding, dilation, groups) -> Int8Conv | None:
    data, shape = key
    fitted = int8_weights(np.frombuffer(data, np.int64).reshape(shape))
    return None if fitted is None else Int8Conv.build(*fitted, stride, padding, dilation, groups)


def int8_conv(weight: np.ndarray, stride, padding, dilation, groups: int) -> Int8Conv | None:
    """The int8 convolution for these integer weights, prepacked once per weight array; None
    when the weights have no 8-bit form or this machine's int8 kernels are not exact."""
    if not int8_exact_here():
        return None
    w = np.ascontiguousarray(weight, dtype=np.int64)
    return _cached_conv((w.tobytes(), w.shape), tuple(stride), tuple(padding), tuple(dilation),
                        int(groups))


@functools.cache
def int8_exact_here() -> bool:
    """Does oneDNN's int8 convolution exist here and equal the float one on extreme values
    (all-ones spikes against -128 and 127 weights, and random ones)?"""
    if not (torch.backends.mkldnn.is_available() and hasattr(torch.ops.onednn, "qconv_prepack")):
        return False
    rng = np.random.default_rng(0)
    weight = rng.integers(MANTISSA_MIN, MANTISSA_MAX + 1, (16, 64, 3, 3))
    weight[:4], weight[4:8] = MANTISSA_MIN, MANTISSA_MAX
    spikes = torch.from_numpy(rng.random((3, 64, 6, 6)) < 0.5).to(torch.uint8)
    spikes[0] = 1
    spikes = spikes.contiguous(memory_format=torch.channels_last)
    try:
        conv = Int8Conv.build(*int8_weights(weight), (1, 1), (1, 1), (1, 1), 1)
        got = conv(spikes)
    except RuntimeError:                # an int8 kernel this CPU or build does not have
        return False
    expected = F.conv2d(spikes.to(torch.float64), torch.from_numpy(weight).to(torch.float64),
                        padding=1)
    return bool(torch.equal(got.to(torch.float64), expected))

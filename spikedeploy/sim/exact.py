"""Integer sums computed in floating point, exactly, and Lava's rounding of the results.

Why floating point is exact here: a convolution or dense product of integers is a sum of integer
products. If |weight| * |input| * fan_in < 2^24 (float32) or < 2^53 (float64), every product and
every partial sum, in whatever order the backend adds them, is an integer the format represents
exactly; so the float result is the exact integer, whatever the blocking or thread split.
`exact_dtype` checks that bound for every call and refuses what no float holds.

What could still break it is a backend that does not compute plain sums of products: Winograd
or FFT convolutions (NNPACK on CPU, some cuDNN algorithms) and TF32 (rounds inputs to 10-bit
mantissas on recent NVIDIA GPUs). `exact_backends` turns all of these off around our calls: on
CPU convolutions then run in oneDNN's direct algorithm or im2col + GEMM, on CUDA in PyTorch's
own im2col + cuBLAS GEMM without TF32.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
import torch
import torch.nn.functional as F

CONV_OUTPUT_BITS = 24           # Lava's fixed-point Conv wraps its output to signed 24 bits
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def exact_dtype(max_abs_weight: int, max_abs_input: int, fan_in: int) -> torch.dtype:
    """float32 is exact while every partial sum stays below 2^24, float64 below 2^53."""
    bound = max_abs_weight * max_abs_input * fan_in
    if bound < 2**24:
        return torch.float32
    if bound < 2**53:
        return torch.float64
    raise OverflowError(f"synaptic sums up to {bound} cannot be computed exactly")


@contextlib.contextmanager
def exact_backends():
    """No Winograd/FFT convolutions, no TF32 (see the module docstring)."""
    matmul_tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.backends.nnpack.flags(enabled=False), \
                torch.backends.cudnn.flags(enabled=False, allow_tf32=False):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul_tf32


def max_abs(x: torch.Tensor) -> int:
    if x.dtype in (torch.bool, torch.uint8):       # spikes: 0 or 1, no need to look
        return 1 if x.numel() else 0
    return int(x.abs().max()) if x.numel() else 0


def conv_frames(x: torch.Tensor, weight: np.ndarray, stride, padding, dilation, groups
                ) -> torch.Tensor:
    """2-D cross-correlation of every frame: (T, N, C, H, W) -> (T, N, C', H', W'), exact,
    as float32/float64 holding integers."""
    steps, n, *frame = x.shape
    dtype = exact_dtype(int(np.abs(weight).max(initial=0)), max_abs(x),
                        int(np.prod(weight.shape[1:])))
    kernel = _as_tensor(weight, dtype, x.device)
    with exact_backends():
        y = F.conv2d(x.reshape(steps * n, *frame).to(dtype), kernel, stride=stride,
                     padding=padding, dilation=dilation, groups=groups)
    return y.reshape(steps, n, *y.shape[1:])


def dense_frames(x: torch.Tensor, weight: np.ndarray) -> torch.Tensor:
    """(T, N, F) @ weight.T -> (T, N, O) as exact int64."""
    dtype = exact_dtype(int(np.abs(weight).max(initial=0)), max_abs(x), weight.shape[1])
    with exact_backends():
        y = x.to(dtype) @ _as_tensor(weight, dtype, x.device).T
    return torch.round(y).to(torch.int64)


@functools.lru_cache(maxsize=256)
def _cached_tensor(key, dtype, device):
    data, shape = key
    return torch.tensor(np.frombuffer(data, np.int64).reshape(shape), dtype=dtype, device=device)


def _as_tensor(weight: np.ndarray, dtype, device) -> torch.Tensor:
    """Weights as a tensor of `dtype` on `device`, converted once per weight array."""
    w = np.ascontiguousarray(weight, dtype=np.int64)
    return _cached_tensor((w.tobytes(), w.shape), dtype, torch.device(device))


def lava_conv_output(y: torch.Tensor) -> torch.Tensor:
    """Exact float sums -> what Lava's fixed-point Conv sends, as int32.

    Lava casts its float64 sums to int32 (`astype(weight.dtype)`, lava/proc/conv/utils.py) and
    then wraps to signed 24 bits. Sums outside int32 (only possible in float64, see
    exact_dtype) become what numpy's cast gives on this machine: INT32_MIN on x86, saturation
    on ARM; `_int32_cast_of_overflow` asks numpy.
    """
    y = torch.round(y).to(torch.int64)       # exact already; rounding guards the cast only
    if y.numel() and (y.max() > INT32_MAX or y.min() < INT32_MIN):
        above, below = _int32_cast_of_overflow()
        y = torch.where(y > INT32_MAX, above, torch.where(y < INT32_MIN, below, y))
    half = 1 << (CONV_OUTPUT_BITS - 1)
    return (((y + half) & (2 * half - 1)) - half).to(torch.int32)


@functools.cache
def _int32_cast_of_overflow() -> tuple[int, int]:
    with np.errstate(invalid="ignore"):
        cast = np.array([2.0**40, -(2.0**40)]).astype(np.int32)
    return int(cast[0]), int(cast[1])


def lava_dense_weights(weight: np.ndarray, num_weight_bits: int = 8) -> np.ndarray:
    """The weights Lava's bit-accurate Dense model really uses (lava/proc/dense/models.py with
    lava/utils/weightutils.py: clip_weights to 8 bits, then truncate_weights).

    The sign mode comes from the weights: all >= 0 excitatory (0..255), all <= 0 inhibitory
    (-255..0), else mixed (-256..255, the sign takes a bit). Truncation then drops the low
    8 - num_weight_bits bits, one more when mixed (odd mixed weights round down with 8 bits);
    inhibitory weights are truncated by magnitude.
    """
    w = np.asarray(weight, dtype=np.int64)
    if w.min(initial=0) >= 0:
        return _drop_low_bits(np.clip(w, 0, 255), 8 - num_weight_bits)
    if w.max(initial=0) <= 0:
        return -_drop_low_bits(np.clip(-w, 0, 255), 8 - num_weight_bits)
    return _drop_low_bits(np.clip(w, -256, 255), 8 - num_weight_bits + 1)


def _drop_low_bits(w: np.ndarray, bits: int) -> np.ndarray:
    return (w >> bits) << bits

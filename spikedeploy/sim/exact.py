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
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import SpikedeployError
from .int8 import Int8Conv, int8_conv
from .lif import in_logical_order, memory_order

CONV_MEMORY_FORMAT = torch.channels_last
CONV_OUTPUT_BITS = 24           # Lava's fixed-point Conv wraps its output to signed 24 bits
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


class NotExactError(SpikedeployError, OverflowError):
    """The emulator cannot reproduce Lava's arithmetic for these values: one line for the user
    (a SpikedeployError), and an OverflowError for code that checks for one."""


def exact_dtype(max_abs_weight: int, max_abs_input: int, fan_in: int) -> torch.dtype:
    """float32 is exact while every partial sum stays below 2^24, float64 below 2^53."""
    bound = max_abs_weight * max_abs_input * fan_in
    if bound < 2**24:
        return torch.float32
    if bound < 2**53:
        return torch.float64
    raise NotExactError(f"synaptic sums up to {bound} cannot be computed exactly in floating "
                        "point (2^53 at most)")


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


def spike_dtype(device: torch.device) -> torch.dtype:
    """How spikes are stored: uint8 on CPU, the input of the int8 convolutions (int8.py);
    float32 elsewhere, the input of float convolutions."""
    return torch.uint8 if device.type == "cpu" else torch.float32


@dataclass(frozen=True)
class Spikes:
    """A neuron layer's output over time: `delayed` is (T + 1, N, *shape), of `spike_dtype`,
    with an empty frame 0, so `delayed[:-1]` is what a synapse reads (one step later) without
    another pass over memory, and `delayed[1:]` the spikes themselves."""

    delayed: torch.Tensor

    @property
    def now(self) -> torch.Tensor:
        return self.delayed[1:]

    @property
    def shape(self) -> torch.Size:
        return self.now.shape

    @property
    def device(self) -> torch.device:
        return self.delayed.device

    def reshape(self, *shape) -> Spikes:
        return Spikes(self.delayed.reshape(self.delayed.shape[0], *shape[1:]))


def max_abs(x: torch.Tensor | Spikes) -> int:
    if isinstance(x, Spikes) or x.dtype in (torch.bool, torch.uint8):    # 0 or 1, no need to look
        return 1 if x.shape.numel() else 0
    return int(x.abs().max()) if x.numel() else 0


def one_step_later(x: torch.Tensor | Spikes, dtype: torch.dtype) -> torch.Tensor:
    """(T, ...) -> the same frames one step later as `dtype`, zeros at step 0: a synapse's
    input, shifted so that its output lands where Lava delivers it (one pass, or none)."""
    if isinstance(x, Spikes):
        earlier = x.delayed[:-1]
        return earlier if earlier.dtype == dtype else earlier.to(dtype)
    shifted = torch.empty(x.shape, dtype=dtype, device=x.device)
    shifted[0] = 0
    shifted[1:] = x[:-1]
    return shifted


@dataclass(frozen=True)
class ExactSums:
    """Float tensor of exact integer sums, and a bound on their magnitude."""

    values: torch.Tensor
    bound: int


def conv_frames(x: torch.Tensor, weight: np.ndarray, stride, padding, dilation, groups
                ) -> ExactSums:
    """Lava's Conv over time: (T, N, C, H, W) -> (T, N, C', H', W') exact sums, where frame t is
    the 2-D cross-correlation of input frame t - 1 (frame 0 is zero)."""
    steps, n, *frame = x.shape
    fan_in = int(np.prod(weight.shape[1:]))
    peak = max_abs(x)                    # a pass over graded input: once
    bound = int(np.abs(weight).max(initial=0)) * peak * fan_in
    dtype = exact_dtype(bound, 1, 1)
    if groups == frame[0] == weight.shape[0] and weight.shape[2:] == (1, 1) \
            and tuple(stride) == (1, 1) and tuple(padding) == (0, 0):
        y = _channel_scale(x, weight, dtype)
        return ExactSums(y.reshape(steps, n, *y.shape[1:]), bound)
    fast = _int8_conv_for(x, peak, dtype, weight, stride, padding, dilation, groups)
    if fast is not None:
        y = fast(_spike_frames(x))
        return ExactSums(y.reshape(steps, n, *y.shape[1:]), bound)
    frames = one_step_later(x, dtype).reshape(steps * n, *frame)
    kernel = _as_tensor(weight, dtype, x.device)
    with exact_backends():
        # channels-last: oneDNN's fastest layout on CPU; the neuron kernel keeps it
        y = F.conv2d(frames, kernel.contiguous(memory_format=CONV_MEMORY_FORMAT),
                     stride=stride, padding=padding, dilation=dilation, groups=groups)
    return ExactSums(y.reshape(steps, n, *y.shape[1:]), bound)


def _channel_scale(x: torch.Tensor | Spikes, weight: np.ndarray, dtype: torch.dtype
                   ) -> torch.Tensor:
    """A depthwise 1x1 conv (an identity shortcut) is a per-channel scale: (T * N, C, H, W)
    frames of `dtype`, in the input's memory layout. The product runs on the layout in memory
    with the channel last, in place after one conversion: torch's broadcasting multiply with
    a type promotion was 25x slower (measured)."""
    earlier = one_step_later(x, x.delayed.dtype if isinstance(x, Spikes) else x.dtype)
    order = memory_order(earlier)
    physical = earlier.permute(order)
    scale = _as_tensor(weight.reshape(-1), dtype, physical.device)
    if order[-1] != 2:                       # channels not last in memory: broadcast over H, W
        scale = scale.reshape(-1, 1, 1)
    y = in_logical_order(physical.to(dtype).mul_(scale), order)
    return y.reshape(-1, *y.shape[2:])


def _int8_conv_for(x, peak, dtype, weight, stride, padding, dilation, groups
                   ) -> Int8Conv | None:
    """The int8 kernel for this conv when it is exact and faster: spikes (0/1, `peak` <= 1)
    on CPU, sums that float32 holds (int8.py says why that is exact)."""
    if x.device.type != "cpu" or dtype != torch.float32 or peak > 1:
        return None
    return int8_conv(weight, stride, padding, dilation, groups)


def _spike_frames(x: torch.Tensor | Spikes) -> torch.Tensor:
    """(T, N, C, H, W) spikes -> the (T * N, C, H, W) uint8 channels-last frames a synapse
    reads, one step later; no copy when the neuron kernel already wrote them that way."""
    frames = one_step_later(x, torch.uint8)
    frames = frames.reshape(-1, *frames.shape[2:])
    return frames.contiguous(memory_format=CONV_MEMORY_FORMAT)


def sumpool_frames(x: torch.Tensor, kernel, weight: int, stride, padding) -> ExactSums:
    """A sum-pool (a depthwise conv of one repeated weight) as a window sum times the weight."""
    steps, n, *frame = x.shape
    peak = max_abs(x)
    bound = abs(weight) * peak * kernel[0] * kernel[1]
    dtype = exact_dtype(bound, 1, 1)
    # as a depthwise conv of the repeated weight, spikes take the int8 path like any conv
    depthwise = np.full((frame[0], 1, *kernel), weight, dtype=np.int64)
    fast = _int8_conv_for(x, peak, dtype, depthwise, stride, padding, (1, 1), frame[0])
    if fast is not None:
        y = fast(_spike_frames(x))
        return ExactSums(y.reshape(steps, n, *y.shape[1:]), bound)
    frames = one_step_later(x, dtype).reshape(steps * n, *frame)
    with exact_backends():       # divisor_override=1: the plain sum of each window, no division
        y = F.avg_pool2d(frames, kernel, stride, padding, divisor_override=1) * weight
    return ExactSums(y.reshape(steps, n, *y.shape[1:]), bound)


def dense_frames(x: torch.Tensor | Spikes, weight: np.ndarray, shift: bool = True
                 ) -> torch.Tensor:
    """(T, N, F) -> (T, N, O) exact int64 sums weight @ x, of frame t - 1 at t if `shift`."""
    dtype = exact_dtype(int(np.abs(weight).max(initial=0)), max_abs(x), weight.shape[1])
    now = x.now if isinstance(x, Spikes) else x
    frames = one_step_later(x, dtype) if shift else now.to(dtype)
    with exact_backends():
        y = frames @ _as_tensor(weight, dtype, x.device).T
    return y.to(torch.int64)


@functools.lru_cache(maxsize=256)
def _cached_tensor(key, dtype, device):
    data, shape = key
    return torch.tensor(np.frombuffer(data, np.int64).reshape(shape), dtype=dtype, device=device)


def _as_tensor(weight: np.ndarray, dtype, device) -> torch.Tensor:
    """Weights as a tensor of `dtype` on `device`, converted once per weight array."""
    w = np.ascontiguousarray(weight, dtype=np.int64)
    return _cached_tensor((w.tobytes(), w.shape), dtype, torch.device(device))


def lava_conv_output(sums: ExactSums) -> torch.Tensor:
    """Exact sums -> what Lava's fixed-point Conv sends: int32, or float32 holding integers
    below 2^23 (what float32 sums below 2^23 already are).

    Lava casts its float64 sums to int32 (`astype(weight.dtype)`, lava/proc/conv/utils.py) and
    then wraps them to signed 24 bits. Below 2^23 both are no-ops. Sums outside int32 (only
    possible in float64, see exact_dtype) become what numpy's cast gives on this machine:
    INT32_MIN on x86, saturation on ARM; `_int32_cast_of_overflow` asks numpy.
    """
    half = 1 << (CONV_OUTPUT_BITS - 1)
    if sums.bound < half and sums.values.dtype == torch.float32:
        return sums.values              # exact integers below 2^23: the neuron reads them as is
    if sums.bound < half:
        return sums.values.to(torch.int32)
    y = sums.values.to(torch.int64)
    if sums.bound > INT32_MAX:
        above, below = _int32_cast_of_overflow()
        y = torch.where(y > INT32_MAX, above, torch.where(y < INT32_MIN, below, y))
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

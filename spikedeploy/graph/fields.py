"""Loihi's bit widths, and the checks that turn a node's field into a valid value or a
one-line GraphError naming the field (shared by the node types and the file readers)."""

from __future__ import annotations

import numpy as np

from ..errors import GraphError

Shape = tuple[int, ...]

# Loihi bit widths (Lava's bit-accurate LIF and Dense process models, lava-nc 0.10).
WEIGHT_MIN, WEIGHT_MAX = -256, 255        # Dense clips weights to 8 bits + sign
# vth is unsigned 17-bit on the chip; 1 << 17 is allowed too because netx gives a dense block
# without a neuron that value (`1 << 18 - 1` in lava-dl's netx/hdf5.py): a neuron that can never
# fire, since v clips at 2^23 - 1 = (1 << 17 << 6) - 1.
THRESHOLD_MANT_MAX = 1 << 17
DECAY_MAX = 1 << 12                       # 12-bit decays; 4096 = "decay everything"
BIAS_MANT_MIN, BIAS_MANT_MAX = -(1 << 12), (1 << 12) - 1   # signed 13-bit
BIAS_EXP = 6                              # netx always passes bias_exp = 6
MESSAGE_BITS_MAX = 24                     # graded spikes carry at most 24 bits
DELAY_MAX = 62                            # netx builds DelayDense with max_delay = 62


def as_pair(value, what: str) -> tuple[int, int]:
    """Turn an int or a 2-sequence into an (h, w) pair of non-negative ints."""
    arr = np.atleast_1d(np.asarray(value))
    if arr.size == 1:
        arr = np.repeat(arr, 2)
    if arr.shape != (2,) or not is_integral(arr) or (arr < 0).any():
        raise GraphError(f"{what} must be a non-negative int or a pair of them, got {value!r}")
    return int(arr[0]), int(arr[1])


def as_int_array(value, what: str, low: int, high: int) -> np.ndarray:
    """Check that `value` holds only integers in [low, high] and return it as int64."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise GraphError(f"{what} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise GraphError(f"{what} contains NaN or infinity")
        if not is_integral(arr):
            raise GraphError(f"{what} must hold integers (netx would silently truncate them)")
    # Range first: casting a float such as 1e30 to int64 would wrap it into the range.
    if arr.size and (arr.min() < low or arr.max() > high):
        raise GraphError(f"{what} must lie in [{low}, {high}], found [{arr.min()}, {arr.max()}]")
    return arr.astype(np.int64)


def is_integral(arr: np.ndarray) -> bool:
    return bool(np.all(np.floor(arr) == arr))


def as_shape(value, what: str) -> Shape:
    shape = tuple(int(v) for v in np.atleast_1d(np.asarray(value)))
    if not shape or min(shape) < 1 or len(shape) not in (1, 3):
        raise GraphError(f"{what} must be (N,) or (C, H, W) with positive sizes, got {value!r}")
    return shape

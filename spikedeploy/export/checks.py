"""Chip-limit checks applied at export, each failing with a message that names the layer."""

from __future__ import annotations

import numpy as np

from ..errors import SpikedeployError

# SLAYER's 8-bit grid in file units: even integers in [-256, 254]. Lava's Dense drops the least
# significant bit of mixed-sign weights, so only even weights survive deployment unchanged.
GRID_MIN, GRID_MAX, GRID_STEP = -256, 254, 2


def check_weight_grid(weight: np.ndarray, layer: str) -> np.ndarray:
    """Return `weight` as int64 if every value sits on the chip's grid, else raise."""
    if not np.isfinite(weight).all():
        raise SpikedeployError(f"layer '{layer}': weights contain NaN or infinity")
    rounded = np.round(weight)
    if not np.array_equal(rounded, weight):
        raise SpikedeployError(f"layer '{layer}': weights are not integers after quantization")
    ints = rounded.astype(np.int64)
    if ints.size and (ints.min() < GRID_MIN or ints.max() > GRID_MAX):
        raise SpikedeployError(f"layer '{layer}': weights span [{ints.min()}, {ints.max()}], "
                               f"outside the chip's [{GRID_MIN}, {GRID_MAX}]")
    if (ints % GRID_STEP).any():
        raise SpikedeployError(f"layer '{layer}': odd weights are off the chip's 8-bit grid "
                               "(Lava would silently drop their last bit)")
    return ints


# Lava's Conv process model stores `groups` (and kernel, stride, padding, dilation) as int8
# (lava/proc/conv/models.py, lava-nc 0.10); netx builds the same process, so the same limit.
LAVA_GROUPS_MAX = 127


def regroup(weight: np.ndarray, groups: int) -> tuple[np.ndarray, int]:
    """The same grouped convolution with at most LAVA_GROUPS_MAX groups.

    `weight` is (C_out, C_in / groups, kH, kW). Neighbouring groups are merged, `factor` at a
    time, into one group whose kernel is block-diagonal (zeros between the old groups), so
    every output still sees only its old inputs. The merge uses the largest divisor of
    `groups` that Lava can store: a depthwise conv over 2048 channels becomes 64 groups of 32
    (32 synapses per output instead of 1), not a dense 2048 x 2048 conv.
    """
    if groups <= LAVA_GROUPS_MAX:
        return weight, groups
    merged = max(d for d in range(1, LAVA_GROUPS_MAX + 1) if groups % d == 0)
    factor = groups // merged
    c_out, c_in_group = weight.shape[:2]
    # Output channel o was in old group o // (c_out / groups), at slot (old group % factor)
    # of its new group; its kernel goes to that slot's input channels.
    slot = (np.arange(c_out) // (c_out // groups)) % factor
    wide = np.zeros((c_out, c_in_group * factor, *weight.shape[2:]), weight.dtype)
    for j in range(factor):
        rows = slot == j
        wide[rows, j * c_in_group:(j + 1) * c_in_group] = weight[rows]
    return wide, merged

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

"""What lava-dl's netx does to a network file on its way into Lava, reproduced in numpy.

spikedeploy runs plain netx files (written by lava-dl's exporters) exactly as
`lava.lib.dl.netx.hdf5.Network` builds them, so that ground truth recorded with lava-dl applies
unchanged. Three of netx's conventions change the arithmetic and are reproduced here; each
function names the lava-dl 0.6.0 source it follows (read, not copied).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GraphError

# netx's neuron for a dense block without one (netx/hdf5.py, create_dense): a non-leaky
# integrator whose threshold `1 << 18 - 1` is 1 << 17 by operator precedence, so it never fires.
DEFAULT_DENSE_NEURON = {"iDecay": 0, "vDecay": 4096, "vThMant": 1 << 17}


@dataclass(frozen=True)
class FittedWeights:
    """Dense weights as netx hands them to Lava's Dense: (weight, num_weight_bits, weight_exp)."""

    weight: np.ndarray
    num_weight_bits: int
    weight_exp: int


def fit_weight_bits(weight: np.ndarray) -> FittedWeights:
    """netx's `optimize_weight_bits` (lava/lib/dl/netx/utils.py), applied to every dense block.

    The weights are shifted up to fill Loihi's 8-bit synapse (by `scale_bits`), the shift is
    undone by `weight_exp = -scale_bits`, and `num_weight_bits` drops the low bits that are
    zero in all weights. Mixed-sign matrices beyond [-256, 254] are clipped first, as netx does.
    """
    w = np.asarray(weight, dtype=np.int64)
    if not w.any():
        # netx divides by the largest weight and crashes here; zeros pass through unchanged.
        return FittedWeights(np.zeros_like(w), 8, 0)
    if (w.max() > 254 and w.min() < 0) or (w.min() < -256 and w.max() > 0):
        w = np.clip(w, -256, 254)
    high, low = int(w.max()), int(w.min())
    signed = high >= 0 and low < 0             # netx's MIXED: not (max < 0) and not (min >= 0)
    if signed:
        scale = min(127 / high if high > 0 else np.inf, -128 / low)
    elif low >= 0:
        scale = 255 / high
    else:
        scale = -256 / low
    scale_bits = int(np.floor(np.log2(scale))) + int(signed)
    zero_low_bits = _common_zero_low_bits(w) - int(signed)
    return FittedWeights(w << scale_bits, 8 - scale_bits - zero_low_bits, -scale_bits)


def _common_zero_low_bits(w: np.ndarray) -> int:
    """The largest n <= 8 with every weight divisible by 2^n (netx's `precision` loop)."""
    for n in range(8, 0, -1):
        if not (w % (1 << n)).any():
            return n
    return 0


def expand_delay(delay: np.ndarray, weight_shape: tuple[int, int]) -> np.ndarray:
    """netx's reading of a dense block's `delay` (netx/hdf5.py, create_dense) as (out, in).

    A scalar applies to every synapse; a vector as long as the outputs gives each output
    neuron's synapses one delay (lava-dl's axonal delays), one as long as the inputs gives each
    input's; anything else must already be (out, in). Outputs win when out == in, as in netx.
    """
    delay = np.asarray(delay)
    out_features, in_features = weight_shape
    if delay.ndim == 0:
        return np.full(weight_shape, delay)
    if delay.ndim == 1:
        if delay.size == out_features:
            return np.repeat(delay.reshape(-1, 1), in_features, axis=1)
        if delay.size == in_features:
            return np.repeat(delay.reshape(1, -1), out_features, axis=0)
    if delay.shape != tuple(weight_shape):
        raise GraphError(f"delay of shape {delay.shape} fits neither the outputs nor the inputs "
                         f"of a weight of shape {tuple(weight_shape)}")
    return delay

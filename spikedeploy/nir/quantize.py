"""Floats -> Loihi integers with one weight scale for the whole network.

One scale, because every layer's spikes are 0/1 whatever its scale: any scale is exact up to
rounding, and a single one keeps the report readable. We pick the largest power of two that
keeps every weight on the chip's 8-bit grid, every threshold in 17 bits and every bias in 13
bits. A power of two, so that weights already on a binary grid (SLAYER's multiples of 1/64,
most quantization-aware training) land on integers with no rounding at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..graph import LIF, Conv, Dense, Node, SumPool
from ..graph.fields import (
    BIAS_MANT_MAX,
    BIAS_MANT_MIN,
    THRESHOLD_MANT_MAX,
    WEIGHT_MAX,
    WEIGHT_MIN,
)
from .parts import Neuron, Synapse
from .report import NeuronRounding, SynapseRounding
from .units import DECAY_UNITS, FILE_UNITS_PER_FLOAT

# SLAYER's weight grid: even integers in [-256, 254] (Lava's dense drops the last bit of odd
# weights in mixed-sign layers, LAVA_NOTES section 3), so a chosen scale aims for +-254.
GRID_STEP = 2
GRID_MAX = 254


@dataclass
class Scale:
    value: float          # file units (integer weight units) per NIR float unit
    source: str
    grid: int = GRID_STEP  # our own files keep their exact integers (any integer, step 1)


def choose_scale(synapses: list[Synapse], neurons: list[Neuron]) -> Scale:
    """The largest power of two that fits every weight, threshold and bias."""
    caps = []
    weights = [np.max(np.abs(s.weight)) for s in synapses if np.size(s.weight)]
    if weights and max(weights) > 0:
        caps.append(GRID_MAX / max(weights))
    thresholds = [n.threshold for n in neurons]
    if thresholds and max(thresholds) > 0:
        caps.append(THRESHOLD_MANT_MAX / max(thresholds))
    biases = [np.max(np.abs(n.bias)) for n in neurons if np.size(n.bias)]
    if biases and max(biases) > 0:
        caps.append(BIAS_MANT_MAX / max(biases))
    if not caps:
        return Scale(float(FILE_UNITS_PER_FLOAT), "nothing to fit: SLAYER's 64")
    return Scale(2.0 ** math.floor(math.log2(min(caps))),
                 f"largest power of two with |w| <= {GRID_MAX} on the even grid, thresholds "
                 "in 17 bits and biases in 13 bits")


def quantize_synapse(name: str, nir_type: str, part: Synapse, scale: Scale
                     ) -> tuple[Node, SynapseRounding]:
    unit = 2.0 ** part.weight_exp / scale.value       # float value of one integer step
    ints = scale.grid * np.round(part.weight / unit / scale.grid)
    ints = np.clip(ints, WEIGHT_MIN, WEIGHT_MAX).astype(np.int64)
    error = np.abs(ints * unit - part.weight)
    rounding = SynapseRounding(name, nir_type, float(np.max(np.abs(part.weight), initial=0)),
                               float(np.max(error, initial=0)), float(np.mean(error)))
    return _BUILDERS[part.kind](ints, part), rounding


def quantize_neuron(name: str, nir_type: str, part: Neuron, scale: Scale
                    ) -> tuple[LIF, NeuronRounding]:
    mant = int(np.clip(round(part.threshold * scale.value), 0, THRESHOLD_MANT_MAX))
    du, dv = round(part.du * DECAY_UNITS), round(part.dv * DECAY_UNITS)
    bias = np.clip(np.round(part.bias * scale.value), BIAS_MANT_MIN, BIAS_MANT_MAX)
    bias_error = np.abs(bias / scale.value - part.bias)
    node = LIF(shape=part.shape, threshold_mant=mant, current_decay_12bit=du,
               voltage_decay_12bit=dv, bias_mant=bias.astype(np.int64))
    return node, NeuronRounding(name, nir_type, part.threshold, mant, part.du, du, part.dv, dv,
                                float(np.max(bias_error, initial=0)))


def _dense(ints: np.ndarray, part: Synapse) -> Node:
    return Dense(ints, weight_exp=part.weight_exp, delay=part.params.get("delay"),
                 netx_weight_fit=part.params.get("netx_weight_fit", False))


_BUILDERS = {
    "conv": lambda ints, part: Conv(ints, **part.params),
    "dense": _dense,
    "sumpool": lambda ints, part: SumPool(weight=int(ints), **part.params),
}

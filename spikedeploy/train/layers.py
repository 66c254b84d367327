"""Synapse types of our own, each registered with training's FORWARD and export's EXPORTERS."""

from __future__ import annotations

import numpy as np
import torch
from lava.lib.dl.slayer.synapse import layer as synapse

from ..export.exporter import EXPORTERS, Exportable, grid_weight
from ..graph import Dense
from .network import FORWARD, synapse_forward


class GlobalSumDense(synapse.Dense):
    """Global sum pooling and a dense classifier as one synapse: out[k] = sum_c V[k, c] S[c],
    S[c] the sum of channel c's spikes over all `positions` of the map.

    It reads the flattened (C * H * W) map. Exported, it is a Dense whose weight repeats V[k, c]
    at every position of channel c: the same integers, summed in the same step. The chip has no
    average pooling, and a sum-pool followed by a neuron would clip the sum to one spike per
    step (and need a depthwise conv, which Lava cannot build beyond 127 channels).
    """

    def __init__(self, channels: int, positions: int, out_neurons: int, weight_scale=1.0):
        super().__init__(channels, out_neurons, weight_scale=weight_scale)
        self.positions = positions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, steps = x.shape
        return super().forward(x.reshape(batch, -1, self.positions, steps).sum(2))


def export_global_sum_dense(model: Exportable, name: str, shapes) -> Dense:
    weight = grid_weight(model, name)
    weight = weight.reshape(weight.shape[0], -1)            # (K, C)
    # The flattened input index is c * positions + p (C order), so repeat each column in place.
    return Dense(weight=np.repeat(weight, model.layers[name].positions, axis=1))


FORWARD[GlobalSumDense] = synapse_forward
EXPORTERS[GlobalSumDense] = export_global_sum_dense

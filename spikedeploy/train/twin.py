"""The float ANN twin of a spiking network: the same layers, without spikes, time or delays.

"Twin" means exactly this. Take the SpikingNetwork that `build_model` makes for the config (the
same random initial weights for the same seed) and run its layers on a single time step:

* the input is the encoded frames averaged over the T input frames (the drain's zero frames
  left out), (N, C, H, W, 1): for the `direct` encoding that is the image itself, for `rate`
  the firing rate times the level range;
* every synapse is the very same SLAYER module (conv, dense, sum-pool; fixed identity and pool
  weights stay fixed), applied without the one-step delay;
* every neuron becomes its input normalisation (the same `norm` module: learned bias, batch
  norm with the same folding of its scale into the synapses in evaluation, mean-only batch
  norm) followed by a ReLU; the output neuron has no ReLU, its normalised current is the logit;
* the output is (N, classes, 1), so `.sum(-1)` gives logits as it gives spike counts for the
  spiking network: the training loop, the data and the evaluation are shared.

The twin trains float_epochs + qat_epochs epochs, all with float weights (there is nothing to
deploy), with the same optimizer, schedule, batches and seed. Its state_dict has the spiking
network's keys. It cannot be exported: it does not spike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from lava.lib.dl.slayer.neuron import cuba
from torch import nn

from .layers import GlobalSumDense
from .network import SYNAPSE_MODULES, Flatten, SpikingNetwork


def _synapse(module: nn.Module, x: torch.Tensor, is_output: bool) -> torch.Tensor:
    return module(x)                  # no delay: a float network has no time


def _neuron(module: cuba.Neuron, x: torch.Tensor, is_output: bool) -> torch.Tensor:
    current = x if module.norm is None else module.norm(x)
    return current if is_output else F.relu(current)


def _flatten(module: nn.Module, x: torch.Tensor, is_output: bool) -> torch.Tensor:
    return module(x)


# How each kind of spiking-network layer runs in the twin.
TWIN_FORWARD: dict[type, Callable[[nn.Module, torch.Tensor, bool], torch.Tensor]] = {
    **{cls: _synapse for cls in (*SYNAPSE_MODULES, GlobalSumDense)},
    cuba.Neuron: _neuron,
    Flatten: _flatten,
}


class AnnTwin(nn.Module):
    """A SpikingNetwork's layers run as a float ANN on the time-averaged input (see above)."""

    quantized = False                 # never on the chip's grid

    def __init__(self, network: SpikingNetwork, input_steps: int):
        super().__init__()
        self.input_steps = input_steps   # T: the frames after them are the drain's zeros
        unknown = sorted({type(m).__name__ for m in network.layers.values()} -
                         {cls.__name__ for cls in TWIN_FORWARD})
        if unknown:
            raise TypeError(f"no ANN twin for layers of type {unknown}")
        self.layers = network.layers  # shared modules: identical parameter names
        self.preds, self.order = network.preds, network.order
        self.input_name, self.output_name = network.input_name, network.output_name
        self.input_shape = network.input_shape
        self.input_message_bits = network.input_message_bits
        self.num_classes = network.num_classes

    def forward(self, x: torch.Tensor, record: bool = False):
        values = {self.input_name: x[..., :self.input_steps].mean(-1, keepdim=True)}
        for name in self.order:
            inputs = [values[p] for p in self.preds[name]]
            total = inputs[0] if len(inputs) == 1 else torch.stack(inputs).sum(0)
            module = self.layers[name]
            values[name] = TWIN_FORWARD[type(module)](module, total, name == self.output_name)
        return values if record else values[self.output_name]

    def set_quantized(self, quantized: bool) -> None:
        if quantized:
            raise ValueError("the ANN twin has no quantized phase")


@dataclass(frozen=True)
class ModelKind:
    """What `model.twin` selects: how to make the model from the spiking network, and whether
    it spikes (a spiking model has a quantization-aware phase, runs SLAYER's neuron kernels and
    can be exported; a twin trains every epoch in float)."""

    make: Callable[[SpikingNetwork, int], nn.Module]   # (network, input frames T) -> model
    spiking: bool


MODEL_KINDS = {
    "none": ModelKind(lambda network, input_steps: network, spiking=True),
    "ann": ModelKind(AnnTwin, spiking=False),
}

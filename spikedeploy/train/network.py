"""A spiking network made of lava-dl SLAYER parts, wired as a DAG with the graph's timing.

Layers are SLAYER synapses (`slayer.synapse.Conv`, `Dense`, `Pool`), SLAYER CUBA neurons
(`slayer.neuron.cuba.Neuron`) and flattens. Every synapse reads its input one step late
(`slayer.axon.delay(x, 1)`), exactly where the Lava simulator puts its one-step latency, and
several layers feeding one neuron are summed at the level of input currents. This is what makes
the trained network's quantized forward pass spike for spike equal to the deployed one
(shared/LAVA_NOTES.md section 4: SLAYER blocks' own `delay_shift` would delay the wrong place).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from lava.lib.dl.slayer.axon import delay
from lava.lib.dl.slayer.neuron import cuba
from lava.lib.dl.slayer.synapse import layer as synapse
from torch import nn

from ..export.exporter import EXPORTERS, export_flatten
from .neuron import freeze_norm, synapse_weight_hook

SYNAPSE_MODULES = (synapse.Conv, synapse.Dense, synapse.Pool)


class Flatten(nn.Module):
    """(N, C, H, W, T) -> (N, C*H*W, T), in the same step."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1, x.shape[-1])


EXPORTERS[Flatten] = export_flatten


def synapse_forward(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return module(delay(x, 1))


def _plain_forward(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return module(x)


# How each kind of layer runs in training; every synapse kind has the one-step latency.
FORWARD: dict[type, Callable[[nn.Module, torch.Tensor], torch.Tensor]] = {
    **{cls: synapse_forward for cls in SYNAPSE_MODULES},
    cuba.Neuron: _plain_forward,
    Flatten: _plain_forward,
}


class SpikingNetwork(nn.Module):
    """Named layers plus (source, destination) edges; `input_name` is the data entry point.

    forward(x) takes (N, *input_shape, T) and returns the output neuron's spikes (N, K, T);
    forward(x, record=True) returns every layer's output by name.
    """

    def __init__(self, layers: dict[str, nn.Module], edges: list[tuple[str, str]],
                 input_name: str, input_shape: tuple[int, ...], input_message_bits: int = 0):
        super().__init__()
        self.layers = nn.ModuleDict(layers)
        self.edges = list(edges)
        self.input_name = input_name
        self.input_shape = tuple(input_shape)
        self.input_message_bits = input_message_bits
        self.preds = {name: [a for a, b in self.edges if b == name] for name in layers}
        self.order = _topological(list(layers), self.edges, input_name)
        unknown = [n for n, m in layers.items() if type(m) not in FORWARD]
        if unknown:
            raise TypeError(f"layers of unsupported type: {unknown}")
        sinks = [n for n in layers if not any(a == n for a, _ in self.edges)]
        if len(sinks) != 1:
            raise ValueError(f"a network needs exactly one output layer, found {sinks}")
        self.output_name = sinks[0]
        self.set_quantized(False)       # synapses into batch-normalized neurons need a hook

    @property
    def num_classes(self) -> int:
        """Neurons in the output layer (its synapses' output size)."""
        (syn,) = self.preds[self.output_name]
        return int(self.layers[syn].out_channels)

    def forward(self, x: torch.Tensor, record: bool = False):
        values = {self.input_name: x}
        for name in self.order:
            inputs = [values[p] for p in self.preds[name]]
            total = inputs[0] if len(inputs) == 1 else torch.stack(inputs).sum(0)
            module = self.layers[name]
            values[name] = FORWARD[type(module)](module, total)
        return values if record else values[self.output_name]

    def neuron_for(self, synapse_name: str) -> cuba.Neuron:
        """The neuron a synapse feeds: its quantizer is the synapse's weight grid."""
        (dest,) = [b for a, b in self.edges if a == synapse_name]
        return self.layers[dest]

    def set_quantized(self, quantized: bool) -> None:
        """Switch synapse weights between float and the chip's 8-bit grid (quantization-aware
        training: the grid in the forward pass, straight-through gradients). Quantized, batch
        norms stay folded with their running statistics also in training mode, so the forward
        pass is the exported network's."""
        for name, module in self.layers.items():
            if isinstance(module, SYNAPSE_MODULES):
                module.pre_hook_fx = synapse_weight_hook(self.neuron_for(name), quantized)
            elif isinstance(module, cuba.Neuron):
                freeze_norm(module, quantized)
        self.quantized = quantized

    def longest_path(self, counts: Callable[[nn.Module], bool]) -> int:
        """Most layers for which `counts` holds on any path from the input to the output."""
        length = {self.input_name: 0}
        for name in self.order:
            here = int(counts(self.layers[name]))
            length[name] = here + max(length[p] for p in self.preds[name])
        return length[self.output_name]

    @property
    def pipeline_depth(self) -> int:
        """D: synapses on the longest input -> output path. Each delays by one step, so the
        input frame of step t has reached the output through every path by step t + D: a
        sample of T frames needs T + D steps."""
        return self.longest_path(lambda module: isinstance(module, SYNAPSE_MODULES))


def _topological(names: list[str], edges: list[tuple[str, str]], input_name: str) -> list[str]:
    done, order = {input_name}, []
    pending = list(names)
    while pending:
        ready = [n for n in pending if all(a in done for a, b in edges if b == n)]
        if not ready:
            raise ValueError(f"the layers {pending} form a cycle or read a missing layer")
        for name in ready:
            order.append(name)
            done.add(name)
            pending.remove(name)
    return order

"""The spiking ResNet family as a SpikingNetwork of SLAYER synapses and CUBA neurons.

stem conv -> stages of residual blocks (identity shortcut when the shape is kept, 1x1 projection
otherwise), a sum-pool after each stage, flatten, dense classifier. In a block the shortcut
synapse and the second conv's synapse feed the same neuron: the skip is added at the level of
input currents, as on the chip.
"""

from __future__ import annotations

import torch
from lava.lib.dl.slayer.synapse import layer as synapse
from torch import nn

from ..config import ModelConfig
from ..errors import ConfigError
from .network import Flatten, SpikingNetwork
from .neuron import make_neuron


class _Builder:
    """Accumulates named layers and edges while the architecture is laid out."""

    def __init__(self, cfg: ModelConfig):
        self.cfg = cfg
        self.layers: dict[str, nn.Module] = {}
        self.edges: list[tuple[str, str]] = []

    def add(self, name: str, module: nn.Module, *sources: str) -> str:
        self.layers[name] = module
        self.edges += [(s, name) for s in sources]
        return name

    def neuron(self, name: str, channels: int, *synapses: str) -> str:
        """A neuron summing `synapses`. Neurons fed only by sum-pools cannot absorb a scale."""
        scalable = not all(isinstance(self.layers[s], synapse.Pool) for s in synapses)
        return self.add(name, make_neuron(self.cfg.neuron, channels, scalable), *synapses)

    def conv(self, name: str, source: str, c_in: int, c_out: int, kernel: int) -> str:
        syn = synapse.Conv(c_in, c_out, kernel, padding=kernel // 2,
                           weight_scale=self.cfg.weight_scale)
        return self.add(name, syn, source)

    def identity(self, name: str, source: str, channels: int) -> str:
        """A fixed depthwise 1x1 synapse: the chip needs a synapse to add a skip to a neuron."""
        syn = synapse.Conv(channels, channels, 1, groups=channels)
        syn.weight.data.fill_(self.cfg.identity_weight)
        syn.weight.requires_grad_(False)
        return self.add(name, syn, source)

    def pool(self, name: str, source: str, kernel: int) -> str:
        return self.add(name, synapse.Pool(kernel, weight_scale=self.cfg.pool_weight), source)


def _block(b: _Builder, name: str, source: str, c_in: int, c_out: int) -> str:
    mid = b.neuron(f"{name}_a", c_out, b.conv(f"{name}_a_conv", source, c_in, c_out, 3))
    main = b.conv(f"{name}_b_conv", mid, c_out, c_out, 3)
    skip = (b.identity(f"{name}_skip", source, c_in) if c_in == c_out
            else b.conv(f"{name}_proj", source, c_in, c_out, 1))
    return b.neuron(f"{name}_b", c_out, main, skip)


def build_resnet(cfg: ModelConfig, input_shape: tuple[int, int, int], num_classes: int,
                 input_message_bits: int = 0) -> SpikingNetwork:
    if len(cfg.stage_channels) != len(cfg.blocks_per_stage):
        raise ConfigError("model.stage_channels and model.blocks_per_stage must have the same "
                          "length")
    b = _Builder(cfg)
    channels, (height, width) = input_shape[0], input_shape[1:]
    x = b.neuron("stem", cfg.stem_channels,
                 b.conv("stem_conv", "input", channels, cfg.stem_channels, 3))
    channels = cfg.stem_channels
    stages = zip(cfg.stage_channels, cfg.blocks_per_stage, strict=True)
    for s, (width_s, blocks) in enumerate(stages):
        for k in range(blocks):
            x = _block(b, f"s{s}b{k}", x, channels, width_s)
            channels = width_s
        if cfg.pool_kernel:
            if height % cfg.pool_kernel or width % cfg.pool_kernel:
                raise ConfigError(f"pool kernel {cfg.pool_kernel} does not divide the "
                                  f"{height}x{width} feature map after stage {s}")
            x = b.neuron(f"s{s}pool", channels, b.pool(f"s{s}pool_syn", x, cfg.pool_kernel))
            height, width = height // cfg.pool_kernel, width // cfg.pool_kernel
    x = b.add("flatten", Flatten(), x)
    fc = b.add("fc_syn", synapse.Dense(channels * height * width, num_classes,
                                       weight_scale=cfg.weight_scale), x)
    b.neuron("output", num_classes, fc)
    return SpikingNetwork(b.layers, b.edges, "input", input_shape, input_message_bits)


ARCHITECTURES = {"resnet": build_resnet}


def build_model(cfg: ModelConfig, input_shape, num_classes: int,
                input_message_bits: int = 0) -> SpikingNetwork:
    if cfg.arch not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture '{cfg.arch}'; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[cfg.arch](cfg, tuple(input_shape), num_classes, input_message_bits)


@torch.no_grad()
def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

"""The spiking ResNet family as a SpikingNetwork of SLAYER synapses and CUBA neurons.

stem -> stages of residual blocks -> head. Blocks are basic (two 3x3 convs) or bottleneck
(1x1, 3x3, 1x1 with 4x the channels), with an identity shortcut when the shape is kept and a
1x1 projection otherwise. A stage downsamples with a sum-pool after it, or with stride 2 in its
first block. In a block the shortcut synapse and the last conv's synapse feed the same neuron:
the skip is added at the level of input currents, as on the chip. Each choice is one table
entry (BLOCKS, STEMS, DOWNSAMPLING, HEADS); the layouts of ResNet-8/18/34/50 are in
docs/guide.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from lava.lib.dl.slayer.synapse import layer as synapse
from torch import nn

from ..config import ModelConfig
from ..errors import ConfigError
from .layers import GlobalSumDense
from .network import Flatten, SpikingNetwork
from .neuron import make_neuron

# Output channels of a bottleneck block per inner channel (He et al. 2016, arXiv:1512.03385,
# Table 1).
BOTTLENECK_EXPANSION = 4


@dataclass(frozen=True)
class Map:
    """A layer's output while the network is laid out: its name, channels and (H, W) size."""

    name: str
    channels: int
    size: tuple[int, ...]


def _conv_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


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

    def neuron(self, name: str, *synapses: Map) -> Map:
        """A neuron summing `synapses`. Neurons fed only by sum-pools cannot absorb a scale."""
        (channels, size), *others = {(m.channels, m.size) for m in synapses}
        if others:
            raise ConfigError(f"layer '{name}': its inputs do not have the same shape")
        scalable = not all(isinstance(self.layers[m.name], synapse.Pool) for m in synapses)
        self.add(name, make_neuron(self.cfg.neuron, channels, scalable),
                 *(m.name for m in synapses))
        return Map(name, channels, size)

    def conv(self, name: str, x: Map, channels: int, kernel: int, stride: int = 1) -> Map:
        """A conv synapse padded to keep the size at stride 1 (size / stride, rounded up)."""
        pad = kernel // 2
        self.add(name, synapse.Conv(x.channels, channels, kernel, stride=stride, padding=pad,
                                    weight_scale=self.cfg.weight_scale), x.name)
        return Map(name, channels, tuple(_conv_size(n, kernel, stride, pad) for n in x.size))

    def identity(self, name: str, x: Map) -> Map:
        """A fixed depthwise 1x1 synapse: the chip needs a synapse to add a skip to a neuron."""
        syn = synapse.Conv(x.channels, x.channels, 1, groups=x.channels)
        syn.weight.data.fill_(self.cfg.identity_weight)
        syn.weight.requires_grad_(False)
        self.add(name, syn, x.name)
        return Map(name, x.channels, x.size)

    def pool(self, name: str, x: Map, kernel: int, where: str) -> Map:
        """A sum-pool; it deploys exactly only when it tiles its input."""
        if any(n % kernel for n in x.size):
            raise ConfigError(f"pool kernel {kernel} does not divide the "
                              f"{'x'.join(map(str, x.size))} feature map {where}")
        self.add(name, synapse.Pool(kernel, weight_scale=self.cfg.pool_weight), x.name)
        return Map(name, x.channels, tuple(n // kernel for n in x.size))


# -- blocks: (builder, name, input, inner channels, stride) -> the block's output neuron -------
def _shortcut(b: _Builder, name: str, x: Map, channels: int, stride: int) -> Map:
    if stride == 1 and x.channels == channels:
        return b.identity(f"{name}_skip", x)
    return b.conv(f"{name}_proj", x, channels, 1, stride)


def basic_block(b: _Builder, name: str, x: Map, width: int, stride: int) -> Map:
    a = b.neuron(f"{name}_a", b.conv(f"{name}_a_conv", x, width, 3, stride))
    main = b.conv(f"{name}_b_conv", a, width, 3)
    return b.neuron(f"{name}_b", main, _shortcut(b, name, x, width, stride))


def bottleneck_block(b: _Builder, name: str, x: Map, width: int, stride: int) -> Map:
    a = b.neuron(f"{name}_a", b.conv(f"{name}_a_conv", x, width, 1))
    # The stride sits on the 3x3 conv, as in torchvision's ResNet-50 ("v1.5").
    mid = b.neuron(f"{name}_b", b.conv(f"{name}_b_conv", a, width, 3, stride))
    out = width * BOTTLENECK_EXPANSION
    main = b.conv(f"{name}_c_conv", mid, out, 1)
    return b.neuron(f"{name}_c", main, _shortcut(b, name, x, out, stride))


BLOCKS = {"basic": basic_block, "bottleneck": bottleneck_block}


# -- stems: (builder, input, channels) -> the stem's output neuron -----------------------------
def cifar_stem(b: _Builder, x: Map, channels: int) -> Map:
    return b.neuron("stem", b.conv("stem_conv", x, channels, 3))


def imagenet_stem(b: _Builder, x: Map, channels: int) -> Map:
    """7x7 stride-2 conv, then a 2x2 sum-pool where ImageNet ResNets max-pool (3x3, stride 2):
    the chip has no max-pool, and a sum-pool deploys exactly only when it tiles its input."""
    stem = b.neuron("stem", b.conv("stem_conv", x, channels, 7, stride=2))
    return b.neuron("stem_pool", b.pool("stem_pool_syn", stem, 2, "after the imagenet stem's "
                                                                  "stride-2 conv"))


STEMS = {"cifar": cifar_stem, "imagenet": imagenet_stem}


@dataclass(frozen=True)
class Downsampling:
    first_stride: int         # stride of the first block of every stage but the first
    pool_after_stage: bool    # a sum-pool of model.pool_kernel after every stage


DOWNSAMPLING = {"pool": Downsampling(1, True), "stride": Downsampling(2, False)}


# -- heads: (builder, last map, classes) -> the output neuron ---------------------------------
def flatten_head(b: _Builder, x: Map, classes: int) -> Map:
    flat = b.add("flatten", Flatten(), x.name)
    features = x.channels * math.prod(x.size)
    fc = b.add("fc_syn", synapse.Dense(features, classes, weight_scale=b.cfg.weight_scale), flat)
    return b.neuron("output", Map(fc, classes, ()))


def global_pool_head(b: _Builder, x: Map, classes: int) -> Map:
    flat = b.add("flatten", Flatten(), x.name)
    positions = math.prod(x.size)
    fc = b.add("fc_syn", GlobalSumDense(x.channels, positions, classes,
                                        weight_scale=b.cfg.weight_scale), flat)
    return b.neuron("output", Map(fc, classes, ()))


HEADS = {"flatten": flatten_head, "global_pool": global_pool_head}


def _check(cfg: ModelConfig) -> None:
    for key, table in (("block", BLOCKS), ("stem", STEMS), ("downsample", DOWNSAMPLING),
                       ("head", HEADS)):
        if getattr(cfg, key) not in table:
            raise ConfigError(f"unknown model.{key} '{getattr(cfg, key)}'; known: "
                              f"{', '.join(table)}")
    if len(cfg.stage_channels) != len(cfg.blocks_per_stage):
        raise ConfigError("model.stage_channels and model.blocks_per_stage must have the same "
                          "length")
    if not cfg.stage_channels:
        raise ConfigError("model.stage_channels must name at least one stage")
    if min([cfg.stem_channels, *cfg.stage_channels, *cfg.blocks_per_stage]) < 1:
        raise ConfigError("model.stem_channels, stage_channels and blocks_per_stage must be "
                          "positive")
    if cfg.width <= 0 or cfg.pool_kernel < 0:
        raise ConfigError("model.width must be positive and model.pool_kernel not negative")


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def build_resnet(cfg: ModelConfig, input_shape: tuple[int, int, int], num_classes: int,
                 input_message_bits: int = 0) -> SpikingNetwork:
    _check(cfg)
    b = _Builder(cfg)
    x = STEMS[cfg.stem](b, Map("input", input_shape[0], tuple(input_shape[1:])),
                        _scaled(cfg.stem_channels, cfg.width))
    down = DOWNSAMPLING[cfg.downsample]
    stages = zip(cfg.stage_channels, cfg.blocks_per_stage, strict=True)
    for s, (channels, blocks) in enumerate(stages):
        for k in range(blocks):
            stride = down.first_stride if s and not k else 1
            x = BLOCKS[cfg.block](b, f"s{s}b{k}", x, _scaled(channels, cfg.width), stride)
        if down.pool_after_stage and cfg.pool_kernel:
            x = b.neuron(f"s{s}pool", b.pool(f"s{s}pool_syn", x, cfg.pool_kernel,
                                             f"after stage {s}"))
    HEADS[cfg.head](b, x, num_classes)
    return SpikingNetwork(b.layers, b.edges, "input", input_shape, input_message_bits)


def weighted_depth(model: SpikingNetwork) -> int:
    """Trained conv and dense layers on the longest path: the N of "ResNet-N"."""
    return model.longest_path(lambda module: isinstance(module, (synapse.Conv, synapse.Dense))
                              and module.weight.requires_grad)


ARCHITECTURES = {"resnet": build_resnet}


def build_model(cfg: ModelConfig, input_shape, num_classes: int,
                input_message_bits: int = 0) -> SpikingNetwork:
    if cfg.arch not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture '{cfg.arch}'; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[cfg.arch](cfg, tuple(input_shape), num_classes, input_message_bits)


@torch.no_grad()
def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

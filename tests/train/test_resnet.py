"""The ResNet family: layouts, pipeline depth of every preset, and bit-exact export of each kind."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lava.lib.dl.slayer.synapse import layer as synapse

from spikedeploy.config import CONFIG_DIR, load
from spikedeploy.errors import ConfigError
from spikedeploy.export import export_model
from spikedeploy.graph import Conv, Dense, SumPool
from spikedeploy.sim import Emulator
from spikedeploy.train.layers import GlobalSumDense
from spikedeploy.train.network import SpikingNetwork
from spikedeploy.train.resnet import build_model, weighted_depth

from .batch_norms import give_batch_norms_statistics

# Stand-in input shapes and classes per data set: building a model needs no data. Imagenette's
# size is the loader's choice; the depth does not depend on it.
DATA_SHAPES = {"digits": ((1, 8, 8), 10), "cifar10": ((3, 32, 32), 10),
               "cifar100": ((3, 32, 32), 100), "imagenette": ((3, 224, 224), 10),
               "mnist": ((1, 28, 28), 10), "nmnist": ((2, 34, 34), 10)}
# The input steps T each preset's comment promises, and the N of its ResNet-N name.
PAPER_PRESETS = {"resnet8_cifar10": (8, 8), "resnet18_cifar10": (8, 18),
                 "resnet50_cifar100": (10, 50), "resnet50_imagenette": (10, 50)}
PRESETS = sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))


def preset_model(name: str, overrides=()) -> SpikingNetwork:
    cfg = load(name, list(overrides))
    shape, classes = DATA_SHAPES[cfg.data.name]
    return build_model(cfg.model, shape, classes)


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_gives_its_last_input_frame_time_to_reach_the_output(name):
    model = preset_model(name)
    data = load(name).data
    assert data.time_steps + data.drain_steps > model.pipeline_depth
    if name in PAPER_PRESETS:
        steps, depth = PAPER_PRESETS[name]
        assert (data.time_steps, data.drain_steps) == (steps, model.pipeline_depth)
        assert weighted_depth(model) == depth


def test_pipeline_depth_is_the_longest_path_in_synapses():
    # tiny: stem_conv, s0b0_a_conv, s0b0_b_conv, s0pool_syn, s1b0_a_conv, s1b0_b_conv,
    # s1pool_syn, fc_syn (the shortcuts are shorter paths)
    assert preset_model("tiny").pipeline_depth == 8
    assert weighted_depth(preset_model("tiny")) == 6              # pools are not trained
    # imagenet stem: conv + pool, then one basic block (2), then the classifier
    model = preset_model("tiny", ["model.stem=imagenet", "model.stage_channels=[4]",
                                  "model.blocks_per_stage=[1]", "model.pool_kernel=0"])
    assert model.pipeline_depth == 5 and weighted_depth(model) == 4


def test_bottleneck_blocks_with_strided_downsampling():
    model = preset_model("tiny_bottleneck", ["model.blocks_per_stage=[2, 1]"])
    layers = model.layers
    assert layers["s0b0_a_conv"].out_channels == 2 and layers["s0b0_c_conv"].out_channels == 8
    assert isinstance(layers["s0b0_proj"], synapse.Conv)        # 4 -> 8 channels: projection
    assert layers["s0b1_skip"].groups == 8                      # same shape: identity
    assert tuple(layers["s1b0_b_conv"].stride[:2]) == (2, 2)    # stride on the 3x3 conv
    assert tuple(layers["s1b0_proj"].stride[:2]) == (2, 2)
    assert sorted(model.preds["s1b0_c"]) == ["s1b0_c_conv", "s1b0_proj"]
    assert not any(isinstance(m, synapse.Pool) for m in layers.values())
    fc = layers["fc_syn"]                      # 16 channels on a 4x4 map, summed per channel
    assert isinstance(fc, GlobalSumDense) and (fc.in_channels, fc.positions) == (16, 16)


def test_imagenet_stem_and_width_multiplier():
    model = preset_model("tiny", ["model.stem=imagenet", "model.width=0.5",
                                  "model.pool_kernel=0", "model.stem_channels=8"])
    x = torch.zeros(1, 1, 8, 8, 3)
    shapes = {n: tuple(v.shape[1:-1]) for n, v in model(x, record=True).items()}
    assert shapes["stem"] == (4, 4, 4) and shapes["stem_pool"] == (4, 2, 2)   # 7x7/2, 2x2 pool
    assert shapes["s0b0_b"] == (2, 2, 2) and shapes["s1b0_b"] == (4, 2, 2)    # half of 4, 8
    with pytest.raises(ConfigError, match="does not divide the 3x3 feature map after the "
                                          "imagenet stem"):
        build_model(load("tiny", ["model.stem=imagenet"]).model, (1, 6, 6), 10)


@pytest.mark.parametrize("override,message", [
    ("model.block=wide", "unknown model.block 'wide'; known: basic, bottleneck"),
    ("model.stem=huge", "unknown model.stem 'huge'; known: cifar, imagenet"),
    ("model.downsample=max", "unknown model.downsample 'max'; known: pool, stride"),
    ("model.head=avg", "unknown model.head 'avg'; known: flatten, global_pool"),
    ("model.width=0", "model.width must be positive"),
    ("model.stage_channels=[]", "must have the same length"),
    ("model.blocks_per_stage=[1, 0]", "must be positive"),
])
def test_bad_model_choices_are_config_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        preset_model("tiny", [override])


def test_global_pool_head_exports_as_a_dense_repeating_each_channel_weight():
    model = preset_model("tiny_bottleneck")
    model.set_quantized(True)
    graph = export_model(model)
    fc = graph.nodes["fc_syn"]
    assert isinstance(fc, Dense) and fc.weight.shape == (10, 16 * 16)
    per_channel = fc.weight.reshape(10, 16, 16)             # (class, channel, position)
    assert (per_channel == per_channel[:, :, :1]).all()
    assert graph.predecessors("fc_syn") == ["flatten"]


def run_both(model: SpikingNetwork, x: np.ndarray):
    """Give batch norms real running statistics and random affine parameters, then the
    quantized model in evaluation mode and the exported graph on the emulator."""
    xt = torch.as_tensor(x, dtype=torch.float32)
    give_batch_norms_statistics(model, xt, passes=2)
    model.set_quantized(True)
    model.eval()
    graph = export_model(model)
    with torch.no_grad():
        trained = model(xt, record=True)
    return graph, trained, Emulator(graph).run(torch.as_tensor(x))


@pytest.mark.parametrize("preset,overrides,shape,encoding", [
    ("tiny_bottleneck", [], (1, 8, 8), "rate"),
    ("tiny", ["model.stem=imagenet", "model.downsample=stride", "model.head=global_pool",
              "model.neuron.norm=batch"], (3, 16, 16), "direct"),
    ("tiny", ["model.block=bottleneck", "model.downsample=pool", "model.neuron.norm=bias"],
     (2, 8, 8), "direct"),
    # over 127 channels: identity shortcut and sum-pool export as grouped convs
    ("tiny", ["model.stem_channels=130", "model.stage_channels=[130]", "model.width=1.0",
              "model.blocks_per_stage=[1]", "model.neuron.norm=batch"], (2, 4, 4), "rate"),
])
def test_quantized_model_in_evaluation_mode_equals_the_export(preset, overrides, shape,
                                                               encoding):
    torch.manual_seed(0)
    model = build_model(load(preset, overrides).model, shape, 10, 5 if encoding == "direct"
                        else 0)
    rng = np.random.default_rng(1)
    x = (rng.integers(0, 17, (4, *shape, 14)) if encoding == "direct"
         else (rng.random((4, *shape, 14)) < 0.4).astype(np.int64))
    graph, trained, emulated = run_both(model, x)
    for name in graph.neuron_names:
        np.testing.assert_array_equal(trained[name].to(torch.uint8).numpy(),
                                      emulated[name].numpy(), err_msg=name)
    assert all(emulated[n].any() for n in graph.neuron_names)     # every layer is active
    assert all(n.groups <= 127 for n in graph.nodes.values() if isinstance(n, Conv))
    if "model.stem_channels=130" in overrides:        # 130 = 65 groups of 2
        assert graph.nodes["s0b0_skip"].groups == 65
        assert not isinstance(graph.nodes["s0pool_syn"], SumPool)

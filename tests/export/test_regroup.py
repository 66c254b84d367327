"""Grouped convolutions beyond Lava's 127 groups are rewritten with fewer, block-diagonal groups
that compute the same sums; the rewritten network runs on Lava spike for spike."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from lava.lib.dl.slayer.synapse import layer as synapse

from spikedeploy.config import NeuronConfig
from spikedeploy.deploy import run_lava
from spikedeploy.export import export_model
from spikedeploy.export.checks import regroup
from spikedeploy.graph import Conv, SumPool
from spikedeploy.sim import Emulator
from spikedeploy.train.network import Flatten, SpikingNetwork
from spikedeploy.train.neuron import make_neuron


def test_depthwise_conv_by_hand():
    # 130 channels = 65 groups of 2: channel 2g keeps slot 0 of its group, 2g + 1 slot 1
    weight = np.arange(1, 131).reshape(130, 1, 1, 1)
    wide, groups = regroup(weight, 130)
    assert groups == 65 and wide.shape == (130, 2, 1, 1)
    assert wide[0, :, 0, 0].tolist() == [1, 0] and wide[1, :, 0, 0].tolist() == [0, 2]
    assert wide[129, :, 0, 0].tolist() == [0, 130]


@pytest.mark.parametrize("c_in,c_out,groups,merged", [
    (256, 256, 256, 64), (2048, 2048, 2048, 64), (260, 390, 130, 65), (131, 131, 131, 1),
    (96, 96, 96, 96),
])
def test_regrouped_conv_computes_the_same(c_in, c_out, groups, merged):
    rng = np.random.default_rng(0)
    weight = rng.integers(-9, 10, (c_out, c_in // groups, 3, 3))
    wide, got = regroup(weight, groups)
    assert got == merged and wide.shape == (c_out, c_in // merged, 3, 3)
    x = torch.as_tensor(rng.integers(0, 4, (1, c_in, 5, 5)), dtype=torch.float64)
    expected = F.conv2d(x, torch.as_tensor(weight, dtype=torch.float64), groups=groups)
    actual = F.conv2d(x, torch.as_tensor(wide, dtype=torch.float64), groups=merged)
    assert torch.equal(expected, actual)


def wide_network(channels: int = 130) -> SpikingNetwork:
    """input -> identity (depthwise 1x1) -> LIF -> 2x2 sum-pool -> LIF -> dense -> LIF."""
    torch.manual_seed(0)
    cfg = NeuronConfig(norm="bias", threshold=0.5)
    identity = synapse.Conv(channels, channels, 1, groups=channels)
    identity.weight.data.fill_(1.0)
    layers = {"skip": identity, "n1": make_neuron(cfg, channels),
              "pool_syn": synapse.Pool(2, weight_scale=0.5), "pool": make_neuron(cfg, channels),
              "flatten": Flatten(), "fc_syn": synapse.Dense(channels, 10, weight_scale=4),
              "output": make_neuron(cfg, 10)}
    edges = [("input", "skip"), ("skip", "n1"), ("n1", "pool_syn"), ("pool_syn", "pool"),
             ("pool", "flatten"), ("flatten", "fc_syn"), ("fc_syn", "output")]
    return SpikingNetwork(layers, edges, "input", (channels, 2, 2))


@pytest.mark.lava
def test_wide_depthwise_and_pool_run_on_lava_as_on_the_emulator():
    graph = export_model(wide_network())
    assert graph.nodes["skip"].groups == 65
    assert isinstance(graph.nodes["pool_syn"], Conv) and graph.nodes["pool_syn"].groups == 65
    assert not any(isinstance(n, SumPool) for n in graph.nodes.values())
    rng = np.random.default_rng(3)
    x = (rng.random((2, 130, 2, 2, 8)) < 0.5).astype(np.int64)
    emulated = Emulator(graph).run(torch.as_tensor(x))
    lava = run_lava(graph, x)
    for name in graph.neuron_names:
        np.testing.assert_array_equal(lava[name], emulated[name].numpy(), err_msg=name)
    assert all(emulated[n].any() for n in graph.neuron_names)

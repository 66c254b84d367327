"""Emulator == Lava simulator, spike for spike, on every neuron and every step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikedeploy.deploy import run_lava
from spikedeploy.graph import LIF, Conv, Dense, Graph, Input, chain
from spikedeploy.sim import Emulator
from tests.conftest import random_inputs, residual_graph

pytestmark = pytest.mark.lava


def assert_same_spikes(graph: Graph, inputs: np.ndarray):
    emulated = Emulator(graph).run(torch.as_tensor(inputs))
    lava = run_lava(graph, inputs)
    assert set(lava) == set(graph.neuron_names)
    for name in graph.neuron_names:
        np.testing.assert_array_equal(lava[name], emulated[name].numpy(), err_msg=name)
    return lava


@pytest.mark.parametrize("message_bits", [0, 5])
def test_residual_graph_with_pool_bias_and_both_shortcuts(message_bits):
    graph = residual_graph(seed=3, message_bits=message_bits)
    lava = assert_same_spikes(graph, random_inputs(graph, samples=3, steps=10, seed=7))
    assert all(lava[n].any() for n in graph.neuron_names)        # every layer is active


def test_each_sample_starts_from_zero_state():
    graph = residual_graph(seed=5)
    one = random_inputs(graph, samples=1, steps=8, seed=1)
    lava = run_lava(graph, np.concatenate([one, one, one]))
    for name in graph.neuron_names:                              # same input, same spikes
        np.testing.assert_array_equal(lava[name][0], lava[name][2])
        np.testing.assert_array_equal(lava[name][0], lava[name][1])


def test_hand_computed_trace_through_lava():
    """The trace of tests/sim/test_lif.py, driven by graded input straight into the neuron."""
    node = LIF((1,), threshold_mant=10, current_decay_12bit=1024, voltage_decay_12bit=512)
    graph = chain([("x", Input((1,), message_bits=8)), ("n", node),
                   ("d", Dense(np.array([[2]]))), ("o", LIF((1,), 0, 4096, 4096))])
    lava = assert_same_spikes(graph, np.array([[[5, 0, 0, 3, 0]]]))
    assert lava["n"][0, 0].tolist() == [0, 0, 0, 1, 0]
    assert lava["o"][0, 0].tolist() == [0, 0, 0, 0, 1]          # one step later, via Dense


@pytest.mark.parametrize("current,voltage", [(0, 0), (4096, 4096), (0, 4096), (4096, 0)])
def test_extreme_decays(current, voltage):
    rng = np.random.default_rng(current + voltage)
    graph = chain([("x", Input((6,))), ("d", Dense(rng.integers(-40, 60, (5, 6)) * 2)),
                   ("n", LIF((5,), 70, current, voltage, bias_mant=rng.integers(-3, 4, 5)))])
    assert_same_spikes(graph, random_inputs(graph, 2, 12))


def test_conv_output_wraps_at_24_bits_in_lava_too():
    graph = chain([("x", Input((1, 1, 1), message_bits=24)),
                   ("c", Conv(np.full((1, 1, 1, 1), 254))),
                   ("n", LIF((1, 1, 1), threshold_mant=0, current_decay_12bit=4096,
                             voltage_decay_12bit=4096))])
    x = np.zeros((1, 1, 1, 1, 3), np.int64)
    x[..., 0] = 33090     # 254 * 33090 = 8404860 wraps to -8372356: deep negative, no spike
    x[..., 1] = 2**15     # 254 * 2^15 = 8323072 fits in 24 bits: positive, spike
    lava = assert_same_spikes(graph, x)
    assert lava["n"][0, 0, 0, 0].tolist() == [0, 0, 1]


def test_odd_dense_weights_follow_lava():
    graph = chain([("x", Input((4,))), ("d", Dense(np.array([[3, -5, 7, 1], [9, 11, 13, 15]]))),
                   ("n", LIF((2,), 5, 0, 0))])
    assert_same_spikes(graph, np.ones((1, 4, 6), np.int64))

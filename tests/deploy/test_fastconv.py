"""Our process model for Lava's Conv gives exactly what Lava's own fixed-point model gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from lava.proc.conv import utils

from spikedeploy.deploy import run_lava
from spikedeploy.deploy.procs.fastconv import conv_lava_exact
from spikedeploy.graph import LIF, Conv, Input, SumPool, chain
from spikedeploy.sim import Emulator
from tests.conftest import random_inputs, random_lif, residual_graph

pytestmark = pytest.mark.lava


def stock_conv(x, weight, stride, padding, dilation, groups, graded: bool) -> np.ndarray:
    """What PyConvModelFixed.run_spk computes from one step's input (lava/proc/conv/models.py).
    """
    s_in = x if graded else x.astype(bool)
    sums = utils.conv(s_in, weight, weight.shape[1:3], stride, padding, dilation, groups)
    return utils.signed_clamp(sums, bits=24)


@st.composite
def conv_layers(draw):
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    smallest = [max(1, dilation[i] * (kernel[i] - 1) + 1 - 2 * padding[i]) for i in range(2)]
    size = [draw(st.integers(low, low + 6)) for low in smallest]
    graded = draw(st.booleans())
    bits = draw(st.sampled_from([1, 8, 16, 24])) if graded else 1
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 1 << bits, (*size, c_in)) if graded else rng.random((*size, c_in)) < 0.4
    weight = rng.integers(-256, 256, (c_out, *kernel, c_in // groups))
    return x.astype(np.int32), weight.astype(np.int32), stride, padding, dilation, groups, graded


@given(layer=conv_layers())
def test_fast_conv_equals_stock_conv_on_random_layers(layer):
    """Random strides, paddings, dilations and groups, binary and graded input up to 24 bits
    (sums beyond int32 included: both then take numpy's float64 -> int32 cast)."""
    x, weight, stride, padding, dilation, groups, graded = layer
    with np.errstate(invalid="ignore"):
        expected = stock_conv(x, weight, stride, padding, dilation, groups, graded)
    got = conv_lava_exact(x if graded else (x != 0).astype(np.int32), weight, stride, padding,
                          dilation, groups)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def odd_conv_chain(seed: int, message_bits: int):
    """Strided, dilated, grouped and padded convolutions, and a sum-pool (a depthwise conv)."""
    rng = np.random.default_rng(seed)
    return chain([
        ("x", Input((4, 11, 9), message_bits=message_bits)),
        ("c1", Conv(rng.integers(-40, 40, (6, 2, 3, 2)) * 2, stride=(2, 1), padding=(1, 2),
                    dilation=(1, 2), groups=2)),
        ("n1", random_lif(rng, (6, 6, 11))),
        ("c2", Conv(rng.integers(-60, 60, (8, 6, 2, 3)) * 2, stride=(1, 2), dilation=(2, 1))),
        ("n2", random_lif(rng, (8, 4, 5))),
        ("p", SumPool(2, 64)), ("np", random_lif(rng, (8, 2, 2)))])


@pytest.mark.parametrize("make", [lambda: residual_graph(seed=6), lambda: odd_conv_chain(3, 0),
                                  lambda: odd_conv_chain(4, 6)],
                         ids=["residual", "binary", "graded"])
def test_lava_with_fast_and_stock_conv_gives_the_same_spikes(make):
    graph = make()
    x = random_inputs(graph, samples=2, steps=8, seed=1)
    fast = run_lava(graph, x, conv="fast")
    stock = run_lava(graph, x, conv="stock")
    emulated = Emulator(graph).run(torch.as_tensor(x))
    for name in graph.neuron_names:
        np.testing.assert_array_equal(fast[name], stock[name], err_msg=name)
        np.testing.assert_array_equal(fast[name], emulated[name].numpy(), err_msg=name)
    assert all(fast[n].any() for n in graph.neuron_names)


def test_fast_conv_runs_depthwise_convs_over_more_than_127_channels():
    """Lava's stock model keeps groups in an int8 Var; ours in 32 bits."""
    channels = 130
    graph = chain([("x", Input((channels, 4, 4))), ("p", SumPool(2, 64)),
                   ("n", LIF((channels, 2, 2), threshold_mant=100, current_decay_12bit=4096,
                             voltage_decay_12bit=4096))])
    x = random_inputs(graph, samples=1, steps=5, seed=2)
    lava = run_lava(graph, x)["n"]
    np.testing.assert_array_equal(lava, Emulator(graph).run(torch.as_tensor(x))["n"].numpy())
    assert lava.any()

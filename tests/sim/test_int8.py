"""The int8 convolution path: weights split exactly into 8-bit mantissas and power-of-two
scales, and oneDNN's int8 sums of spikes equal float64 sums bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from spikedeploy.sim import exact, int8
from spikedeploy.sim.exact import Spikes, conv_frames, sumpool_frames

needs_int8 = pytest.mark.skipif(not int8.int8_exact_here(),
                                reason="no exact oneDNN int8 convolution in this torch build")


@pytest.mark.parametrize("row, mantissas, scale", [
    ([3, -128, 127, 0], [3, -128, 127, 0], 1),
    ([256, -256, 4], [64, -64, 1], 4),
    ([130, -2], [65, -1], 2),
    ([-256], [-128], 2),
    ([0, 0], [0, 0], 1),
])
def test_weights_split_into_mantissa_and_power_of_two(row, mantissas, scale):
    weight = np.array(row).reshape(1, len(row), 1, 1)
    got, scales = int8.int8_weights(weight)
    assert got.dtype == np.int8 and got.ravel().tolist() == mantissas
    assert scales.tolist() == [scale]


@pytest.mark.parametrize("row", [[129], [256, 2], [255, -255], [1 << 40, 1]])
def test_weights_without_an_8_bit_form_are_refused(row):
    assert int8.int8_weights(np.array(row).reshape(1, -1, 1, 1)) is None


def test_scales_are_per_output_channel():
    weight = np.array([[1, -3], [512, 256]]).reshape(2, 2, 1, 1)
    got, scales = int8.int8_weights(weight)
    assert got.reshape(2, 2).tolist() == [[1, -3], [64, 32]] and scales.tolist() == [1, 8]


def test_this_machine_runs_the_int8_path():
    """CI's machines have oneDNN int8 kernels; if this fails the emulator silently runs its
    float path (still exact, 2-4x slower), which the benchmarks would report."""
    assert int8.int8_exact_here() == torch.backends.mkldnn.is_available()


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 2, 4]))
    cin, cout = groups * draw(st.integers(1, 5)), groups * draw(st.integers(1, 5))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    size = draw(st.integers(max(kernel) * 2, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    exponents = rng.integers(0, 4, (cout, 1, 1, 1))
    weight = rng.integers(-128, 128, (cout, cin // groups, *kernel)) << exponents
    spikes = rng.random((draw(st.integers(1, 5)), cin, size, size)) < draw(
        st.floats(0.0, 1.0))
    return dict(weight=weight, spikes=spikes,
                stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                padding=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
                dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 2))), groups=groups)


@needs_int8
@given(conv_cases())
def test_int8_conv_equals_float64_conv(case):
    conv = int8.int8_conv(case["weight"], case["stride"], case["padding"], case["dilation"],
                          case["groups"])
    spikes = torch.from_numpy(case["spikes"])
    got = conv(spikes.to(torch.uint8).contiguous(memory_format=torch.channels_last))
    expected = F.conv2d(spikes.to(torch.float64), torch.from_numpy(case["weight"]).double(),
                        stride=case["stride"], padding=case["padding"],
                        dilation=case["dilation"], groups=case["groups"])
    assert got.dtype == torch.float32 and torch.equal(got.double(), expected)


def _delayed_spikes(rng, shape, steps=4):
    delayed = torch.zeros((steps + 1, *shape), dtype=torch.uint8)
    delayed[1:] = torch.from_numpy(rng.random((steps, *shape)) < 0.3)
    return Spikes(delayed)


@needs_int8
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_conv_frames_same_with_and_without_int8(monkeypatch, layout):
    rng = np.random.default_rng(3)
    spikes = _delayed_spikes(rng, (2, 6, 9, 9))
    if layout == "channels_last":
        spikes = Spikes(spikes.delayed.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3))
    weight = rng.integers(-100, 100, (8, 6, 3, 3)) * 2
    fast = conv_frames(spikes, weight, (1, 1), (1, 1), (1, 1), 1)
    fast_pool = sumpool_frames(spikes, (2, 2), 64, (2, 2), (0, 0))
    monkeypatch.setattr(exact, "int8_conv", lambda *args: None)
    slow = conv_frames(spikes, weight, (1, 1), (1, 1), (1, 1), 1)
    slow_pool = sumpool_frames(spikes, (2, 2), 64, (2, 2), (0, 0))
    assert torch.equal(fast.values, slow.values) and fast.bound == slow.bound
    assert torch.equal(fast_pool.values, slow_pool.values)


def test_graded_input_takes_the_float_path(monkeypatch):
    """8-bit pixels could saturate oneDNN's int16 pairs on CPUs without VNNI (int8.py)."""
    monkeypatch.setattr(exact, "int8_conv", lambda *args: pytest.fail("int8 path taken"))
    frames = torch.full((2, 1, 3, 5, 5), 200, dtype=torch.int64)
    sums = conv_frames(frames, np.ones((1, 3, 3, 3), np.int64), (1, 1), (1, 1), (1, 1), 1)
    assert sums.values[1, 0, 0, 2, 2] == 200 * 27

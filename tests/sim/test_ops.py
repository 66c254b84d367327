"""Synapse operations against hand-computed values, and the one-step latency of synapses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikedeploy.graph import LIF, Average, Conv, Dense, Flatten, Graph, Input, SumPool
from spikedeploy.sim.exact import exact_dtype as _exact_dtype
from spikedeploy.sim.exact import lava_dense_weights
from spikedeploy.sim.ops import OpContext, average_op, conv_op, dense_op, flatten_op, sumpool_op


def frames(array, steps=2):
    """One sample whose first frame is `array`, later frames zero: (1, *shape, steps)."""
    x = torch.zeros((1, *np.shape(array), steps), dtype=torch.int64)
    x[..., 0] = torch.as_tensor(array)
    return x


def apply(op_factory, node, x):
    """Run one op on a sample-major (N, *shape, T) input; the result comes back sample-major."""
    return op_factory(node, OpContext())([x.movedim(-1, 0).contiguous()]).movedim(0, -1)


def test_conv_is_cross_correlation_one_step_later():
    weight = np.arange(1, 10).reshape(1, 1, 3, 3) * 2
    x = np.zeros((1, 3, 3), np.int64)
    x[0, 1, 1] = 1                                   # one spike in the middle
    out = apply(conv_op, Conv(weight, padding=1), frames(x))
    assert out[..., 0].abs().sum() == 0              # nothing arrives in the same step
    # cross-correlation: out[i, j] = w[2 - i, 2 - j] for a centred impulse
    assert out[0, 0, :, :, 1].tolist() == np.flip(weight[0, 0]).tolist()


def test_conv_output_wraps_to_24_bits_like_lava():
    x = np.full((1, 1, 1), 2**16, np.int64)          # graded payload
    out = apply(conv_op, Conv(np.full((1, 1, 1, 1), 254)), frames(x))
    assert int(out[0, 0, 0, 0, 1]) == 254 * 2**16 - 2**24   # 16646144 wraps to -131072


def test_strided_grouped_conv_shape_and_values():
    weight = np.ones((2, 1, 2, 2), np.int64) * np.array([2, 4]).reshape(2, 1, 1, 1)
    x = np.ones((2, 4, 4), np.int64)
    out = apply(conv_op, Conv(weight, stride=2, groups=2), frames(x))
    assert out.shape == (1, 2, 2, 2, 2)
    assert out[0, :, :, :, 1].tolist() == [[[8, 8], [8, 8]], [[16, 16], [16, 16]]]


def test_sumpool_sums_each_window_times_weight():
    x = np.array([[[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0], [1, 1, 0, 1]]])
    out = apply(sumpool_op, SumPool(kernel=2, weight=6), frames(x))
    assert out[0, 0, :, :, 1].tolist() == [[6, 18], [24, 6]]


def test_dense_weight_exp_shifts_with_floor():
    weight = np.array([[-2, -4], [2, 4]])            # sums -6 and 6 when both inputs spike
    out = apply(dense_op, Dense(weight, weight_exp=-2), frames(np.array([1, 1])))
    assert out[0, :, 1].tolist() == [-2, 1]          # floor(-6 / 4) = -2, floor(6 / 4) = 1


def test_dense_uses_the_weights_lava_keeps():
    assert lava_dense_weights(np.array([[3, -3, 255]])).tolist() == [[2, -4, 254]]   # mixed
    assert lava_dense_weights(np.array([[3, 255]])).tolist() == [[3, 255]]           # excit.
    assert lava_dense_weights(np.array([[-256, -3]])).tolist() == [[-255, -3]]       # inhib.


def test_flatten_is_channel_major():
    x = np.arange(12).reshape(3, 2, 2)
    out = apply(flatten_op, Flatten(), frames(x))
    assert out[0, :, 0].tolist() == list(range(12))


@pytest.mark.parametrize("bound,dtype", [(2**24 - 1, torch.float32), (2**24, torch.float64),
                                         (2**53 - 1, torch.float64)])
def test_exact_dtype_keeps_partial_sums_exact(bound, dtype):
    assert _exact_dtype(bound, 1, 1) is dtype


def test_exact_dtype_refuses_what_no_float_holds():
    with pytest.raises(OverflowError):
        _exact_dtype(2**30, 2**24, 1)


def test_emulator_sums_several_edges_into_one_neuron():
    from spikedeploy.sim import Emulator

    nodes = {"x": Input((1,)), "a": Dense(np.array([[10]])), "b": Dense(np.array([[-4]])),
             "n": LIF((1,), threshold_mant=1000, current_decay_12bit=4096,
                      voltage_decay_12bit=4096)}
    graph = Graph(nodes, [("x", "a"), ("x", "b"), ("a", "n"), ("b", "n")])
    out = Emulator(graph).run(frames(np.array([1]), steps=3), record=["n"])
    assert out["n"].tolist() == [[[0, 0, 0]]]
    from spikedeploy.sim.lif import LIFParams, lif_run
    _, u, _ = lif_run(torch.tensor([[[0, 6, 0]]]), LIFParams.from_node(nodes["n"]), True)
    assert u.tolist() == [[[0, 384, 0]]]             # (10 - 4) << 6 in the second step


# -- delays, netx's weight fit, readouts, and Lava's casts --------------------------------------
def test_dense_delays_arrive_one_plus_delay_steps_later():
    # input spikes at t = 0 only; synapse (0, 0) has delay 2, (0, 1) delay 0, (1, 0) delay 1
    weight, delay = np.array([[4, 6], [8, 0]]), np.array([[2, 0], [1, 0]])
    out = apply(dense_op, Dense(weight, delay=delay), frames(np.array([1, 1]), steps=5))
    assert out[0, 0].tolist() == [0, 6, 0, 4, 0]
    assert out[0, 1].tolist() == [0, 0, 8, 0, 0]


def test_delay_parts_are_shifted_before_they_are_added():
    # DelayDense shifts each delay's partial sum on its own before adding it to its buffer
    weight = np.array([[6, 6]])
    both_now = torch.as_tensor(np.array([[1, 0, 0], [1, 0, 0]])[None])
    plain = Dense(weight, weight_exp=-2, delay=np.array([[0, 0]]))
    assert apply(dense_op, plain, both_now)[0, 0].tolist() == [0, 3, 0]     # floor(12 / 4)
    # input 1 at t=0 with delay 1 and input 0 at t=1 with delay 0 both land at t=2
    staggered = torch.as_tensor(np.array([[0, 1, 0], [1, 0, 0]])[None])
    split = Dense(weight, weight_exp=-2, delay=np.array([[0, 1]]))
    assert apply(dense_op, split, staggered)[0, 0].tolist() == [0, 0, 2]   # 2 * floor(6 / 4)


def test_netx_fitted_dense_is_an_exact_sum_for_odd_weights():
    """netx's fit keeps odd mixed weights (Lava's default 8 bits would drop their last bit)."""
    weight = np.array([[3, -5, 7]])
    x = frames(np.array([1, 1, 1]))
    assert apply(dense_op, Dense(weight, netx_weight_fit=True), x)[0, 0, 1] == 5
    assert apply(dense_op, Dense(weight), x)[0, 0, 1] == 2 - 6 + 6


def test_lava_truncates_to_num_weight_bits():
    # excitatory, 6 bits: the 2 low bits go; inhibitory by magnitude; mixed one more bit
    assert lava_dense_weights(np.array([[7, 255]]), 6).tolist() == [[4, 252]]
    assert lava_dense_weights(np.array([[-7, -255]]), 6).tolist() == [[-4, -252]]
    assert lava_dense_weights(np.array([[7, -7]]), 6).tolist() == [[0, -8]]


def test_average_is_the_mean_of_consecutive_groups():
    x = frames(np.array([1, 1, 0, 1, 0, 0]))
    out = apply(average_op, Average(3), x)
    assert out.dtype == torch.float64
    assert out[0, :, 0].tolist() == [1.0, 0.5, 0.0] and not out[..., 1].any()


def test_conv_sums_beyond_int32_follow_numpys_cast_like_lava():
    """Lava casts float64 sums to int32 before wrapping to 24 bits: beyond int32 the cast
    decides (INT32_MIN on x86, which wraps to 0)."""
    x = np.full((1, 2, 2), 2**23, np.int64)                # 24-bit graded payloads
    out = apply(conv_op, Conv(np.full((1, 1, 2, 2), 255)), frames(x))
    with np.errstate(invalid="ignore"):
        lava = np.array([255.0 * 4 * 2**23]).astype(np.int32)[0]
    assert int(out[0, 0, 0, 0, 1]) == ((int(lava) + 2**23) % 2**24) - 2**23


def test_what_the_emulator_cannot_follow_is_refused_in_one_line():
    from spikedeploy.errors import SpikedeployError

    big = frames(np.array([2**24 - 1, 1]))                 # graded 24-bit payloads
    delayed = Dense(np.array([[255, 2]]), weight_exp=-1, delay=np.array([[0, 1]]))
    with pytest.raises(SpikedeployError, match="wraps each product"):
        apply(dense_op, delayed, big)
    with pytest.raises(SpikedeployError, match="cannot be computed exactly"):
        _exact_dtype(2**30, 2**24, 1)

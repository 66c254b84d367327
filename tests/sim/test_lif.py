"""Hand-computed LIF traces: the emulator's neuron against arithmetic done on paper."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from spikedeploy.graph import LIF
from spikedeploy.sim.lif import LIFParams, lif_run, lif_run_steps, reset_schedule


def run(node: LIF, activation: list[int]):
    a = torch.tensor(activation, dtype=torch.int64).reshape(1, 1, -1)
    spikes, u, v = lif_run(a, LIFParams.from_node(node), return_state=True)
    return spikes[0, 0].tolist(), u[0, 0].tolist(), v[0, 0].tolist()


def neuron(**kw) -> LIF:
    params = dict(shape=(1,), threshold_mant=10, current_decay_12bit=1024,
                  voltage_decay_12bit=512)
    params.update(kw)
    return LIF(**params)


def test_integrates_decays_and_fires():
    # u = rtz(u * 3072/4096) + (a << 6);  v = rtz(v * 3584/4096) + u;  spike when v > 640
    # t0: u=320 v=320 | t1: u=240 v=280+240=520 | t2: u=180 v=455+180=635 (<= 640)
    # t3: u=135+192=327, v=555+327=882 > 640: spike, v reset to 0
    spikes, u, v = run(neuron(), [5, 0, 0, 3])
    assert spikes == [0, 0, 0, 1]
    assert u == [320, 240, 180, 327]
    assert v == [320, 520, 635, 0]


def test_decay_rounds_toward_zero_for_negative_state():
    # factor 4096 - 1096 = 3000: -320 * 3000 / 4096 = -234.375 -> -234 (floor would be -235)
    # bias 2 -> +128 per step on v; v: -320+128 = -192, then rtz(-192*3584/4096)=-168 -234+128
    spikes, u, v = run(neuron(current_decay_12bit=1096, bias_mant=np.array([2])), [-5, 0])
    assert u == [-320, -234]
    assert v == [-192, -274]
    assert spikes == [0, 0]


def test_threshold_is_strictly_greater():
    # no decay of u, v forgets fully: v = u = a << 6. a = 10 gives v = 640 == threshold.
    _, _, v_eq = run(neuron(current_decay_12bit=4096, voltage_decay_12bit=4096), [10])
    spikes, _, _ = run(neuron(current_decay_12bit=4096, voltage_decay_12bit=4096), [10, 11])
    assert v_eq == [640]
    assert spikes == [0, 1]


def test_bias_alone_drives_spikes():
    # v += 5 << 6 = 320 per step with no leak: 320, 640 (not > 640), 960 -> spike -> 0, 320...
    spikes, _, v = run(neuron(voltage_decay_12bit=0, bias_mant=np.array([5])), [0] * 5)
    assert spikes == [0, 0, 1, 0, 0]
    assert v == [320, 640, 0, 320, 640]


def test_current_wraps_once_at_24_bits():
    # (2^17 + 1) << 6 = 2^23 + 64 > 2^23 -> minus 2^24 = -8388544; 2^17 << 6 = 2^23 stays
    _, u, _ = run(neuron(current_decay_12bit=4096, threshold_mant=131071), [2**17 + 1, 2**17])
    assert u == [-8388544, 8388608]


def test_voltage_clips_at_24_bits():
    # u stays -2^22 (no decay); v = -2^22, then -2^23 clipped to -(2^23 - 1), and stays there
    _, u, v = run(neuron(current_decay_12bit=0, voltage_decay_12bit=0), [-2**16, 0, 0])
    assert u == [-4194304] * 3
    assert v == [-4194304, -8388607, -8388607]


@pytest.mark.parametrize("decay", [0, 4096])
def test_extreme_decays(decay):
    spikes, u, _ = run(neuron(current_decay_12bit=decay, threshold_mant=1000), [1, 0, 0])
    assert u == ([64, 64, 64] if decay == 0 else [64, 0, 0])
    assert spikes == [0, 0, 0]


# -- the compiled kernel against the torch reference, and netx's reset schedule -------------
@pytest.mark.parametrize("seed", range(4))
def test_compiled_kernel_equals_torch_reference(seed):
    """Random decays, biases, thresholds and inputs up to past int32 (the wraps), with resets."""
    rng = np.random.default_rng(seed)
    node = LIF(shape=(3, 5, 7), threshold_mant=int(rng.integers(0, 1 << 17)),
               current_decay_12bit=int(rng.integers(0, 4097)),
               voltage_decay_12bit=int(rng.integers(0, 4097)),
               bias_mant=rng.integers(-4096, 4096, 3))
    scale = [2**6, 2**17, 2**26, 2**31][seed]
    activation = torch.as_tensor(rng.integers(-scale, scale, (9, 4, 3, 5, 7)))   # (T, N, ...)
    reset = rng.random(9) < 0.3
    params = LIFParams.from_node(node)
    fast = lif_run_steps(activation, params, reset, return_state=True, use_kernel=True)
    slow = lif_run_steps(activation, params, reset, return_state=True, use_kernel=False)
    for a, b in zip(fast, slow, strict=True):
        assert torch.equal(a.to(torch.int64), b.to(torch.int64))


def test_netx_reset_schedule():
    # Lava counts steps from 1; LIFReset zeroes u and v when step % 4 == offset % 4
    assert reset_schedule(9, 4, 1).tolist() == [1, 0, 0, 0, 1, 0, 0, 0, 1]
    assert reset_schedule(9, 4, 3).tolist() == [0, 0, 1, 0, 0, 0, 1, 0, 0]
    assert reset_schedule(6, 4, 5).tolist() == [1, 0, 0, 0, 1, 0]      # offset taken mod 4
    assert not reset_schedule(5, None, 1).any()


def test_reset_zeroes_state_before_the_step():
    # bias 5 << 6 per step, no leak, threshold 10 << 6: v = 320, 640, reset -> 320, 640
    node = neuron(voltage_decay_12bit=0, bias_mant=np.array([5]))
    a = torch.zeros((1, 1, 4), dtype=torch.int64)
    _, _, v = lif_run(a, LIFParams.from_node(node), True, reset=np.array([0, 0, 1, 0], bool))
    assert v[0, 0].tolist() == [320, 640, 320, 640]


def test_the_kernel_leaves_multiprocessing_start_method_unset():
    """Lava sets the start method when imported and fails if something else set it first."""
    code = ("import multiprocessing as mp, numpy as np\n"
            "from spikedeploy.sim.lif_kernel import lif_kernel\n"
            "lif_kernel(np.ones((2, 3), np.int32), np.zeros(3, np.int64), np.zeros(2, bool), "
            "(1, 1), 0)\n"
            "assert mp.get_start_method(allow_none=True) is None\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)

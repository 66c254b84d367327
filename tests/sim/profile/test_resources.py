"""Chip resources and the warning for each layer that breaks a limit."""

from __future__ import annotations

import numpy as np

from spikedeploy.graph import LIF, Conv, Dense, Input, SumPool, chain
from spikedeploy.sim.profile import profile
from spikedeploy.sim.profile.resources import CHIP_DIR


def limits_of(p):
    return {(w["layer"], w["limit"]) for w in p.warnings}


def test_resources_per_layer_at_the_chip_bit_widths():
    graph = chain([("x", Input((1, 4, 4))), ("c", Conv(np.full((2, 1, 3, 3), 2), padding=1)),
                   ("n", LIF((2, 4, 4), 10, 0, 0)), ("p", SumPool(kernel=2, weight=64)),
                   ("np", LIF((2, 2, 2), 10, 0, 0))])
    p = profile(graph, np.zeros((1, 1, 4, 4, 3), np.int64))
    conv, pool = p.resources["n"], p.resources["np"]
    # 3x3 'same' conv on 4x4: fan-ins 4 (corners), 6 (edges), 9 (inside) -> 4*4+8*6+4*9 = 100
    assert conv["neurons"] == 32 and conv["synapses"] == 2 * 100 and conv["fan_in_max"] == 9
    assert conv["synaptic_memory_bits"] == 200 * 8 and conv["shared_weight_memory_bits"] == 18 * 8
    assert conv["neuron_memory_bits"] == 32 * (24 + 24 + 13)
    assert pool["synapses"] == 32 and pool["stored_weights"] == 2 * 4 and pool["fan_in_max"] == 4
    assert p.chips == 1 and conv["cores"] == pool["cores"] == 1
    assert p.warnings == []


def test_24_bit_state_overflow_seen_in_the_run_is_a_warning():
    graph = chain([("x", Input((1,), message_bits=24)), ("d", Dense(np.array([[254]]))),
                   ("n", LIF((1,), threshold_mant=(1 << 17) - 1, current_decay_12bit=0,
                             voltage_decay_12bit=0))])
    x = np.full((1, 1, 4), 1 << 15, np.int64)     # u asks for 254 * 2^15 * 64 > 2^23: wraps
    p = profile(graph, x)
    assert ("n", "state_overflow") in limits_of(p)
    assert p.counts.state["n"]["current_wraps"] == 3    # steps 1..3 receive input
    assert p.counts.state["n"]["max_abs_current"] >= 254 * (1 << 15) * 64


def test_odd_mixed_sign_weights_fan_in_and_bias_break_the_limits_of_a_small_chip(tmp_path):
    small = (CHIP_DIR / "loihi2.toml").read_text()
    small = small.replace("value = 4096", "value = 3").replace("value = 13", "value = 4")
    (tmp_path / "small.toml").write_text(small)
    graph = chain([("x", Input((4,))), ("d", Dense(np.array([[3, -2, 2, 2]]))),
                   ("n", LIF((1,), 10, 0, 0, bias_mant=np.array([9])))])
    p = profile(graph, np.zeros((1, 4, 2), np.int64), chip=str(tmp_path / "small.toml"))
    assert limits_of(p) == {("n", "weight_precision"), ("n", "fan_in"), ("n", "bias_range")}
    assert all(w["message"] and "\n" not in w["message"] for w in p.warnings)

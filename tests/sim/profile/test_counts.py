"""Counts and energies against values computed by hand on a two-layer graph."""

from __future__ import annotations

import numpy as np
import pytest

from spikedeploy.graph import LIF, Conv, Dense, Input, chain
from spikedeploy.sim.profile import count, profile
from spikedeploy.sim.profile.connectivity import conv_connectivity

# threshold 0 and decays of 4096 (forget everything): a neuron spikes exactly when its summed
# input is positive, and its state is non-zero only in the step after positive input.
FORGETFUL = dict(threshold_mant=0, current_decay_12bit=4096, voltage_decay_12bit=4096)


def two_layers():
    return chain([("x", Input((3,))), ("d1", Dense(np.array([[2, 0, 4], [0, 0, 6]]))),
                  ("n1", LIF((2,), **FORGETFUL)), ("d2", Dense(np.array([[2, 2]]))),
                  ("n2", LIF((1,), **FORGETFUL))])


# one sample, 4 steps: input neuron i over time
X = np.array([[[1, 0, 0, 1], [1, 1, 0, 0], [0, 0, 1, 0]]])


def test_counts_per_node_and_step_by_hand():
    c = count(two_layers(), X)
    assert c.samples == 1 and c.steps == 4
    assert c.events["x"].tolist() == [2, 1, 1, 1]
    # n1 gets W @ x[t-1] = [0,0], [2,0], [0,0], [4,6]: spikes at t1 (neuron 0), t3 (both)
    assert c.events["n1"].tolist() == [0, 1, 0, 2]
    assert c.events["n2"].tolist() == [0, 0, 1, 0]      # 2 arrives at t2; t3's spikes never do
    d1, d2 = c.synaptic_ops["d1"], c.synaptic_ops["d2"]
    # charged at the emission step: non-zero fan-outs of inputs are 1, 0, 2; all fan-outs 2
    assert d1["effective"].tolist() == [1, 0, 2, 1]
    assert d1["chip"].tolist() == [4, 2, 2, 2]
    assert d1["dense"].tolist() == [6, 6, 6, 6]
    assert d2["effective"].tolist() == d2["chip"].tolist() == [0, 1, 0, 2]
    assert d2["dense"].tolist() == [2, 2, 2, 2]
    # active: positive input now, or state left from positive input in the step before
    assert c.active_updates["n1"].tolist() == [0, 1, 1, 2]
    assert c.active_updates["n2"].tolist() == [0, 0, 1, 1]
    assert c.inactive_updates("n1").tolist() == [2, 1, 1, 0]
    assert c.messages["x"].tolist() == [2, 1, 1, 1]
    assert c.messages["n1"].tolist() == [0, 1, 0, 2]
    assert c.messages["n2"].tolist() == [0, 0, 0, 0]    # the output layer feeds nothing
    assert c.state["n1"]["current_wraps"] == c.state["n1"]["voltage_clips"] == 0
    assert c.state["n1"]["max_abs_current"] == 6 << 6


def test_per_inference_sparsity_and_energy_by_hand():
    p = profile(two_layers(), np.concatenate([X, X]))       # two equal samples: same averages
    t = p.totals
    assert (t["spikes"], t["input_events"], t["spike_messages"]) == (4, 5, 8)
    assert (t["synaptic_ops_effective"], t["synaptic_ops_chip"], t["synaptic_ops_dense"]) == \
        (7, 13, 32)
    assert (t["neuron_updates_active"], t["neuron_updates_inactive"], t["macs"]) == (6, 6, 8)
    assert p.sparsity["activation_sparsity"] == pytest.approx(1 - 4 / 12, abs=1e-15)
    assert p.sparsity["connection_sparsity"] == 3 / 8
    energy_pJ = {m: e["dynamic_J"] * 1e12 for m, e in p.energy.items()}
    # Davies 2018: 13 ops x 23.6 + 6 active x 81 + 6 inactive x 52 + 8 messages x 1.7
    assert energy_pJ["loihi-davies2018"] == pytest.approx(306.8 + 486 + 312 + 13.6)
    # SANA-FE: 13 dense-synapse ops x 35.5 + 12 accesses x 51.2 + 6 updates x 21.6
    #          + 4 spikes x 69.3 + 8 messages x 111
    assert energy_pJ["loihi-sanafe"] == pytest.approx(461.5 + 614.4 + 129.6 + 277.2 + 888)
    assert energy_pJ["ann-horowitz2014-fp32"] == pytest.approx(8 * (3.7 + 0.9))
    assert energy_pJ["ann-horowitz2014-int8"] == pytest.approx(8 * (0.2 + 0.03))
    assert all(e["static_J"] is None and e["static_note"] for e in p.energy.values())
    assert p.energy["loihi-davies2018"]["per_layer_dynamic_J"]["x"] * 1e12 == \
        pytest.approx(5 * 1.7)                          # the input only sends messages


def test_conv_fanout_counts_synapses_inside_the_bounds_only():
    kernel = np.full((1, 1, 3, 3), 2)
    kernel[0, 0, 1, 1] = 0                               # no synapse onto the same position
    conn = conv_connectivity(Conv(kernel, padding=1), (1, 3, 3))
    # a corner pixel is read by 4 outputs, an edge pixel by 6, the centre by 9
    assert conn.fanout_all.reshape(3, 3).tolist() == [[4, 6, 4], [6, 9, 6], [4, 6, 4]]
    assert (conn.fanout_nonzero == conn.fanout_all - 1).all()
    assert conn.fan_in_all.reshape(3, 3).tolist() == [[4, 6, 4], [6, 9, 6], [4, 6, 4]]
    assert conn.synapses == 49 and conn.nonzero_synapses == 40 and conn.stored_weights == 9


def test_graded_input_counts_non_zero_payloads_as_events():
    graph = chain([("x", Input((2,), message_bits=4)), ("d", Dense(np.array([[2, 2]]))),
                   ("n", LIF((1,), **FORGETFUL))])
    c = count(graph, np.array([[[5, 0, 3], [0, 0, 7]]]))
    assert c.events["x"].tolist() == [1, 0, 2]
    assert c.synaptic_ops["d"]["effective"].tolist() == [1, 0, 2]


def test_a_recording_that_disagrees_is_counted_as_recorded_and_flagged():
    graph = two_layers()
    recorded = {"n1": np.zeros((1, 2, 4), np.uint8), "n2": np.zeros((1, 1, 4), np.uint8)}
    p = profile(graph, X, recorded, source="test")
    assert p.counts.events["n1"].sum() == 0 and p.counts.synaptic_ops["d2"]["chip"].sum() == 0
    assert p.counts.state["n1"]["replay_mismatches"] == 3
    assert any(w["limit"] == "recording" and w["layer"] == "n1" for w in p.warnings)

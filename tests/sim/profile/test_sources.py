"""Counts from the emulator, the Lava simulator and the training model agree exactly."""

from __future__ import annotations

import numpy as np
import pytest

from spikedeploy.deploy import run_lava
from spikedeploy.sim.profile import count
from tests.sim.profile.tiny_model import tiny_model, training_recording

pytestmark = pytest.mark.lava


def assert_same_counts(a, b):
    assert (a.samples, a.steps) == (b.samples, b.steps)
    for field in ("events", "active_updates", "neuron_updates", "messages"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.keys() == y.keys()
        for name in x:
            np.testing.assert_array_equal(x[name], y[name], err_msg=f"{field} {name}")
    for syn, ops in a.synaptic_ops.items():
        for flavour, values in ops.items():
            np.testing.assert_array_equal(values, b.synaptic_ops[syn][flavour],
                                          err_msg=f"{syn} {flavour}")
    assert a.state == b.state


def test_emulator_lava_and_training_give_the_same_counts():
    model, graph, inputs = tiny_model(samples=2)
    emulated = count(graph, inputs)
    from_training = count(graph, inputs, training_recording(model, graph, inputs))
    from_lava = count(graph, inputs, run_lava(graph, inputs))
    assert_same_counts(emulated, from_training)
    assert_same_counts(emulated, from_lava)
    assert all(s["replay_mismatches"] == 0 for s in from_lava.state.values())
    assert all(emulated.events[n].sum() > 0 for n in graph.neuron_names)   # every layer fires
    assert any(emulated.inactive_updates(n).sum() > 0 for n in graph.neuron_names)

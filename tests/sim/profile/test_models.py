"""Energy model and chip files: every built-in one parses, every constant has a source, a user's
file is accepted, and broken files give one clear error."""

from __future__ import annotations

import numpy as np
import pytest

from spikedeploy.errors import SpikedeployError
from spikedeploy.graph import LIF, Dense, Input, chain
from spikedeploy.sim.profile import builtin_models, load_chip, load_model, profile
from spikedeploy.sim.profile.energy import COUNT_NAMES
from spikedeploy.sim.profile.resources import CHIP_LIMITS

USER_LOIHI2 = """
name = "loihi2-measured"
title = "Loihi 2, my measurements"
kind = "snn"
[[term]]
count = "synaptic_ops_effective"
energy_pJ = 10.0
source = "measured on our board, 2024-05"
[static]
power_W_per_chip = {value = 0.232, source = "lava-dl PilotNet LIF notebook: 0.232 W static"}
seconds_per_step = {value = 1e-5, source = "assumption: 10 us per step"}
"""


def test_builtin_models_parse_and_every_constant_has_a_source():
    assert set(builtin_models()) == {"loihi-davies2018", "loihi-sanafe",
                                     "ann-horowitz2014-fp32", "ann-horowitz2014-int8"}
    for name in builtin_models():
        model = load_model(name)
        assert model.name == name and model.title and model.terms
        for term in model.terms:
            assert term.count in COUNT_NAMES and term.energy_pJ > 0 and term.source.strip()
        assert model.static is not None or model.static_reason


def test_chip_file_parses_with_sources_and_labels_its_assumptions():
    chip = load_chip("loihi2")
    assert set(chip.limits) == set(CHIP_LIMITS)
    assert all(c.source.strip() for c in chip.limits.values())
    assert chip["cores_per_chip"] == 128
    for derived in ("neurons_per_core", "synapses_per_core", "fan_in_max"):
        assert chip.limits[derived].source.startswith("assumption")


def test_a_users_loihi2_file_with_static_power(tmp_path):
    (tmp_path / "mine.toml").write_text(USER_LOIHI2)
    graph = chain([("x", Input((2,))), ("d", Dense(np.array([[2, 0]]))),
                   ("n", LIF((1,), 0, 4096, 4096))])
    p = profile(graph, np.ones((1, 2, 5), np.int64), models=[str(tmp_path / "mine.toml")])
    energy = p.energy["loihi2-measured"]
    assert energy["dynamic_J"] == pytest.approx(5 * 10e-12)     # 5 events x 1 non-zero weight
    assert energy["static_J"] == pytest.approx(0.232 * 1 * 5 * 1e-5)    # 1 chip, 5 steps
    assert energy["total_J"] == pytest.approx(energy["dynamic_J"] + energy["static_J"])


@pytest.mark.parametrize("text,problem", [
    ("kind = 'snn'\nname='a'\ntitle='b'\n[[term]]\ncount='spikes'\nenergy_pJ=1.0\n",
     "needs a non-empty 'source'"),
    ("kind = 'snn'\nname='a'\ntitle='b'\n[[term]]\ncount='flops'\nenergy_pJ=1.0\nsource='x'\n",
     "unknown count 'flops'"),
    ("kind = 'gpu'\nname='a'\ntitle='b'\n", "kind must be one of"),
    ("kind = 'snn'\nname='a'\ntitle='b'\n[[term]]\ncount='spikes'\nenergy_pJ=-1\nsource='x'\n",
     "non-negative number 'energy_pJ'"),
    ("kind = 'snn'\nname='a'\ntitle='b'\n[[term]]\ncount='spikes'\nenergy_pJ=1\nsource='x'\n"
     "[static]\npower_W_per_chip = {value = 1}\n", "needs a non-empty 'source'"),
    ("not toml [", "not a TOML energy model"),
])
def test_bad_energy_files_give_one_line_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SpikedeployError, match=problem) as err:
        load_model(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_unknown_model_name_lists_the_builtin_ones():
    with pytest.raises(SpikedeployError, match="built-in models: ann-horowitz2014-fp32"):
        load_model("loihi3")

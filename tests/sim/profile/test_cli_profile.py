"""`spikedeploy profile` end to end on a small file: table, JSON, CSV and non-empty plots."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from spikedeploy import graph as graphio
from spikedeploy.cli import main
from spikedeploy.recording import save_recording
from spikedeploy.sim import Emulator
from tests.conftest import random_inputs, residual_graph

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def network(tmp_path):
    graph = residual_graph(seed=1)
    graphio.write(graph, tmp_path / "net.h5")
    x = random_inputs(graph, samples=6, steps=8, seed=2)
    np.save(tmp_path / "x.npy", x)
    return graph, x, tmp_path


def test_profile_writes_table_json_csv_and_plots(network, capsys):
    graph, _, folder = network
    out = folder / "prof"
    assert main(["profile", str(folder / "net.h5"), "--input", str(folder / "x.npy"),
                 "--layout", "slayer", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "[loihi-davies2018]" in printed and "[ann-horowitz2014-int8]" in printed
    assert "Intel publishes no per-operation energies" in printed
    report = json.loads((out / "profile.json").read_text())
    assert report["samples"] == 6 and report["steps"] == 8 and report["source"] == "emulator"
    assert set(report["energy"]) == {"loihi-davies2018", "loihi-sanafe",
                                     "ann-horowitz2014-fp32", "ann-horowitz2014-int8"}
    with open(out / "layers.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["layer"] for r in rows] == ["x", *graph.neuron_names]
    assert "energy_J[loihi-sanafe]" in rows[0]
    for name in ("firing_rate", "synaptic_ops", "energy_per_layer", "snn_vs_ann"):
        data = (out / "plots" / f"{name}.png").read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 2000


def test_profile_of_a_recording_equals_profile_of_the_emulator(network, tmp_path):
    graph, x, folder = network
    import torch
    spikes = Emulator(graph).run(torch.as_tensor(x[:4]), record=graph.neuron_names)
    save_recording(folder / "rec.npz", {n: v.numpy() for n, v in spikes.items()},
                   {"source": "emulator-recorded"}, "lava")
    args = ["--input", str(folder / "x.npy"), "--layout", "slayer", "--no-plots",
            "--no-progress"]
    assert main(["profile", str(folder / "net.h5"), *args, "--limit", "4",
                 "--out", str(tmp_path / "a")]) == 0
    assert main(["profile", str(folder / "net.h5"), *args, "--recording",
                 str(folder / "rec.npz"), "--out", str(tmp_path / "b")]) == 0
    a, b = (json.loads((tmp_path / d / "profile.json").read_text()) for d in "ab")
    assert b["source"] == "emulator-recorded" and b["samples"] == 4
    assert a["per_step_totals_over_samples"] == b["per_step_totals_over_samples"]
    assert a["energy"] == b["energy"]


def test_profile_errors_are_one_line(network, capsys):
    _, _, folder = network
    base = ["profile", str(folder / "net.h5"), "--input", str(folder / "x.npy"), "--layout",
            "slayer", "--no-progress", "--no-plots", "--out", str(folder / "p")]
    assert main([*base, "--energy-model", "loihi9"]) == 2
    assert main([*base, "--recording", str(folder / "missing.npz")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == ["error: no energy model 'loihi9'; built-in models: ann-horowitz2014-fp32, "
                      "ann-horowitz2014-int8, loihi-davies2018, loihi-sanafe, or give a .toml "
                      "file", f"error: {folder / 'missing.npz'}: no such file"]

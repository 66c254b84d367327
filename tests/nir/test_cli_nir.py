"""`spikedeploy nir export/import` end to end; an imported network runs on the emulator and on
Lava with the same spikes; bad files give one line and write nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from spikedeploy import graph as graphio
from spikedeploy.cli import main
from spikedeploy.nir import from_nir, read_nir
from spikedeploy.recording import load_recording
from spikedeploy.sim import Emulator
from tests.conftest import random_inputs, residual_graph
from tests.fixtures.make_snntorch_nir import FIXTURE


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "spikedeploy", *args], capture_output=True,
                          text=True, timeout=300)


def test_export_then_import_gives_the_same_network(tmp_path, capsys):
    graphio.write(residual_graph(seed=2), tmp_path / "net.h5")
    assert main(["nir", "export", str(tmp_path / "net.h5"), str(tmp_path / "net.nir")]) == 0
    assert main(["nir", "import", str(tmp_path / "net.nir"), str(tmp_path / "back.h5"),
                 "--report", str(tmp_path / "report.json")]) == 0
    assert graphio.read(tmp_path / "back.h5") == graphio.read(tmp_path / "net.h5")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["weight_scale"] == 64 and report["scale_source"] == "written by spikedeploy"
    assert "weight scale: 64" in capsys.readouterr().out


def test_imported_network_runs_in_sim(tmp_path, capsys):
    assert main(["nir", "import", str(FIXTURE), str(tmp_path / "net.h5")]) == 0
    x = np.random.default_rng(0).integers(0, 2, (3, 6, 20))
    np.save(tmp_path / "x.npy", x)
    assert main(["sim", str(tmp_path / "net.h5"), "--input", str(tmp_path / "x.npy"),
                 "--layout", "slayer", "--record", str(tmp_path / "rec.npz"),
                 "--no-progress"]) == 0
    recorded, _ = load_recording(tmp_path / "rec.npz")
    graph, _ = from_nir(read_nir(FIXTURE))
    expected = Emulator(graph).run(torch.as_tensor(x))["3"].numpy()
    np.testing.assert_array_equal(recorded["3"], expected)


@pytest.mark.lava
def test_imported_network_spikes_the_same_on_lava(tmp_path, capsys):
    from spikedeploy.deploy import run_lava

    graph, _ = from_nir(read_nir(FIXTURE))
    x = np.random.default_rng(1).integers(0, 2, (2, 6, 12))
    emulated = Emulator(graph).run(torch.as_tensor(x))
    lava = run_lava(graph, x)
    for name in graph.neuron_names:
        np.testing.assert_array_equal(lava[name], emulated[name].numpy(), err_msg=name)
    assert lava["3"].any()
    graphio.write(graph, tmp_path / "net.h5")
    np.save(tmp_path / "x.npy", x)
    assert main(["deploy", str(tmp_path / "net.h5"), "--input", str(tmp_path / "x.npy"),
                 "--layout", "slayer", "--compare", "--no-progress"]) == 0
    assert "spike agreement with the emulator: 1.000000" in capsys.readouterr().out


@pytest.mark.lava
def test_imported_residual_spikes_the_same_on_lava(tmp_path):
    from spikedeploy.deploy import run_lava
    from spikedeploy.nir import to_nir, write_nir

    write_nir(to_nir(residual_graph(seed=4)), tmp_path / "res.nir")
    graph, _ = from_nir(read_nir(tmp_path / "res.nir"))
    x = random_inputs(graph, samples=1, steps=6, seed=4)
    emulated, lava = Emulator(graph).run(torch.as_tensor(x)), run_lava(graph, x)
    for name in graph.neuron_names:
        np.testing.assert_array_equal(lava[name], emulated[name].numpy(), err_msg=name)


def test_bad_files_give_one_line_and_write_nothing(tmp_path):
    (tmp_path / "garbage.nir").write_bytes(b"garbage" * 100)
    graphio.write(residual_graph(), tmp_path / "ours.h5")
    cases = [
        (["nir", "import", str(tmp_path / "missing.nir"), str(tmp_path / "out.h5")],
         "missing.nir: no such file"),
        (["nir", "import", str(tmp_path / "garbage.nir"), str(tmp_path / "out.h5")],
         "garbage.nir: not a readable NIR file"),
        (["nir", "import", str(tmp_path / "ours.h5"), str(tmp_path / "out.h5")],
         "ours.h5: not a readable NIR file"),
        (["nir", "export", str(tmp_path / "garbage.nir"), str(tmp_path / "out.nir")],
         "garbage.nir: not a readable network file"),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith("error: ") and message in result.stderr
    assert not (tmp_path / "out.h5").exists() and not (tmp_path / "out.nir").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.nir", "ours.h5"]


def test_unmappable_node_names_the_file_and_the_node(tmp_path):
    import nir

    graph = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 3))),
                                   nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2)))
    nir.write(tmp_path / "li.nir", graph)
    result = run_cli("nir", "import", str(tmp_path / "li.nir"), str(tmp_path / "out.h5"),
                     "--report", str(tmp_path / "r.json"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {tmp_path / 'li.nir'}: cannot map NIR node 'li' (LI): a non-spiking "
        "integrator: Loihi's neurons spike, and spikedeploy reads networks out through spikes")
    assert not (tmp_path / "out.h5").exists() and not (tmp_path / "r.json").exists()

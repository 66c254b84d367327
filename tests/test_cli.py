"""The command line end to end on the tiny preset, and its one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from spikedeploy.cli import main
from spikedeploy.recording import load_recording
from tests.conftest import LAVA_DL_NETX, needs_lava_dl_data
from tests.graph.test_hostile import assert_plain_data

pytestmark = pytest.mark.lava


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    code = main(["demo", "--config", "tiny", "--out", str(out), "--no-progress"])
    return code, out


def test_demo_reports_exact_agreement(demo_run, capsys):
    code, out = demo_run
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    for key in ("heldout_accuracy_emulator", "lava_accuracy", "spike_agreement_lava_vs_emulator",
                "spike_agreement_train_vs_emulator"):
        assert 0.0 <= summary[key] <= 1.0
    assert summary["spike_agreement_lava_vs_emulator"] == 1.0
    assert summary["spike_agreement_train_vs_emulator"] == 1.0
    assert summary["heldout_samples"] == 96 and summary["lava_samples"] == 3
    profiled = summary["profile"]
    assert profiled["counts_agree_lava_vs_emulator"] is True and profiled["samples"] == 96
    assert set(profiled["energy_per_inference_J"]) == {
        "loihi-davies2018", "loihi-sanafe", "ann-horowitz2014-fp32", "ann-horowitz2014-int8"}
    assert (out / "profile" / "profile.json").is_file()
    assert any(line.startswith("  [loihi-sanafe]") for line in profiled["headline"])
    assert {"checkpoint.pt", "network.h5", "summary.json", "config.toml"} <= {
        p.name for p in out.iterdir()}


def test_exported_network_holds_only_plain_data(demo_run):
    """No pickle, object or opaque type anywhere in what `export` wrote (the demo's export)."""
    _, run = demo_run
    assert assert_plain_data(run / "network.h5") > 50


def test_stage_commands_chain_through_files(demo_run, tmp_path, capsys):
    _, run = demo_run
    assert main(["export", str(run / "checkpoint.pt"), "-o", str(tmp_path / "net.h5")]) == 0
    assert main(["info", str(tmp_path / "net.h5")]) == 0
    assert main(["sim", str(tmp_path / "net.h5"), "--limit", "4", "--record",
                 str(tmp_path / "emu.npz"), "--no-progress"]) == 0
    assert main(["deploy", str(tmp_path / "net.h5"), "--limit", "2", "--compare", "--record",
                 str(tmp_path / "lava.npz"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "spike agreement with the emulator: 1.000000" in out
    assert "accuracy:" in out and "spikes/sample" in out
    assert main(["profile", str(tmp_path / "net.h5"), "--recording", str(tmp_path / "lava.npz"),
                 "--out", str(tmp_path / "prof"), "--no-plots", "--no-progress"]) == 0
    profiled = json.loads((tmp_path / "prof" / "profile.json").read_text())
    assert profiled["source"] == "lava-sim" and profiled["samples"] == 2
    emu, meta = load_recording(tmp_path / "emu.npz")
    lava, _ = load_recording(tmp_path / "lava.npz")
    assert meta["layout"] == "lava" and meta["source"] == "emulator"
    for name, spikes in lava.items():
        np.testing.assert_array_equal(spikes, emu[name][:2])


def test_sim_takes_an_input_array_in_lavas_layout(demo_run, tmp_path, capsys):
    _, run = demo_run
    x = np.zeros((8, 8, 1, 12), np.int64)                 # (x, y, c, t): one sample
    x[2:6, 2:6] = 9
    np.save(tmp_path / "x.npy", x)
    assert main(["sim", str(run / "network.h5"), "--input", str(tmp_path / "x.npy"),
                 "--record", str(tmp_path / "r.npz"), "--no-progress"]) == 0
    spikes, _ = load_recording(tmp_path / "r.npz")
    assert spikes["stem"].shape == (1, 4, 8, 8, 12)
    assert re.search(r"^emulated 1 samples x 12 steps in [0-9.]+ s \([0-9]+ sample-steps / s\)$",
                     capsys.readouterr().out, re.MULTILINE)


@needs_lava_dl_data
def test_lava_dl_network_runs_on_both_sides_from_the_command_line(tmp_path, capsys):
    """tinynet as lava-dl's test feeds it: an image through the input neurons for 20 steps,
    netx's reset every 17; both records hold lava-dl's recorded output (one step later).
    The emulator runs first: Lava must still import afterwards (see sim/lif_kernel.py)."""
    np.save(tmp_path / "bias.npy", np.load(LAVA_DL_NETX / "gts/tinynet/input_bias.npy"))
    truth = np.load(LAVA_DL_NETX / "gts/tinynet/output.npy")[0].transpose(2, 1, 0, 3)
    common = [str(LAVA_DL_NETX / "tiny.net"), "--input", str(tmp_path / "bias.npy"),
              "--steps", "20", "--reset-interval", "17", "--no-progress"]
    assert main(["sim", *common, "--threads", "1", "--record", str(tmp_path / "emu.npz")]) == 0
    assert main(["deploy", *common, "--conv", "stock", "--compare",
                 "--record", str(tmp_path / "lava.npz")]) == 0
    assert "spike agreement with the emulator: 1.000000" in capsys.readouterr().out
    for record in ("emu.npz", "lava.npz"):
        spikes, meta = load_recording(tmp_path / record)
        assert meta["layout"] == "lava"
        lava_layout = spikes["layer2"][0].transpose(2, 1, 0, 3)        # back to (x, y, c, t)
        np.testing.assert_array_equal(lava_layout[..., 2:17], truth[..., 1:])


def test_lava_imports_after_an_emulator_run():
    """Lava sets multiprocessing's start method when imported and fails if anything fixed it
    before: neither the emulator (numba's threads) nor our progress bars (tqdm's lock) may."""
    code = ("import numpy as np\n"
            "from spikedeploy.sim.evaluate import evaluate\n"
            "from tests.conftest import random_inputs, residual_graph\n"
            "g = residual_graph()\n"
            "evaluate(g, random_inputs(g, 2, 4), progress=True)\n"
            "import lava.magma.core.process.process\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300, capture_output=True)


def test_steps_needs_an_input(tmp_path):
    result = run_cli("sim", str(tmp_path / "net.h5"), "--steps", "3")
    assert result.returncode == 2


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "spikedeploy", *args], capture_output=True,
                          text=True, timeout=300)


def test_errors_are_one_line_without_traceback(tmp_path):
    (tmp_path / "bad.h5").write_bytes(b"garbage" * 100)
    cases = [
        (["sim", str(tmp_path / "missing.h5")], "missing.h5: no such file"),
        (["sim", str(tmp_path / "bad.h5")], "bad.h5: not a readable network file"),
        (["export", str(tmp_path / "bad.h5")], "bad.h5: not a readable checkpoint"),
        (["train", "--config", "tiny", "train.nope=1"], "unknown config key 'train.nope'"),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == f"error: {result.stderr.strip()[7:]}"
        assert message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "network.h5").exists()


def test_loihi2_without_lava_loihi_says_so(demo_run):
    _, run = demo_run
    result = run_cli("deploy", str(run / "network.h5"), "--backend", "loihi2", "--limit", "1")
    assert result.returncode == 2
    assert "needs Intel's lava-loihi extension" in result.stderr


def test_input_of_the_wrong_shape_is_refused(demo_run, tmp_path):
    _, run = demo_run
    np.save(tmp_path / "x.npy", np.zeros((7, 8, 1, 12)))
    result = run_cli("sim", str(run / "network.h5"), "--input", str(tmp_path / "x.npy"))
    assert result.returncode == 2 and "does not fit the network input (8, 8, 1)" in result.stderr


def test_help_has_examples():
    for command in ("demo", "train", "export", "sim", "deploy", "info", "nir"):
        result = run_cli(command, "--help")
        assert result.returncode == 0 and "examples:" in result.stdout

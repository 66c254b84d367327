"""Lava runs that fail, time out or are interrupted stop cleanly and leave no process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from spikedeploy.deploy import run_lava
from spikedeploy.deploy.procs import recorder
from spikedeploy.errors import SpikedeployError
from spikedeploy.graph import write
from spikedeploy.recording import from_internal
from tests.conftest import random_inputs, residual_graph
from tests.processes import descendants, group_members, settle, with_default_sigint

pytestmark = pytest.mark.lava
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = dict(channels=2, size=4)


def _failing_recorder(monkeypatch, at_step: int = 3):
    """Every spike recorder raises at `at_step` (the models run in forked children, which
    inherit the patched class)."""
    original = recorder.PySpikeRecorderModel.run_spk

    def run_spk(self):
        if self.time_step == at_step:
            raise ValueError("injected failure")
        original(self)
    monkeypatch.setattr(recorder.PySpikeRecorderModel, "run_spk", run_spk)


def _slow_recorder(monkeypatch, seconds: float = 0.2):
    original = recorder.PySpikeRecorderModel.run_spk

    def run_spk(self):
        time.sleep(seconds)
        original(self)
    monkeypatch.setattr(recorder.PySpikeRecorderModel, "run_spk", run_spk)


def test_a_process_that_raises_mid_run_is_stopped_and_leaves_nothing(monkeypatch):
    graph = residual_graph(**SMALL)
    inputs = random_inputs(graph, 2, 6)
    before = descendants()
    _failing_recorder(monkeypatch)
    with pytest.raises(RuntimeError, match="in Lava's processes; the first: ValueError: "
                                           "injected failure"):
        run_lava(graph, inputs)
    assert settle(descendants, before) == before
    monkeypatch.undo()                        # and the next run in this process is unharmed
    assert run_lava(graph, inputs).keys() == set(graph.neuron_names)
    assert settle(descendants, before) == before


def test_a_run_past_its_timeout_is_stopped_and_leaves_nothing(monkeypatch):
    graph = residual_graph(**SMALL)
    before = descendants()
    _slow_recorder(monkeypatch)
    start = time.monotonic()
    with pytest.raises(SpikedeployError, match="did not finish within the timeout of 1 s"):
        run_lava(graph, random_inputs(graph, 3, 20), timeout_s=1.0)   # >= 12 s untimed
    assert time.monotonic() - start < 10
    assert settle(descendants, before) == before


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_a_timeout_must_be_positive(timeout):
    graph = residual_graph(**SMALL)
    with pytest.raises(SpikedeployError, match="timeout must be a positive number"):
        run_lava(graph, random_inputs(graph, 1, 2), timeout_s=timeout)


# -- through the command line, in a process group of its own as a shell would start it ---------
@pytest.fixture
def network(tmp_path):
    """A network file and (x.npy) an input in Lava's layout, long enough to interrupt."""
    graph = residual_graph(**SMALL)
    write(graph, tmp_path / "net.h5")
    np.save(tmp_path / "x.npy", from_internal(random_inputs(graph, 200, 50), "lava"))
    return tmp_path


def _start(args, patch: str = ""):
    """`python -m spikedeploy ARGS`, or with `patch` run first (python -c ...)."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    if patch:
        code = (f"import sys\n{patch}\nfrom spikedeploy.cli import main\n"
                f"sys.exit(main({list(args)!r}))\n")
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, "-m", "spikedeploy", *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=with_default_sigint)


SLOW_RECORDER = """
import time
from spikedeploy.deploy.procs import recorder
_original = recorder.PySpikeRecorderModel.run_spk
def _slow(self):
    time.sleep(0.2)
    _original(self)
recorder.PySpikeRecorderModel.run_spk = _slow
"""


def _deploy_args(folder, *extra):
    return ["deploy", str(folder / "net.h5"), "--input", str(folder / "x.npy"),
            "--record", str(folder / "out.npz"), "--no-progress", *extra]


FAILING_RECORDER = """
from spikedeploy.deploy.procs import recorder
_original = recorder.PySpikeRecorderModel.run_spk
def _failing(self):
    if self.time_step == 3:
        raise ValueError("injected failure")
    _original(self)
recorder.PySpikeRecorderModel.run_spk = _failing
"""


@pytest.mark.parametrize("patch,extra,code,message", [
    (SLOW_RECORDER, ["--timeout", "2"], 2,
     "error: .*: the Lava run did not finish within the timeout of 2 s; stopped it"),
    (FAILING_RECORDER, [], 1, "internal error: RuntimeError: .* in Lava's processes; the "
                              "first: ValueError: injected failure"),
], ids=["timeout", "failure"])
def test_cli_run_that_fails_exits_with_one_line_and_no_process_left(network, patch, extra,
                                                                    code, message):
    proc = _start(_deploy_args(network, "--limit", "3", *extra), patch)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert err.strip().splitlines() == [err.strip()]
    assert re.match(message, err.strip()), err
    assert settle(lambda: group_members(proc.pid), set()) == set()
    assert sorted(p.name for p in network.iterdir()) == ["net.h5", "x.npy"]


def test_ctrl_c_during_a_lava_run_exits_130_and_leaves_nothing(network):
    (network / "out.npz").write_bytes(b"an earlier recording")
    proc = _start(_deploy_args(network))
    # Lava forks a child per process model once the run starts: then interrupt it.
    started = settle(lambda: len(group_members(proc.pid)) > 5, True, timeout_s=120)
    assert started and proc.poll() is None, proc.communicate()[1]
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)            # what Ctrl-C in a terminal does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == "interrupted", err
    assert settle(lambda: group_members(proc.pid), set()) == set()
    assert (network / "out.npz").read_bytes() == b"an earlier recording"
    assert sorted(p.name for p in network.iterdir()) == ["net.h5", "out.npz", "x.npy"]


def test_sigterm_during_a_lava_run_exits_143_and_leaves_nothing(network):
    """A `kill` (or a job scheduler) sends SIGTERM to the main process only: its Lava children
    must not be orphaned."""
    proc = _start(_deploy_args(network))
    started = settle(lambda: len(group_members(proc.pid)) > 5, True, timeout_s=120)
    assert started and proc.poll() is None, proc.communicate()[1]
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.strip() == "terminated", err
    assert settle(lambda: group_members(proc.pid), set()) == set()
    assert sorted(p.name for p in network.iterdir()) == ["net.h5", "x.npy"]


def test_sigkill_during_a_lava_run_takes_its_children_along(network):
    """SIGKILL cannot be caught: the kernel ends Lava's children when their parent dies
    (PR_SET_PDEATHSIG, set as each is forked), so none runs on as an orphan."""
    proc = _start(_deploy_args(network))
    started = settle(lambda: len(group_members(proc.pid)) > 5, True, timeout_s=120)
    assert started and proc.poll() is None, proc.communicate()[1]
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert settle(lambda: group_members(proc.pid), set()) == set()
    assert sorted(p.name for p in network.iterdir()) == ["net.h5", "x.npy"]

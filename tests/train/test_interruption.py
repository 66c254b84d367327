"""A training run stopped from outside: Ctrl-C exits cleanly, SIGKILL at any moment leaves a
whole checkpoint to resume from, losing at most the epoch that was running.

The runs are real `python -m spikedeploy train` processes in their own process group, as a
shell starts them. (tests/train/test_trainer.py checks in-process that a resumed run ends with
the same weights, bit for bit, as one never stopped.)
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest

from spikedeploy.train.checkpoint import read_checkpoint
from tests.processes import group_members, settle, with_default_sigint

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--config", "tiny", "--no-progress", "train.qat_epochs=0", "data.limit=48"]


def _train(out, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "spikedeploy", "train", "--out", str(out),
                             *TINY, *extra], cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=with_default_sigint)


def _wait_for(path, proc, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def _leftovers(folder) -> list[str]:
    """Temporary files of interrupted atomic writes."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_ctrl_c_during_training_exits_130_and_leaves_whole_files(tmp_path):
    out = tmp_path / "run"
    proc = _train(out, "train.float_epochs=200")
    _wait_for(out / "checkpoint.pt", proc)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)                     # what Ctrl-C in a terminal does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err
    assert settle(lambda: group_members(proc.pid), set()) == set()
    assert _leftovers(out) == []
    checkpoint = read_checkpoint(out / "checkpoint.pt")
    assert 1 <= checkpoint["epoch"] < 200
    assert len(json.loads((out / "metrics.json").read_text())) == checkpoint["epoch"]


@pytest.mark.parametrize("seed", [0, 1])
def test_sigkill_at_a_random_moment_resumes_losing_at_most_one_epoch(tmp_path, seed):
    epochs = 8
    out = tmp_path / "run"
    proc = _train(out, f"train.float_epochs={epochs}")
    _wait_for(out / "checkpoint.pt", proc)
    time.sleep(random.Random(seed).uniform(0.0, 1.5))      # somewhere in a later epoch
    os.killpg(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert settle(lambda: group_members(proc.pid), set()) == set()
    finished = [int(n) for n in re.findall(r"^epoch (\d+)/", err, re.MULTILINE)]
    kept = read_checkpoint(out / "checkpoint.pt")          # whole, whatever the moment
    # Each epoch is logged after its checkpoint is in place: the checkpoint holds every epoch
    # reported finished, and at most the one whose log line the kill cut off.
    assert max(finished, default=0) <= kept["epoch"] <= max(finished, default=0) + 1
    if kept["epoch"] == epochs:
        pytest.skip("the kill came after the last epoch")
    before = kept["history"]
    resumed = _train(out, f"train.float_epochs={epochs}", "--resume")
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    history = json.loads((out / "metrics.json").read_text())
    assert [row["epoch"] for row in history] == list(range(1, epochs + 1))
    assert history[:len(before)] == json.loads(json.dumps(before))      # nothing redone
    assert _leftovers(out) == []               # what the kill cut short is cleared on resume

"""The GPU presets' first steps on CPU, on a few samples written in their data set's format.

The accuracy targets need a GPU and the real data sets; what a CPU can show is that each preset
loads its data, trains through every layer (a finite gradient reaching every synapse with
trainable weights) and writes its checkpoint and metrics.
"""

from __future__ import annotations

import json
import math

from spikedeploy.config import load
from spikedeploy.train import train

from .data_files import write_cifar10

FIRST_STEPS = ["data.limit=2", "train.batch_size=2", "train.float_epochs=1",
               "train.qat_epochs=0", "diagnostics.plots=false", "train.threads=2"]


def test_resnet18_cifar10_preset_takes_its_first_steps_on_cpu(tmp_path):
    folder = write_cifar10(tmp_path / "data", per_batch=1)
    cfg = load("resnet18_cifar10", [f"data.root={folder}", *FIRST_STEPS])
    result = train(cfg, tmp_path / "run", progress=False)
    (row,) = result.history
    assert math.isfinite(row["loss"])
    assert len(row["grad_rms"]) == 21       # stem, 16 block convs, 3 projections, classifier
    assert all(math.isfinite(v) and v > 0 for v in row["grad_rms"].values())
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved[0]["grad_rms"] == row["grad_rms"]
    assert (tmp_path / "run" / "checkpoint.pt").exists()

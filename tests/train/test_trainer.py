"""The training loop: run folder contents, determinism, resume, safe checkpoint loading."""

from __future__ import annotations

import csv
import io
import json
import math

import matplotlib.image
import pytest
import torch

from spikedeploy.config import load
from spikedeploy.errors import SpikedeployError
from spikedeploy.train import load_checkpoint, train
from spikedeploy.train.device import resolve_device
from spikedeploy.train.distributed import World

TINY_SYNAPSES = ["stem_conv", "s0b0_a_conv", "s0b0_b_conv", "s1b0_a_conv", "s1b0_proj",
                 "s1b0_b_conv", "fc_syn"]     # identity shortcuts and pools have fixed weights


def test_run_folder_and_checkpoint(tmp_path):
    cfg = load("tiny")
    result = train(cfg, tmp_path, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint.pt", "config.toml", "grad_rms.png", "metrics.csv", "metrics.json",
        "training_curve.png"]
    history = json.loads((tmp_path / "metrics.json").read_text())
    assert [h["phase"] for h in history] == ["float", "qat"]
    assert history == result.history
    assert load("" + str(tmp_path / "config.toml")) == cfg
    cfg2, model = load_checkpoint(tmp_path / "checkpoint.pt")
    assert cfg2 == cfg and model.quantized and not model.training
    assert 0 <= result.quantized_accuracy <= 1
    for png in ("grad_rms.png", "training_curve.png"):
        assert matplotlib.image.imread(tmp_path / png).ndim == 3


def test_metrics_carry_gradient_rms_per_synapse_in_depth_order(tmp_path):
    history = train(load("tiny"), tmp_path, progress=False).history
    for row in history:
        assert list(row["grad_rms"]) == TINY_SYNAPSES
        assert all(math.isfinite(v) and v > 0 for v in row["grad_rms"].values())
        assert isinstance(row["grad_warnings"], list)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "metrics.csv").read_text())))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    for row, flat in zip(history, rows, strict=True):
        for name in TINY_SYNAPSES:
            assert float(flat[f"grad_rms.{name}"]) == row["grad_rms"][name]
        assert flat["grad_warnings"] == "; ".join(row["grad_warnings"])


class Killed(Exception):
    pass


def kill_after_first_epoch(run, row):
    """Raised after epoch 1's checkpoint is written, as a kill during epoch 2 would leave it."""
    if row["epoch"] == 1:
        raise Killed


def test_same_seed_same_weights_and_resume_loses_nothing(tmp_path):
    cfg = load("tiny", ["train.float_epochs=2", "train.qat_epochs=0", "data.limit=48"])
    straight = train(cfg, tmp_path / "a", progress=False)
    again = train(cfg, tmp_path / "b", progress=False).model.state_dict()
    weights = straight.model.state_dict()
    assert all(torch.equal(weights[k], again[k]) for k in weights)
    with pytest.raises(Killed):
        train(cfg, tmp_path / "c", progress=False, callbacks=[kill_after_first_epoch])
    assert len(json.loads((tmp_path / "c" / "metrics.json").read_text())) == 1
    resumed = train(cfg, tmp_path / "c", progress=False, resume=True)
    assert all(torch.equal(weights[k], resumed.model.state_dict()[k]) for k in weights)
    def untimed(history):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in history]

    assert untimed(resumed.history) == untimed(straight.history)


def test_resume_refuses_a_run_of_another_model(tmp_path):
    train(load("tiny", ["train.float_epochs=1", "train.qat_epochs=0"]), tmp_path,
          progress=False)
    wider = load("tiny", ["model.stem_channels=6"])
    before = (tmp_path / "config.toml").read_text()
    with pytest.raises(SpikedeployError, match=r"another \[model\] config; resume with --config"):
        train(wider, tmp_path, progress=False, resume=True)
    assert (tmp_path / "config.toml").read_text() == before     # still the checkpoint's own


def test_device_from_config():
    assert resolve_device("cpu", World()).type == "cpu"
    assert resolve_device("auto", World()).type == ("cuda" if torch.cuda.is_available()
                                                    else "cpu")
    with pytest.raises(SpikedeployError, match="unknown train.device 'tpu'"):
        resolve_device("tpu", World())
    if not torch.cuda.is_available():
        with pytest.raises(SpikedeployError, match="train.device is 'cuda' but torch sees no"):
            resolve_device("cuda", World())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_trains_on_cuda_with_slayer_kernels(tmp_path):
    cfg = load("tiny", ["train.device=cuda"])
    result = train(cfg, tmp_path, progress=False)
    assert next(result.model.parameters()).is_cuda
    assert all(math.isfinite(v) for v in result.history[-1]["grad_rms"].values())
    cfg_cpu, model = load_checkpoint(tmp_path / "checkpoint.pt")   # a CPU model to export
    assert not next(model.parameters()).is_cuda and cfg_cpu.train.device == "cuda"


def test_bad_checkpoints_are_refused_clearly(tmp_path):
    with pytest.raises(SpikedeployError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "none.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(SpikedeployError, match="junk.pt: not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(SpikedeployError, match="not a spikedeploy checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_checkpoints_never_unpickle_objects(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"config": {}, "io": {}, "model": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(SpikedeployError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "evil.pt")

"""The training loop: run folder contents, determinism, resume, safe checkpoint loading."""

from __future__ import annotations

import json

import pytest
import torch

from spikedeploy.config import load
from spikedeploy.errors import SpikedeployError
from spikedeploy.train import load_checkpoint, train


def test_run_folder_and_checkpoint(tmp_path):
    cfg = load("tiny")
    result = train(cfg, tmp_path, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint.pt", "config.toml", "metrics.csv", "metrics.json"]
    history = json.loads((tmp_path / "metrics.json").read_text())
    assert [h["phase"] for h in history] == ["float", "qat"]
    assert load("" + str(tmp_path / "config.toml")) == cfg
    cfg2, model = load_checkpoint(tmp_path / "checkpoint.pt")
    assert cfg2 == cfg and model.quantized and not model.training
    assert 0 <= result.quantized_accuracy <= 1


def test_same_seed_same_weights_and_resume_loses_nothing(tmp_path):
    cfg = load("tiny", ["train.float_epochs=2", "train.qat_epochs=0", "data.limit=48"])
    straight = train(cfg, tmp_path / "a", progress=False).model.state_dict()
    again = train(cfg, tmp_path / "b", progress=False).model.state_dict()
    assert all(torch.equal(straight[k], again[k]) for k in straight)
    half = load("tiny", ["train.float_epochs=2", "train.qat_epochs=0", "data.limit=48"])
    # run one epoch, as if killed after it, then resume to the end
    import spikedeploy.train.trainer as trainer
    original = trainer._train_epoch
    calls = []

    def stop_after_first(*args, **kw):
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return original(*args, **kw)

    trainer._train_epoch = stop_after_first
    try:
        with pytest.raises(KeyboardInterrupt):
            train(half, tmp_path / "c", progress=False)
    finally:
        trainer._train_epoch = original
    resumed = train(half, tmp_path / "c", progress=False, resume=True).model.state_dict()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


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

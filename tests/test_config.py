"""Typed configuration: presets, overrides, and the errors for unknown keys and wrong types."""

from __future__ import annotations

import pytest

from spikedeploy.config import Config, apply_override, load, to_toml
from spikedeploy.errors import ConfigError


def test_presets_load():
    assert load("demo").name == "demo"
    assert load("tiny").data.limit == 96


def test_overrides_are_typed():
    cfg = load("tiny", ["train.lr=0.1", "model.stage_channels=[2, 4]", "data.encoding=rate",
                        "model.neuron.threshold=2"])
    assert cfg.train.lr == 0.1 and cfg.model.stage_channels == [2, 4]
    assert cfg.data.encoding == "rate" and cfg.model.neuron.threshold == 2.0


@pytest.mark.parametrize("item,message", [
    ("train.lrr=1", "unknown config key 'train.lrr'"),
    ("nosuch.x=1", "unknown config section 'nosuch.x'"),
    ("train.batch_size=big", "'train.batch_size' must be int"),
    ("train.batch_size=true", "'train.batch_size' must be int"),
    ("model.stage_channels=3", "must be a list"),
    ("train.lr", "must look like section.key=value"),
])
def test_bad_overrides(item, message):
    with pytest.raises(ConfigError, match=message):
        apply_override(Config(), item)


def test_unknown_key_in_a_file_names_the_file(tmp_path):
    (tmp_path / "c.toml").write_text("[train]\nepochs = 3\n")
    with pytest.raises(ConfigError, match=r"c.toml: unknown config key 'train.epochs'"):
        load(str(tmp_path / "c.toml"))


def test_invalid_toml_and_missing_file(tmp_path):
    (tmp_path / "c.toml").write_text("[train\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(str(tmp_path / "c.toml"))
    with pytest.raises(ConfigError, match="no such config file"):
        load(str(tmp_path / "absent.toml"))


def test_resolved_config_round_trips_through_toml(tmp_path):
    cfg = load("demo", ["model.stage_channels=[8, 8, 16]", "model.blocks_per_stage=[1, 2, 1]"])
    (tmp_path / "r.toml").write_text(to_toml(cfg))
    assert load(str(tmp_path / "r.toml")) == cfg

"""Data sets and encodings: hand-computed frames, fixed splits."""

from __future__ import annotations

import numpy as np
import pytest

from spikedeploy.config import DataConfig
from spikedeploy.errors import ConfigError
from spikedeploy.train.data import (
    ImageSet,
    encode_direct,
    encode_rate,
    frames,
    load_splits,
    message_bits,
    requantize,
)


def test_rate_code_spaces_spikes_evenly():
    # p = 4 of 16: floor(t * 4 / 16) for t = 0..8 is 0 0 0 0 1 1 1 1 2 -> spikes at t = 3, 7
    assert encode_rate(np.array([4]), 16, 8).tolist() == [[0, 0, 0, 1, 0, 0, 0, 1]]
    assert encode_rate(np.array([16]), 16, 3).tolist() == [[1, 1, 1]]
    assert encode_rate(np.array([0]), 16, 3).tolist() == [[0, 0, 0]]


def test_direct_code_repeats_the_intensity():
    assert encode_direct(np.array([[3, 16]]), 16, 2).tolist() == [[[3, 3], [16, 16]]]


def test_graded_input_needs_enough_message_bits():
    assert message_bits(DataConfig(encoding="direct"), 16) == 5
    assert message_bits(DataConfig(encoding="rate"), 16) == 0


def test_digits_split_is_fixed_and_stratified():
    a, b = load_splits(DataConfig()), load_splits(DataConfig())
    assert (len(a.train), len(a.heldout)) == (1437, 360)
    np.testing.assert_array_equal(a.heldout.labels, b.heldout.labels)
    assert np.bincount(a.heldout.labels).min() >= 35
    assert a.train.images.max() == 16 and a.train.images.shape[1:] == (1, 8, 8)


def test_unknown_data_set_and_encoding():
    with pytest.raises(ConfigError, match="unknown data set 'mnist-but-not'"):
        load_splits(DataConfig(name="mnist-but-not"))
    from spikedeploy.train.data import encoding
    with pytest.raises(ConfigError, match="unknown encoding 'morse'"):
        encoding(DataConfig(encoding="morse"))


def test_requantized_intensities_round_half_up():
    # round(p * 15 / 255): 8 -> 0.47 -> 0, 9 -> 0.53 -> 1, 128 -> 7.53 -> 8, 255 -> 15
    pixels = np.array([[[[0, 8, 9, 17, 128, 255]]]], np.uint8)
    out = requantize(ImageSet(pixels, np.zeros(1, np.int64), 255, 10), 15)
    assert out.images.tolist() == [[[[0, 0, 1, 1, 8, 15]]]] and out.levels == 15
    assert out.images.dtype == np.uint8


def test_intensity_levels_shrink_graded_input_spikes():
    cfg = DataConfig(intensity_levels=4)
    splits = load_splits(cfg)
    assert splits.train.levels == 4 and splits.train.images.max() == 4
    assert message_bits(cfg, splits.train.levels) == 3          # 4 = 0b100
    full = load_splits(DataConfig())
    expected = (full.heldout.images.astype(np.int64) * 8 + 16) // 32    # round(p * 4 / 16)
    np.testing.assert_array_equal(splits.heldout.images, expected)


def test_binary_payloads_need_no_message_bits():
    assert message_bits(DataConfig(encoding="direct"), 1) == 0
    assert message_bits(DataConfig(encoding="events"), 1) == 0
    assert message_bits(DataConfig(encoding="events"), 3) == 2


def test_frames_are_int64_whatever_the_images_are_stored_as():
    cfg = DataConfig(encoding="rate", time_steps=3)
    images = ImageSet(np.array([[[[255, 128]]]], np.uint8), np.zeros(1, np.int64), 255, 10)
    x = frames(images, cfg)
    # rate: floor(t * p / 255) for t = 0..3: 255 -> 0 1 2 3; 128 -> 0 0 1 1 (no uint8 overflow)
    assert x.dtype == np.int64 and x.tolist() == [[[[[1, 1, 1], [0, 1, 0]]]]]


def test_drain_steps_append_zero_frames_after_the_input():
    cfg = DataConfig(encoding="rate", time_steps=3, drain_steps=2)
    images = ImageSet(np.array([[[[255, 128]]]], np.uint8), np.zeros(1, np.int64), 255, 10)
    assert frames(images, cfg).tolist() == [[[[[1, 1, 1, 0, 0], [0, 1, 0, 0, 0]]]]]


@pytest.mark.parametrize("time_steps, drain_steps", [(0, 0), (4, -1)])
def test_steps_out_of_range_are_refused(time_steps, drain_steps):
    with pytest.raises(ConfigError, match="data.time_steps must be at least 1"):
        load_splits(DataConfig(time_steps=time_steps, drain_steps=drain_steps))

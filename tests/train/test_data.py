"""Data sets and encodings: hand-computed frames, fixed splits."""

from __future__ import annotations

import numpy as np
import pytest

from spikedeploy.config import DataConfig
from spikedeploy.errors import ConfigError
from spikedeploy.train.data import encode_direct, encode_rate, load_splits, message_bits


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

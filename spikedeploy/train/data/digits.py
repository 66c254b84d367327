"""scikit-learn's 8x8 digits: the offline default (ships with scikit-learn, no download)."""

from __future__ import annotations

import numpy as np

from ...config import DataConfig
from .images import ImageSet, Splits

DIGITS_LEVELS = 16                # the data set's 4x4-block counts of a 32x32 bitmap: 0..16


def load_digits(cfg: DataConfig) -> Splits:
    """1797 digits, (1, 8, 8) in 0..16, split with a fixed seed and stratified by class."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    images = bunch.images.astype(np.uint8)[:, None]          # (N, 1, 8, 8)
    x_train, x_held, y_train, y_held = train_test_split(
        images, bunch.target.astype(np.int64), test_size=cfg.heldout_fraction,
        random_state=cfg.split_seed, stratify=bunch.target)
    return Splits(ImageSet(x_train, y_train, DIGITS_LEVELS, 10),
                  ImageSet(x_held, y_held, DIGITS_LEVELS, 10))

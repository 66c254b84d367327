"""Data sets as integer images, and the encodings that turn them into input frames over time.

Images are kept as integer intensity levels (N, C, H, W) with a known maximum level; an encoding
turns them into (N, C, H, W, T) integer frames. Encodings are deterministic, so training, the
emulator and Lava see identical input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..config import DataConfig
from ..errors import ConfigError


@dataclass
class ImageSet:
    """Integer images and labels. `levels` is the largest intensity value (16 for digits)."""

    images: np.ndarray            # (N, C, H, W) integers in [0, levels]
    labels: np.ndarray            # (N,) int64
    levels: int
    num_classes: int

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, count: int) -> ImageSet:
        return ImageSet(self.images[:count], self.labels[:count], self.levels, self.num_classes)


@dataclass
class Splits:
    train: ImageSet
    heldout: ImageSet


def load_digits(cfg: DataConfig) -> Splits:
    """scikit-learn's 8x8 digits (ships with scikit-learn, no download), split with a fixed seed."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    images = bunch.images.astype(np.int64)[:, None]         # (N, 1, 8, 8), levels 0..16
    x_train, x_held, y_train, y_held = train_test_split(
        images, bunch.target.astype(np.int64), test_size=cfg.heldout_fraction,
        random_state=cfg.split_seed, stratify=bunch.target)
    return Splits(ImageSet(x_train, y_train, 16, 10), ImageSet(x_held, y_held, 16, 10))


DATASETS: dict[str, Callable[[DataConfig], Splits]] = {"digits": load_digits}


def load_splits(cfg: DataConfig) -> Splits:
    if cfg.name not in DATASETS:
        raise ConfigError(f"unknown data set '{cfg.name}'; known: {', '.join(DATASETS)}")
    splits = DATASETS[cfg.name](cfg)
    if cfg.limit:
        splits = Splits(splits.train.take(cfg.limit), splits.heldout.take(cfg.limit))
    return splits


# -- encodings --------------------------------------------------------------------------------
def encode_direct(images: np.ndarray, levels: int, steps: int) -> np.ndarray:
    """Direct current injection: the integer intensity arrives as a graded spike every step."""
    return np.repeat(images[..., None], steps, axis=-1)


def encode_rate(images: np.ndarray, levels: int, steps: int) -> np.ndarray:
    """Deterministic rate code: an integrate-and-fire encoder per pixel, evenly spaced spikes.

    Pixel p fires at step t when floor((t+1) p / levels) exceeds floor(t p / levels).
    """
    t = np.arange(steps + 1)
    counts = (images[..., None] * t) // levels
    return np.diff(counts, axis=-1).astype(np.int64)


@dataclass(frozen=True)
class Encoding:
    encode: Callable[[np.ndarray, int, int], np.ndarray]
    graded: bool                  # True: the input carries integers, not just 0/1 spikes


ENCODINGS = {"direct": Encoding(encode_direct, True), "rate": Encoding(encode_rate, False)}


def encoding(cfg: DataConfig) -> Encoding:
    if cfg.encoding not in ENCODINGS:
        raise ConfigError(f"unknown encoding '{cfg.encoding}'; known: {', '.join(ENCODINGS)}")
    return ENCODINGS[cfg.encoding]


def message_bits(cfg: DataConfig, levels: int) -> int:
    """Bits a graded input spike needs to carry `levels`; 0 for binary spikes."""
    return int(levels).bit_length() if encoding(cfg).graded else 0


def frames(images: ImageSet, cfg: DataConfig) -> np.ndarray:
    """(N, C, H, W, T) integer input frames for these images."""
    return encoding(cfg).encode(images.images, images.levels, cfg.time_steps)


class FrameDataset(torch.utils.data.Dataset):
    """Encodes on the fly: (frames as float32 tensor, label)."""

    def __init__(self, images: ImageSet, cfg: DataConfig):
        self.images, self.cfg = images, cfg

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        x = encoding(self.cfg).encode(self.images.images[i:i + 1], self.images.levels,
                                      self.cfg.time_steps)[0]
        return torch.from_numpy(x.astype(np.float32)), int(self.images.labels[i])

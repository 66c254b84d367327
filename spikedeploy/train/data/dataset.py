"""The torch Dataset training and evaluation read: samples encoded one at a time."""

from __future__ import annotations

import numpy as np
import torch

from ...config import DataConfig
from .augment import augment
from .encodings import check_encoding
from .events import EventStreams
from .images import ImageSet


class FrameDataset(torch.utils.data.Dataset):
    """(frames (C, H, W, T) as a float32 tensor, label), encoded on the fly, so a split's
    frames never exist all at once.

    With `train=True` the images pass through data.augment first, seeded by (seed, epoch,
    sample index): call `set_epoch(epoch)` before each epoch for new crops and flips; the same
    seed and epoch give the same images. Without it (the held-out split), nothing is augmented.
    """

    def __init__(self, images: ImageSet, cfg: DataConfig, train: bool = False, seed: int = 0):
        self.images, self.cfg, self.seed, self.epoch = images, cfg, seed, 0
        self.encoding = check_encoding(cfg, isinstance(images.images, EventStreams))
        self.augmented = train and bool(cfg.augment)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        sample = self.images.images[i:i + 1]
        if self.augmented:
            sample = augment(sample[0], self.cfg, self.seed, self.epoch, i)[None]
        x = self.encoding.encode(sample, self.images.levels, self.cfg)[0]
        return torch.from_numpy(x.astype(np.float32)), int(self.images.labels[i])

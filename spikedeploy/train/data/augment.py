"""Training-only augmentations of one image, seeded per sample and epoch.

Each takes a (C, H, W) uint8 image, a numpy Generator and the data config, and returns an
image of the same shape and dtype: the network's input size never changes. They are applied in
the order `data.augment` lists them, only to the training split.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ...config import DataConfig

ASPECT_RANGE = (3 / 4, 4 / 3)     # random resized crop's aspect ratios (Szegedy et al. 2015)
CROP_ATTEMPTS = 10                # as torchvision's RandomResizedCrop, then a centre fallback


def flip(image: np.ndarray, rng: np.random.Generator, cfg: DataConfig) -> np.ndarray:
    """Mirror left-right with probability 1/2."""
    return image[..., ::-1] if rng.random() < 0.5 else image


def pad_crop(image: np.ndarray, rng: np.random.Generator, cfg: DataConfig) -> np.ndarray:
    """Zero-pad by data.crop_padding_px on every side, then crop a random window of the
    original size: the CIFAR augmentation of He et al. 2016 (sec. 4.2; 4 pixels)."""
    pad = cfg.crop_padding_px
    _, height, width = image.shape
    padded = np.pad(image, ((0, 0), (pad, pad), (pad, pad)))
    top, left = rng.integers(0, 2 * pad + 1, size=2)
    return padded[:, top:top + height, left:left + width]


def crop_box(height: int, width: int, rng: np.random.Generator,
             min_area: float) -> tuple[int, int, int, int]:
    """(top, left, crop height, crop width) covering a random fraction in [min_area, 1] of the
    image at a random aspect ratio (torchvision's RandomResizedCrop.get_params)."""
    area = height * width
    log_low, log_high = math.log(ASPECT_RANGE[0]), math.log(ASPECT_RANGE[1])
    for _ in range(CROP_ATTEMPTS):
        target = area * rng.uniform(min_area, 1.0)
        aspect = math.exp(rng.uniform(log_low, log_high))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
    return 0, 0, height, width


def resized_crop(image: np.ndarray, rng: np.random.Generator, cfg: DataConfig) -> np.ndarray:
    """A random crop (`crop_box`, at least data.resized_crop_min_area of the image) resized
    back to the image's size, bilinear, rounded to integers. fast.ai trains Imagenette with a
    minimum area of 0.35 (its examples/train_imagenette.py); torchvision's default is 0.08."""
    from PIL import Image

    _, height, width = image.shape
    top, left, h, w = crop_box(height, width, rng, cfg.resized_crop_min_area)
    box = (left, top, left + w, top + h)
    channels = [Image.fromarray(np.ascontiguousarray(c)).resize(
        (width, height), Image.Resampling.BILINEAR, box=box) for c in image]
    return np.stack([np.asarray(c) for c in channels]).astype(image.dtype)


AUGMENTATIONS: dict[str, Callable[[np.ndarray, np.random.Generator, DataConfig], np.ndarray]] = {
    "flip": flip, "pad_crop": pad_crop, "resized_crop": resized_crop,
}


def augment(image: np.ndarray, cfg: DataConfig, seed: int, epoch: int,
            index: int) -> np.ndarray:
    """The augmentations of data.augment, in order, with a generator seeded by (seed, epoch,
    index): a sample's augmentation depends on nothing else (not on batch order or workers)."""
    rng = np.random.default_rng([seed, epoch, index])
    for name in cfg.augment:
        image = AUGMENTATIONS[name](image, rng, cfg)
    return image

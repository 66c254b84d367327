"""Imagenette (fast.ai, https://github.com/fastai/imagenette): 10 ImageNet classes in an
ImageNet-style folder tree, train/<wnid>/*.JPEG and val/<wnid>/*.JPEG.

Any tree of that shape loads (Imagewoof too): the classes are the folders under train/, in
sorted order (as torchvision's ImageFolder numbers them), and val/ may only use those. Each
image is decoded once, its shorter side resized to `data.image_size` and the centre cropped to a
square: the held-out images are exactly that; training augmentations crop from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...config import DataConfig
from ...errors import SpikedeployError
from .images import ImageSet, Splits, data_root, file_order

IMAGENETTE_LAYOUT = "an ImageNet-style tree train/<wnid>/*.JPEG and val/<wnid>/*.JPEG"
IMAGE_SUFFIXES = {".jpeg", ".jpg", ".png"}
# A CPU-feasible default: 128x128 keeps a ResNet-50's imagenet stem (7x7 stride 2, 2x2 pool)
# on even sizes; fast.ai's own Imagenette leaderboards use 128, 192 and 256.
DEFAULT_IMAGE_SIZE = 128


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def read_image(path: Path, size: int) -> np.ndarray:
    """(3, size, size) uint8: shorter side resized to `size` (bilinear, antialiased), centre
    crop. JPEGs are decoded at the smallest scale still at least `size` (PIL's draft mode),
    which is much faster for large photos."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.draft("RGB", (size, size))
            image = image.convert("RGB")
            width, height = image.size
            scale = size / min(width, height)
            resized = (max(size, round(width * scale)), max(size, round(height * scale)))
            image = image.resize(resized, Image.Resampling.BILINEAR)
            left, top = (resized[0] - size) // 2, (resized[1] - size) // 2
            image = image.crop((left, top, left + size, top + size))
            return np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise SpikedeployError(f"not a readable image ({err})", path) from None


def read_split(folder: Path, classes: list[str], cfg: DataConfig) -> ImageSet:
    """The images under folder/<class>/, classes numbered by their index in `classes`, in a
    fixed shuffled order (`file_order`)."""
    if not folder.is_dir():
        raise SpikedeployError(f"missing {folder.name}/ ({IMAGENETTE_LAYOUT})", folder.parent)
    unknown = sorted({p.name for p in folder.iterdir() if p.is_dir()} - set(classes))
    if unknown:
        raise SpikedeployError(f"class folder {unknown[0]} is not in train/", folder)
    files, labels = [], []
    for label, name in enumerate(classes):
        found = image_files(folder / name) if (folder / name).is_dir() else []
        if (folder / name).is_dir() and not found:
            raise SpikedeployError("no images (.JPEG, .jpg or .png)", folder / name)
        files += found
        labels += [label] * len(found)
    if not files:
        raise SpikedeployError(f"no images ({IMAGENETTE_LAYOUT})", folder)
    order = file_order(len(files), cfg)
    size = cfg.image_size or DEFAULT_IMAGE_SIZE
    images = np.stack([read_image(files[i], size) for i in order])
    return ImageSet(images, np.asarray(labels, dtype=np.int64)[order], 255, len(classes))


def load_imagenette(cfg: DataConfig) -> Splits:
    """(3, S, S) images in 0..255, S = data.image_size; val/ is the held-out split."""
    root = data_root(cfg.root, "imagenette", IMAGENETTE_LAYOUT)
    train = root / "train"
    if not train.is_dir():
        raise SpikedeployError(f"missing train/ ({IMAGENETTE_LAYOUT})", root)
    classes = sorted(p.name for p in train.iterdir() if p.is_dir())
    if not classes:
        raise SpikedeployError(f"no class folders ({IMAGENETTE_LAYOUT})", train)
    return Splits(read_split(train, classes, cfg), read_split(root / "val", classes, cfg))

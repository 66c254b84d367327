"""Integer images with labels, the two splits of a data set, and the checks every loader shares.

Images are kept as they are stored on disk, integer intensities (N, C, H, W) in [0, levels]
(uint8 for 8-bit data sets: CIFAR-10 is 150 MB so, 1.2 GB as int64); an encoding turns a batch
of them into input frames over time only when a batch is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SpikedeployError


@dataclass
class ImageSet:
    """Samples and labels. `levels` is the largest value a sample holds: the largest intensity
    (16 for digits, 255 for 8-bit images), or for event data the largest count per time bin.

    `images` is (N, C, H, W) integers, or for event data sets an `EventStreams` whose `shape`
    is (N, C, H, W) as well: the frame that each time bin's events are counted into.
    """

    images: np.ndarray            # (N, C, H, W) integers in [0, levels], or EventStreams
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


def requantize(images: ImageSet, levels: int) -> ImageSet:
    """Intensities rescaled from [0, images.levels] to [0, levels], rounded half up.

    Fewer levels make smaller graded input spikes (message_bits = levels.bit_length()): 255
    needs 8 bits, 15 needs 4. Integer arithmetic, so every stage sees the same values.
    """
    if levels == images.levels:
        return images
    scaled = (images.images.astype(np.int64) * (2 * levels) + images.levels) // (2 * images.levels)
    dtype = np.uint8 if levels <= 255 else np.int64
    return ImageSet(scaled.astype(dtype), images.labels, levels, images.num_classes)


# -- checks shared by the loaders: one line naming the path and the problem ------------------
def data_root(root: str, name: str, expected: str) -> Path:
    """The directory `data.root` names, which must exist; `expected` describes its layout."""
    if not root:
        raise SpikedeployError(f"data set '{name}' is read from disk: set data.root to "
                               f"{expected}")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise SpikedeployError(f"no such directory (data.root for '{name}': {expected})", path)
    return path


def first_existing(folder: Path, names: tuple[str, ...], what: str) -> Path:
    """The first of `names` inside `folder`; the error names the first, the one expected."""
    for name in names:
        if (folder / name).exists():
            return folder / name
    raise SpikedeployError(f"missing {names[0]} ({what})", folder)


def check_labels(labels: np.ndarray, num_classes: int, where: Path) -> np.ndarray:
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise SpikedeployError(f"labels outside 0..{num_classes - 1} "
                               f"(found {labels.min()}..{labels.max()})", where)
    return labels


def file_order(count: int, cfg) -> np.ndarray:
    """The order a folder tree's files are read in: a fixed shuffle (data.split_seed), so that
    `data.limit` takes a mix of classes, and only the files it takes need reading."""
    order = np.random.default_rng(cfg.split_seed).permutation(count)
    return order[:cfg.limit] if cfg.limit else order

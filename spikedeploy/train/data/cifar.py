"""CIFAR-10 and CIFAR-100, the "python version" of each (Krizhevsky, 2009;
https://www.cs.toronto.edu/~kriz/cifar.html).

Each batch file is a Python pickle of a dict: b"data" a (N, 3072) uint8 array, each row a 32x32
colour image as 1024 red, then 1024 green, then 1024 blue values, row-major; b"labels" (CIFAR-10)
or b"fine_labels" and b"coarse_labels" (CIFAR-100) lists of N integers. CIFAR-10 has
data_batch_1..5 (50000 training images) and test_batch (10000); CIFAR-100 has train (50000) and
test (10000), with 100 fine classes, which are what we train on.

A pickle can run code when it is loaded. These files are read with an unpickler that only
rebuilds builtin containers, bytes, numbers and numpy arrays, and refuses anything else; still,
give only files from a source you trust.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...config import DataConfig
from ...errors import SpikedeployError
from .images import ImageSet, Splits, check_labels, data_root

CIFAR_SIDE = 32


class ArraysOnlyUnpickler(pickle.Unpickler):
    """Rebuilds builtin types and numpy arrays; any other global in the pickle is refused."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
               ("numpy", "dtype"),
               ("numpy._core.multiarray", "_reconstruct"),    # numpy 2's name for it
               ("_codecs", "encode")}     # how Python 3 writes bytes in protocol 2 pickles

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


@dataclass(frozen=True)
class CifarLayout:
    title: str                    # how the CIFAR page names it
    folder: str                   # the folder its archive unpacks to
    train_files: tuple[str, ...]
    test_file: str
    label_key: str
    num_classes: int

    @property
    def expected(self) -> str:
        return f"expected the {self.title} python version, {self.folder}"


CIFAR10 = CifarLayout("CIFAR-10", "cifar-10-batches-py",
                      tuple(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "labels", 10)
CIFAR100 = CifarLayout("CIFAR-100", "cifar-100-python", ("train",), "test", "fine_labels", 100)


def read_batch(path: Path, layout: CifarLayout) -> dict:
    """A CIFAR batch dict with str keys (the files, written by Python 2, have bytes keys)."""
    if not path.is_file():
        raise SpikedeployError(f"missing {path.name} ({layout.expected})", path.parent)
    try:
        with path.open("rb") as f:
            batch = ArraysOnlyUnpickler(f, encoding="bytes").load()
    except Exception as err:           # pickle raises many types for a damaged file
        raise SpikedeployError(f"not a {layout.title} batch ({type(err).__name__}: "
                               f"{str(err)[:100]})", path) from None
    if not isinstance(batch, dict):
        raise SpikedeployError(f"not a {layout.title} batch (a pickled "
                               f"{type(batch).__name__}, not a dict)", path)
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}


def batch_images(path: Path, layout: CifarLayout) -> ImageSet:
    """One batch file as (N, 3, 32, 32) uint8 images and their labels."""
    batch = read_batch(path, layout)
    for key in ("data", layout.label_key):
        if key not in batch:
            raise SpikedeployError(f"no '{key}' entry (found {', '.join(map(str, batch))})",
                                   path)
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * CIFAR_SIDE ** 2:
        found = (f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray)
                 else type(data).__name__)
        raise SpikedeployError(f"'data' must be (N, 3072) uint8, found {found}", path)
    labels = np.asarray(batch[layout.label_key])
    if labels.shape != (len(data),):
        raise SpikedeployError(f"{labels.size} labels for {len(data)} images", path)
    images = data.reshape(len(data), 3, CIFAR_SIDE, CIFAR_SIDE)
    return ImageSet(images, check_labels(labels, layout.num_classes, path), 255,
                    layout.num_classes)


def concatenate(parts: list[ImageSet]) -> ImageSet:
    first = parts[0]
    return ImageSet(np.concatenate([p.images for p in parts]),
                    np.concatenate([p.labels for p in parts]), first.levels, first.num_classes)


def load_cifar(cfg: DataConfig, layout: CifarLayout) -> Splits:
    """(3, 32, 32) images in 0..255; the test batch is the held-out split. `data.root` is the
    layout's folder or the folder that holds it."""
    root = data_root(cfg.root, cfg.name, layout.expected)
    folder = root / layout.folder if (root / layout.folder).is_dir() else root
    train = concatenate([batch_images(folder / name, layout) for name in layout.train_files])
    return Splits(train, batch_images(folder / layout.test_file, layout))


def load_cifar10(cfg: DataConfig) -> Splits:
    """CIFAR-10: 50000 training and 10000 test images, 10 classes."""
    return load_cifar(cfg, CIFAR10)


def load_cifar100(cfg: DataConfig) -> Splits:
    """CIFAR-100: 50000 training and 10000 test images, 100 fine classes."""
    return load_cifar(cfg, CIFAR100)

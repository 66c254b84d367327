"""Writers of tiny data sets in each loader's exact on-disk format, for the tests."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

IDX_UBYTE = 0x08


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """IDX: 0, 0, type byte, ndim byte, big-endian uint32 dims, big-endian data."""
    header = bytes([0, 0, IDX_UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(">u1").tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def write_mnist(root: Path, train: int = 6, test: int = 4, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, count in (("train", train), ("t10k", test)):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        write_idx(root / f"{prefix}-images-idx3-ubyte", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = (images, labels)
    return arrays


def write_cifar_batch(path: Path, images: np.ndarray, labels: list[int], label_key: bytes):
    """A CIFAR python-version batch: a pickled dict with bytes keys, data (N, 3072) uint8."""
    batch = {b"batch_label": b"testing batch 1 of 1", label_key: labels,
             b"data": images.reshape(len(images), -1), b"filenames": [b"x.png"] * len(labels)}
    with path.open("wb") as f:
        pickle.dump(batch, f, protocol=2)


def write_cifar10(root: Path, per_batch: int = 2, seed: int = 0) -> Path:
    """root/cifar-10-batches-py with data_batch_1..5 and test_batch."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
        write_cifar_batch(folder / name, images, rng.integers(0, 10, per_batch).tolist(),
                          b"labels")
    return folder


def write_image_tree(root: Path, classes: dict[str, int], size: int = 6, seed: int = 0):
    """root/{train,val}/<wnid>/<i>.png, `classes[wnid]` square RGB images each."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split in ("train", "val"):
        for wnid, count in classes.items():
            (root / split / wnid).mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / wnid / f"{i}.png")


def nmnist_event(x: int, y: int, polarity: int, time_us: int) -> bytes:
    """40 bits: x (8), y (8), polarity (1), timestamp in microseconds (23)."""
    return bytes([x, y, (polarity << 7) | (time_us >> 16), (time_us >> 8) & 0xFF,
                  time_us & 0xFF])


def write_nmnist(root: Path, per_digit: int = 1, seed: int = 0) -> None:
    """root/{Train,Test}/<digit>/<id>.bin, one event at the digit's own pixel each."""
    for split in ("Train", "Test"):
        for digit in range(10):
            (root / split / str(digit)).mkdir(parents=True)
            for i in range(per_digit):
                event = nmnist_event(digit, i, digit % 2, 1000 * digit)
                (root / split / str(digit) / f"{i:05d}.bin").write_bytes(event)

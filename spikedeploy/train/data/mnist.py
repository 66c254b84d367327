"""MNIST from its IDX files, as distributed on Yann LeCun's MNIST page.

IDX format (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS FOR THE MNIST DATABASE"): a
4-byte magic number, two zero bytes, then one byte for the element type (0x08 unsigned byte,
0x09 signed byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double) and one byte for the number
of dimensions; then each dimension's size as a 4-byte big-endian integer; then the data,
big-endian, last index fastest. MNIST's images are (N, 28, 28) unsigned bytes, 0 = background,
255 = ink; its labels (N,) unsigned bytes 0..9. The files may be gzipped, as downloaded.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ...config import DataConfig
from ...errors import SpikedeployError
from .images import ImageSet, Splits, check_labels, data_root, first_existing

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "heldout": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
MNIST_LAYOUT = "the folder of MNIST's four IDX files (train-images-idx3-ubyte, ...; .gz or not)"


def read_idx(path: Path) -> np.ndarray:
    """The array an IDX file holds, in native byte order."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:
        raise SpikedeployError(f"cannot read ({err})", path) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise SpikedeployError(f"not an IDX file (magic number {raw[:4].hex() or 'missing'})",
                               path)
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise SpikedeployError(f"IDX header cut short ({len(raw)} bytes)", path)
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    dtype = np.dtype(IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise SpikedeployError(f"holds {len(raw)} bytes, its header {shape} promises {expected}",
                               path)
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _idx_pair(folder: Path, images_name: str, labels_name: str) -> ImageSet:
    images_path = first_existing(folder, (images_name, images_name + ".gz"), MNIST_LAYOUT)
    labels_path = first_existing(folder, (labels_name, labels_name + ".gz"), MNIST_LAYOUT)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise SpikedeployError(f"expected (N, rows, columns) unsigned bytes, found {images.ndim}"
                               f" dimensions of {images.dtype}", images_path)
    if labels.shape != (len(images),):
        raise SpikedeployError(f"{labels.shape[0] if labels.ndim else 0} labels for "
                               f"{len(images)} images in {images_path.name}", labels_path)
    return ImageSet(images[:, None], check_labels(labels, 10, labels_path), 255, 10)


def load_mnist(cfg: DataConfig) -> Splits:
    """MNIST's 60000 training and 10000 test digits, (1, 28, 28) in 0..255; the test set is
    the held-out split."""
    folder = data_root(cfg.root, "mnist", MNIST_LAYOUT)
    if not any(folder.glob("train-images-idx3-ubyte*")) and (folder / "MNIST" / "raw").is_dir():
        folder = folder / "MNIST" / "raw"                 # torchvision's download layout
    return Splits(*(_idx_pair(folder, *MNIST_FILES[split]) for split in ("train", "heldout")))

"""Each loader reads tiny files written in its data set's exact on-disk format, and says in one
line which file is missing or malformed."""

from __future__ import annotations

import gzip
import os
import pickle
import re

import numpy as np
import pytest

from spikedeploy.config import DataConfig
from spikedeploy.errors import ConfigError, SpikedeployError
from spikedeploy.train.data import EventStreams, frames, load_splits, message_bits
from spikedeploy.train.data.mnist import read_idx
from spikedeploy.train.data.nmnist import read_events
from tests.train.data_files import (
    nmnist_event,
    write_cifar10,
    write_cifar_batch,
    write_idx,
    write_image_tree,
    write_mnist,
    write_nmnist,
)


# -- MNIST: IDX files ------------------------------------------------------------------------
def test_idx_header_and_big_endian_data(tmp_path):
    # magic 0x00000803 (unsigned bytes, 3 dims), dims 2 x 1 x 3 as big-endian uint32
    raw = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3, 250, 251, 252])
    (tmp_path / "a").write_bytes(raw)
    assert read_idx(tmp_path / "a").tolist() == [[[1, 2, 3]], [[250, 251, 252]]]
    # type 0x0B: big-endian int16; 0x0102 = 258, 0xFFFE = -2
    (tmp_path / "b").write_bytes(bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 1, 2, 0xFF, 0xFE]))
    assert read_idx(tmp_path / "b").tolist() == [258, -2]


def test_mnist_reads_the_four_files_plain_or_gzipped(tmp_path):
    arrays = write_mnist(tmp_path)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):   # as downloaded
        path = tmp_path / name
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    splits = load_splits(DataConfig(name="mnist", root=str(tmp_path)))
    np.testing.assert_array_equal(splits.train.images[:, 0], arrays["train"][0])
    np.testing.assert_array_equal(splits.heldout.images[:, 0], arrays["t10k"][0])
    assert splits.heldout.labels.tolist() == arrays["t10k"][1].tolist()
    assert splits.train.images.shape == (6, 1, 28, 28) and splits.train.images.dtype == np.uint8
    assert (splits.train.levels, splits.train.num_classes) == (255, 10)


def replace(old, new, content: bytes):
    old.unlink()
    new.write_bytes(content)


@pytest.mark.parametrize("damage,message", [
    (lambda root: os.remove(root / "t10k-labels-idx1-ubyte"),
     "missing t10k-labels-idx1-ubyte"),
    (lambda root: (root / "train-images-idx3-ubyte").write_bytes(b"PK\x03\x04zip"),
     "train-images-idx3-ubyte: not an IDX file (magic number 504b0304)"),
    (lambda root: (root / "train-images-idx3-ubyte").write_bytes(
        (root / "train-images-idx3-ubyte").read_bytes()[:-5]),
     "train-images-idx3-ubyte: holds 4715 bytes, its header (6, 28, 28) promises 4720"),
    (lambda root: write_idx(root / "train-labels-idx1-ubyte", np.zeros(5, np.uint8)),
     "train-labels-idx1-ubyte: 5 labels for 6 images"),
    (lambda root: write_idx(root / "train-labels-idx1-ubyte", np.full(6, 10, np.uint8)),
     "train-labels-idx1-ubyte: labels outside 0..9"),
    (lambda root: replace(root / "t10k-images-idx3-ubyte", root / "t10k-images-idx3-ubyte.gz",
                          b"not gzip"), "t10k-images-idx3-ubyte.gz: cannot read"),
], ids=["missing", "magic", "short", "count", "label", "gzip"])
def test_mnist_errors_name_the_file(tmp_path, damage, message):
    write_mnist(tmp_path)
    damage(tmp_path)
    with pytest.raises(SpikedeployError, match=re.escape(message)):
        load_splits(DataConfig(name="mnist", root=str(tmp_path)))


def test_a_disk_data_set_needs_an_existing_root(tmp_path):
    with pytest.raises(SpikedeployError, match="'mnist' is read from disk: set data.root"):
        load_splits(DataConfig(name="mnist"))
    with pytest.raises(SpikedeployError, match=f"{tmp_path / 'nope'}: no such directory"):
        load_splits(DataConfig(name="cifar10", root=str(tmp_path / "nope")))


# -- CIFAR: python pickle batches ------------------------------------------------------------
def test_cifar10_rows_are_red_green_blue_planes(tmp_path):
    folder = write_cifar10(tmp_path)
    row = np.concatenate([np.full(1024, 10), np.full(1024, 20), np.arange(1024) % 256])
    write_cifar_batch(folder / "test_batch", row[None].astype(np.uint8), [7], b"labels")
    splits = load_splits(DataConfig(name="cifar10", root=str(tmp_path)))     # parent folder
    image = splits.heldout.images[0]
    assert image.shape == (3, 32, 32) and splits.heldout.labels.tolist() == [7]
    assert image[0].min() == image[0].max() == 10 and image[1].max() == 20
    assert image[2, 0, 5] == 5 and image[2, 1, 0] == 32 and image[2, 31, 31] == 1023 % 256
    assert len(splits.train) == 10 and splits.train.images.dtype == np.uint8


def test_cifar100_takes_the_fine_labels(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    images = np.zeros((3, 3, 32, 32), np.uint8)
    for name in ("train", "test"):
        with (folder / name).open("wb") as f:
            pickle.dump({b"data": images.reshape(3, -1), b"fine_labels": [0, 57, 99],
                         b"coarse_labels": [0, 1, 19]}, f, protocol=2)
    splits = load_splits(DataConfig(name="cifar100", root=str(folder)))       # the folder itself
    assert splits.train.labels.tolist() == [0, 57, 99] and splits.train.num_classes == 100


def test_cifar_missing_batch_is_named(tmp_path):
    folder = write_cifar10(tmp_path)
    (folder / "data_batch_3").unlink()
    with pytest.raises(SpikedeployError) as err:
        load_splits(DataConfig(name="cifar10", root=str(folder)))
    assert str(err.value) == (f"{folder}: missing data_batch_3 (expected the CIFAR-10 python "
                              "version, cifar-10-batches-py)")


class RunsCode:
    """What a malicious pickle does: calls a function of its choice when loaded."""

    def __reduce__(self):
        return (os.mkdir, ("pwned",))


@pytest.mark.parametrize("content,message", [
    (pickle.dumps(RunsCode()), r"not a CIFAR-10 batch \(UnpicklingError: refusing to load "
                               r"posix.mkdir\)"),
    (b"\x00\x01garbage", "not a CIFAR-10 batch"),
    (pickle.dumps([1, 2]), r"not a CIFAR-10 batch \(a pickled list, not a dict\)"),
    (pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}),
     r"'data' must be \(N, 3072\) uint8, found uint8 \(2, 100\)"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}), "no 'labels' entry"),
], ids=["code", "garbage", "list", "shape", "labels"])
def test_cifar_refuses_code_and_malformed_batches(tmp_path, monkeypatch, content, message):
    folder = write_cifar10(tmp_path)
    (folder / "test_batch").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpikedeployError, match=message):
        load_splits(DataConfig(name="cifar10", root=str(folder)))
    assert not (tmp_path / "pwned").exists()


# -- Imagenette: an ImageNet-style folder tree -----------------------------------------------
def test_image_tree_classes_sorted_and_images_exact(tmp_path):
    write_image_tree(tmp_path, {"n02": 2, "n01": 1}, size=6)
    from PIL import Image

    wide = np.arange(4 * 8 * 3, dtype=np.uint8).reshape(4, 8, 3)     # (H, W, RGB)
    Image.fromarray(wide).save(tmp_path / "val" / "n01" / "wide.png")
    cfg = DataConfig(name="imagenette", root=str(tmp_path), image_size=4)
    splits = load_splits(cfg)
    assert splits.train.num_classes == 2 and sorted(splits.train.labels.tolist()) == [0, 1, 1]
    # 8x4 at size 4: the shorter side is already 4, so only the centre crop, columns 2..5
    (index,) = [i for i in range(len(splits.heldout)) if
                splits.heldout.images[i].tolist() == wide[:, 2:6].transpose(2, 0, 1).tolist()]
    assert splits.heldout.labels[index] == 0


def test_image_tree_resizes_a_jpeg_to_the_configured_size(tmp_path):
    write_image_tree(tmp_path, {"n01": 1, "n02": 1})
    from PIL import Image

    Image.new("RGB", (40, 30), (200, 100, 50)).save(tmp_path / "train" / "n01" / "x.JPEG")
    splits = load_splits(DataConfig(name="imagenette", root=str(tmp_path), image_size=10))
    assert splits.train.images.shape == (3, 3, 10, 10)
    big = [img for img in splits.train.images if abs(int(img[0].mean()) - 200) <= 2]
    assert len(big) == 1 and abs(int(big[0][2].mean()) - 50) <= 2          # JPEG is lossy


def test_limit_reads_a_mix_of_classes_in_a_fixed_order(tmp_path):
    write_image_tree(tmp_path, {f"n{i}": 3 for i in range(4)}, size=4)
    cfg = DataConfig(name="imagenette", root=str(tmp_path), image_size=4, limit=6)
    a, b = load_splits(cfg), load_splits(cfg)
    assert len(a.train) == 6 and len(set(a.train.labels.tolist())) > 1
    np.testing.assert_array_equal(a.train.images, b.train.images)


@pytest.mark.parametrize("damage,message", [
    (lambda root: (root / "val" / "n01" / "0.png").write_bytes(b"not a png"),
     "0.png: not a readable image"),
    (lambda root: (root / "val" / "n99").mkdir(), "val: class folder n99 is not in train/"),
    (lambda root: [p.unlink() for p in (root / "train" / "n02").iterdir()],
     "n02: no images"),
    (lambda root: os.rename(root / "val", root / "valid"), r"missing val/ \(an ImageNet-style"),
], ids=["image", "class", "empty", "val"])
def test_image_tree_errors_name_the_path(tmp_path, damage, message):
    write_image_tree(tmp_path, {"n01": 1, "n02": 1}, size=4)
    damage(tmp_path)
    with pytest.raises(SpikedeployError, match=message):
        load_splits(DataConfig(name="imagenette", root=str(tmp_path), image_size=4))


# -- N-MNIST: 40-bit events, binned to frames ------------------------------------------------
def test_nmnist_event_bits(tmp_path):
    path = tmp_path / "e.bin"
    path.write_bytes(nmnist_event(33, 2, 1, 0x7FFFFF) + nmnist_event(0, 33, 0, 0x012345))
    events = read_events(path)
    assert events.times_us.tolist() == [8388607, 0x012345]
    # cell = (polarity * 34 + y) * 34 + x
    assert events.cells.tolist() == [(34 + 2) * 34 + 33, 33 * 34]


def test_event_frames_hand_computed(tmp_path):
    write_nmnist(tmp_path)
    sample = tmp_path / "Test" / "3" / "00000.bin"
    sample.write_bytes(nmnist_event(1, 2, 1, 0) + nmnist_event(1, 2, 1, 50)
                       + nmnist_event(33, 0, 0, 150_000) + nmnist_event(0, 0, 0, 299_999)
                       + nmnist_event(5, 5, 1, 300_000))            # after the window: dropped
    cfg = DataConfig(name="nmnist", root=str(tmp_path), encoding="events", time_steps=3)
    splits = load_splits(cfg)
    assert isinstance(splits.heldout.images, EventStreams) and len(splits.train) == 10
    assert splits.heldout.images.shape == (10, 2, 34, 34)
    (index,) = np.flatnonzero(splits.heldout.labels == 3)
    x = frames(splits.heldout, cfg)[index]
    assert x.shape == (2, 34, 34, 3) and x.sum() == 3 and message_bits(cfg, 1) == 0
    assert x[1, 2, 1, 0] == 1 and x[0, 0, 33, 1] == 1 and x[0, 0, 0, 2] == 1   # t*3//300000
    counted = DataConfig(**{**cfg.__dict__, "event_clip": 2})
    held = load_splits(counted).heldout
    assert frames(held, counted)[index][1, 2, 1, 0] == 2 and message_bits(counted, 2) == 2


@pytest.mark.parametrize("content,message", [
    (b"\x01\x02\x03", r"00000.bin: 3 bytes is not a whole number of 5-byte \(40-bit\) events"),
    (nmnist_event(34, 0, 0, 0), r"00000.bin: event address \(34, 0\) outside the 34x34 sensor"),
], ids=["length", "address"])
def test_nmnist_malformed_file_is_named(tmp_path, content, message):
    write_nmnist(tmp_path)
    (tmp_path / "Train" / "7" / "00000.bin").write_bytes(content)
    with pytest.raises(SpikedeployError, match=message):
        load_splits(DataConfig(name="nmnist", root=str(tmp_path), encoding="events"))


def test_nmnist_missing_split_and_wrong_encoding(tmp_path):
    write_nmnist(tmp_path)
    with pytest.raises(ConfigError, match="holds event streams; data.encoding 'direct' does "
                                          "not encode them"):
        load_splits(DataConfig(name="nmnist", root=str(tmp_path)))
    for path in (tmp_path / "Test").rglob("*.bin"):
        path.unlink()
    with pytest.raises(SpikedeployError, match=r"Test: no .bin files in 0/"):
        load_splits(DataConfig(name="nmnist", root=str(tmp_path), encoding="events"))

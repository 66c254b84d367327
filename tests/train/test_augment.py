"""Training augmentations: hand-computed crops and flips, seeded per sample and epoch, and
never on the held-out split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikedeploy.config import DataConfig
from spikedeploy.errors import ConfigError
from spikedeploy.train.data import FrameDataset, ImageSet, augment, encode_rate, load_splits
from spikedeploy.train.data.augment import crop_box, flip, pad_crop, resized_crop


class FixedDraws:
    """A stand-in for numpy's Generator that returns the draws a test chooses."""

    def __init__(self, integers=(), uniform=(), random=()):
        self._integers, self._uniform, self._random = list(integers), list(uniform), list(random)

    def integers(self, low, high=None, size=None):
        if size is None:
            return self._integers.pop(0)
        return np.array([self._integers.pop(0) for _ in range(size)])

    def uniform(self, low, high):
        return self._uniform.pop(0)

    def random(self):
        return self._random.pop(0)


IMAGE = np.arange(1, 2 * 3 * 4 + 1, dtype=np.uint8).reshape(2, 3, 4)     # (C, H, W)


def test_pad_crop_is_a_shifted_window_with_zeros():
    cfg = DataConfig(crop_padding_px=1)
    # padded to 5 x 6; window at top 0, left 2: rows -1..1, columns 1..4 of the original
    out = pad_crop(IMAGE, FixedDraws(integers=[0, 2]), cfg)
    assert out.tolist()[0] == [[0, 0, 0, 0], [2, 3, 4, 0], [6, 7, 8, 0]]
    assert out.shape == IMAGE.shape and out.dtype == np.uint8
    centre = pad_crop(IMAGE, FixedDraws(integers=[1, 1]), cfg)
    np.testing.assert_array_equal(centre, IMAGE)


def test_flip_mirrors_columns_with_probability_one_half():
    assert flip(IMAGE, FixedDraws(random=[0.49]), DataConfig()).tolist()[1][0] == [16, 15, 14, 13]
    np.testing.assert_array_equal(flip(IMAGE, FixedDraws(random=[0.5]), DataConfig()), IMAGE)


def test_crop_box_keeps_area_and_aspect_in_range():
    rng = np.random.default_rng(0)
    for _ in range(200):
        top, left, h, w = crop_box(32, 32, rng, 0.35)
        assert 0 <= top <= 32 - h and 0 <= left <= 32 - w
        assert 0.3 <= h * w / 1024 <= 1.0 and 0.7 <= w / h <= 1.45     # rounding widens a bit
    # half the area of a 16 x 32 image at aspect 1: a 16 x 16 box (sqrt(256)), left in 0..16
    draws = FixedDraws(uniform=[0.5, 0.0], integers=[0, 7])
    assert crop_box(16, 32, draws, 0.35) == (0, 7, 16, 16)


def test_resized_crop_of_the_whole_image_is_the_image():
    cfg = DataConfig(resized_crop_min_area=1.0)
    image = np.random.default_rng(1).integers(0, 256, (3, 8, 8), dtype=np.uint8)
    # whole area at aspect 1 gives the full 8 x 8 box; resizing it to 8 x 8 changes nothing
    out = resized_crop(image, FixedDraws(uniform=[1.0, 0.0], integers=[0, 0]), cfg)
    np.testing.assert_array_equal(out, image)
    constant = np.full((1, 8, 8), 9, np.uint8)
    out = resized_crop(constant, np.random.default_rng(2), DataConfig())
    assert out.shape == (1, 8, 8) and out.dtype == np.uint8 and (out == 9).all()


def test_augmentation_is_a_function_of_seed_epoch_and_index():
    cfg = DataConfig(augment=["pad_crop", "flip"])
    image = np.random.default_rng(0).integers(0, 256, (3, 8, 8), dtype=np.uint8)
    same = [augment(image, cfg, seed=1, epoch=2, index=3) for _ in range(2)]
    np.testing.assert_array_equal(*same)
    others = [augment(image, cfg, 1, epoch, index) for epoch in range(4) for index in range(4)]
    assert len({o.tobytes() for o in others}) > 8


def images(count=6, seed=0) -> ImageSet:
    rng = np.random.default_rng(seed)
    return ImageSet(rng.integers(0, 256, (count, 1, 6, 6), dtype=np.uint8),
                    np.arange(count) % 2, 255, 2)


def test_frame_dataset_augments_the_training_split_only():
    cfg = DataConfig(encoding="rate", time_steps=4, augment=["pad_crop", "flip"])
    data = images()
    heldout = FrameDataset(data, cfg)
    for i in range(len(data)):
        x, label = heldout[i]
        expected = encode_rate(data.images[i], 255, 4).astype(np.float32)
        np.testing.assert_array_equal(x.numpy(), expected)
        assert label == data.labels[i]
    train = FrameDataset(data, cfg, train=True, seed=5)
    train.set_epoch(3)
    x, _ = train[2]
    crop = augment(data.images[2], cfg, seed=5, epoch=3, index=2)
    np.testing.assert_array_equal(x.numpy(), encode_rate(crop, 255, 4))
    again = FrameDataset(data, cfg, train=True, seed=5)
    again.set_epoch(3)
    assert all(torch.equal(train[i][0], again[i][0]) for i in range(len(data)))
    again.set_epoch(4)
    assert not all(torch.equal(train[i][0], again[i][0]) for i in range(len(data)))


def test_frame_dataset_without_augmentations_encodes_as_before():
    cfg = DataConfig(encoding="direct", time_steps=2)
    x, _ = FrameDataset(images(), cfg, train=True)[0]
    assert x.dtype == torch.float32 and x.shape == (1, 6, 6, 2)
    np.testing.assert_array_equal(x[..., 0].numpy(), images().images[0])


@pytest.mark.parametrize("overrides,message", [
    ({"augment": ["rotate"]}, "unknown augmentation 'rotate' in data.augment; known: flip, "
                              "pad_crop, resized_crop"),
    ({"image_size": 64}, "data.image_size does not apply to data set 'digits'"),
    ({"intensity_levels": 256}, "data.intensity_levels must be 1..255"),
    ({"encoding": "events"}, "data set 'digits' holds images; data.encoding 'events' does not "
                             "encode them"),
])
def test_settings_that_do_not_fit_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_splits(DataConfig(**overrides))

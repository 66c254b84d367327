"""The data sets by name, and loading one as configured: checked, requantized, limited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...config import DataConfig
from ...errors import ConfigError
from .augment import AUGMENTATIONS
from .cifar import load_cifar10, load_cifar100
from .digits import load_digits
from .encodings import check_encoding
from .imagenette import load_imagenette
from .images import Splits, requantize
from .mnist import load_mnist
from .nmnist import load_nmnist

MAX_INTENSITY_LEVELS = 255        # images are 8-bit on disk; more levels add nothing


@dataclass(frozen=True)
class DataSet:
    load: Callable[[DataConfig], Splits]
    holds_events: bool = False    # event streams (N-MNIST) rather than images
    resizable: bool = False       # honours data.image_size

    def __call__(self, cfg: DataConfig) -> Splits:
        return self.load(cfg)


DATASETS: dict[str, DataSet] = {
    "digits": DataSet(load_digits),
    "mnist": DataSet(load_mnist),
    "cifar10": DataSet(load_cifar10),
    "cifar100": DataSet(load_cifar100),
    "imagenette": DataSet(load_imagenette, resizable=True),
    "nmnist": DataSet(load_nmnist, holds_events=True),
}


def check_config(cfg: DataConfig) -> DataSet:
    """Every data setting that does not fit the data set is an error before anything loads."""
    if cfg.name not in DATASETS:
        raise ConfigError(f"unknown data set '{cfg.name}'; known: {', '.join(DATASETS)}")
    dataset = DATASETS[cfg.name]
    check_encoding(cfg, dataset.holds_events)
    unknown = [name for name in cfg.augment if name not in AUGMENTATIONS]
    if unknown:
        raise ConfigError(f"unknown augmentation '{unknown[0]}' in data.augment; known: "
                          f"{', '.join(AUGMENTATIONS)}")
    for key, value, applies in (
            ("augment", cfg.augment, not dataset.holds_events),
            ("intensity_levels", cfg.intensity_levels, not dataset.holds_events),
            ("image_size", cfg.image_size, dataset.resizable)):
        if value and not applies:
            raise ConfigError(f"data.{key} does not apply to data set '{cfg.name}'")
    if not 0 <= cfg.intensity_levels <= MAX_INTENSITY_LEVELS:
        raise ConfigError(f"data.intensity_levels must be 1..{MAX_INTENSITY_LEVELS} "
                          f"(0: the data set's own), got {cfg.intensity_levels}")
    if cfg.time_steps < 1 or cfg.drain_steps < 0:
        raise ConfigError(f"data.time_steps must be at least 1 and data.drain_steps at least 0, "
                          f"got {cfg.time_steps} and {cfg.drain_steps}")
    if cfg.encoding == "events" and (cfg.event_clip < 1 or cfg.event_window_us < 1):
        raise ConfigError("data.event_clip and data.event_window_us must be positive")
    return dataset


def load_splits(cfg: DataConfig) -> Splits:
    """The configured data set's two splits, intensities requantized to data.intensity_levels
    and cut to data.limit samples each."""
    splits = check_config(cfg)(cfg)
    if cfg.intensity_levels:
        splits = Splits(requantize(splits.train, cfg.intensity_levels),
                        requantize(splits.heldout, cfg.intensity_levels))
    if cfg.limit:
        splits = Splits(splits.train.take(cfg.limit), splits.heldout.take(cfg.limit))
    return splits

"""Input encodings: samples -> (N, C, H, W, T + D) integer frames: T input frames
(data.time_steps), then D all-zero drain frames (data.drain_steps).

Every encoding is deterministic, so training, the emulator and Lava see the same integers.
A graded encoding's frames carry integers up to the samples' `levels` as graded spikes
(message_bits = levels.bit_length()); the others carry binary spikes (message_bits 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...config import DataConfig
from ...errors import ConfigError
from .events import EventStreams, bin_events
from .images import ImageSet


def encode_direct(images: np.ndarray, levels: int, steps: int) -> np.ndarray:
    """Direct current injection: the integer intensity arrives as a graded spike every step,
    and the first layer's synapses turn it into a current (the analog input of Rueckauer et
    al. 2017)."""
    return np.repeat(np.asarray(images)[..., None], steps, axis=-1)


def encode_rate(images: np.ndarray, levels: int, steps: int) -> np.ndarray:
    """Deterministic rate code: an integrate-and-fire encoder per pixel, evenly spaced spikes.

    Pixel p fires at step t when floor((t+1) p / levels) exceeds floor(t p / levels).
    """
    t = np.arange(steps + 1)
    counts = (np.asarray(images, dtype=np.int64)[..., None] * t) // levels
    return np.diff(counts, axis=-1).astype(np.int64)


def encode_events(streams: EventStreams, levels: int, steps: int, window_us: int) -> np.ndarray:
    """Event frames: each step counts the events of its 1/steps of the window, per polarity
    channel and pixel, clipped at `levels` (data.event_clip; 1: binary spikes)."""
    return bin_events(streams, steps, window_us, levels)


def append_drain(frames: np.ndarray, drain_steps: int) -> np.ndarray:
    """Append `drain_steps` all-zero frames. Each synapse delays by one step (docs/format.md),
    so what arrives in the last input frame reaches the output D steps later; the drain gives
    it those steps without presenting the input any longer."""
    if drain_steps == 0:
        return frames                 # no copy: this runs for every sample of every epoch
    drain = np.zeros((*frames.shape[:-1], drain_steps), dtype=frames.dtype)
    return np.concatenate([frames, drain], axis=-1)


@dataclass(frozen=True)
class Encoding:
    encode_input: Callable[[Any, int, DataConfig], np.ndarray]  # (samples, levels, cfg) -> T
    graded: bool                  # True: the input carries integers up to levels, not 0/1
    events: bool = False          # True: encodes event streams; False: images

    def encode(self, samples, levels: int, cfg: DataConfig) -> np.ndarray:
        """(N, C, H, W, T + D) frames: the input frames, then the drain."""
        return append_drain(self.encode_input(samples, levels, cfg), cfg.drain_steps)


ENCODINGS = {
    "direct": Encoding(lambda x, levels, cfg: encode_direct(x, levels, cfg.time_steps), True),
    "rate": Encoding(lambda x, levels, cfg: encode_rate(x, levels, cfg.time_steps), False),
    "events": Encoding(lambda x, levels, cfg: encode_events(x, levels, cfg.time_steps,
                                                            cfg.event_window_us), True, True),
}


def encoding(cfg: DataConfig) -> Encoding:
    if cfg.encoding not in ENCODINGS:
        raise ConfigError(f"unknown encoding '{cfg.encoding}'; known: {', '.join(ENCODINGS)}")
    return ENCODINGS[cfg.encoding]


def check_encoding(cfg: DataConfig, holds_events: bool) -> Encoding:
    """The configured encoding, which must take what the data set holds."""
    chosen = encoding(cfg)
    if chosen.events != holds_events:
        fitting = [name for name, e in ENCODINGS.items() if e.events == holds_events]
        kind = "event streams" if holds_events else "images"
        raise ConfigError(f"data set '{cfg.name}' holds {kind}; data.encoding "
                          f"'{cfg.encoding}' does not encode them (use {' or '.join(fitting)})")
    return chosen


def message_bits(cfg: DataConfig, levels: int) -> int:
    """Bits a graded input spike needs to carry `levels`; 0 for binary spikes."""
    graded = encoding(cfg).graded and levels > 1
    return int(levels).bit_length() if graded else 0


def frames(images: ImageSet, cfg: DataConfig) -> np.ndarray:
    """(N, C, H, W, T) int64 input frames for these samples."""
    chosen = check_encoding(cfg, isinstance(images.images, EventStreams))
    return chosen.encode(images.images, images.levels, cfg).astype(np.int64)

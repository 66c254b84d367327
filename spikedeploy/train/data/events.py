"""Event streams of a dynamic vision sensor, and how they are binned into frames over time.

An event is (x, y, polarity, timestamp in microseconds). Every sample's events are kept in one
flat array of all samples (6 bytes an event: the pixel and polarity as one index into the
(C, H, W) frame, and the timestamp), with each sample's slice given by `offsets`, and binned
only when a batch is encoded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EventStreams:
    """Events of N samples for frames of `frame_shape` (C, H, W); C is the polarity
    (0: OFF, 1: ON). `shape` is (N, C, H, W), like a set of images."""

    cells: np.ndarray             # (E,) uint16: index into the (C, H, W) frame, c*H*W + y*W + x
    times_us: np.ndarray          # (E,) uint32: timestamp of each event in microseconds
    offsets: np.ndarray           # (N + 1,) int64: sample i is events offsets[i]:offsets[i+1]
    frame_shape: tuple[int, int, int]

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self.frame_shape)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: slice) -> EventStreams:
        """A contiguous run of samples (the one kind of indexing the pipeline uses)."""
        start, stop, step = index.indices(len(self))
        if step != 1:
            raise IndexError("EventStreams take contiguous slices only")
        stop = max(start, stop)
        first, last = self.offsets[start], self.offsets[stop]
        return EventStreams(self.cells[first:last], self.times_us[first:last],
                            self.offsets[start:stop + 1] - first, self.frame_shape)

    @classmethod
    def concatenate(cls, parts: list[EventStreams], frame_shape) -> EventStreams:
        per_sample = [np.diff(p.offsets) for p in parts] or [np.zeros(0, np.int64)]
        offsets = np.concatenate([[0], np.cumsum(np.concatenate(per_sample))]).astype(np.int64)
        return cls(np.concatenate([p.cells for p in parts] or [np.zeros(0, np.uint16)]),
                   np.concatenate([p.times_us for p in parts] or [np.zeros(0, np.uint32)]),
                   offsets, tuple(frame_shape))


def bin_events(streams: EventStreams, steps: int, window_us: int, clip: int) -> np.ndarray:
    """(N, C, H, W, steps) counts of events per pixel, polarity and time bin, clipped at `clip`.

    The window [0, window_us) is cut into `steps` equal bins: an event at t microseconds falls
    in bin floor(t * steps / window_us); later events are dropped. clip = 1 gives binary spikes.
    """
    n, cells = len(streams), int(np.prod(streams.frame_shape))
    sample = np.repeat(np.arange(n, dtype=np.int64), np.diff(streams.offsets))
    times = streams.times_us.astype(np.int64)
    inside = times < window_us
    step = times[inside] * steps // window_us
    flat = (sample[inside] * cells + streams.cells[inside].astype(np.int64)) * steps + step
    counts = np.bincount(flat, minlength=n * cells * steps)
    return np.minimum(counts, clip).reshape(n, *streams.frame_shape, steps)

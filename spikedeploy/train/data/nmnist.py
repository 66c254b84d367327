"""N-MNIST (Orchard et al. 2015, "Converting static image datasets to spiking neuromorphic
datasets using saccades", Front. Neurosci. 9:437): MNIST digits recorded by an ATIS sensor
making three saccades, 34x34 pixels.

Layout as distributed: Train/<digit>/<id>.bin and Test/<digit>/<id>.bin, digit 0..9. Each file is
a list of events of 40 bits each (the N-MNIST page; lava-dl's `slayer.io.read_2d_spikes` reads
the same): bits 39-32 x address, bits 31-24 y address, bit 23 polarity (0 OFF, 1 ON), bits 22-0
timestamp in microseconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...config import DataConfig
from ...errors import SpikedeployError
from .events import EventStreams
from .images import ImageSet, Splits, data_root, file_order

NMNIST_SIDE = 34                  # the ATIS recordings are cropped to 34x34 (Orchard et al.)
NMNIST_FRAME = (2, NMNIST_SIDE, NMNIST_SIDE)      # (polarity, y, x)
NMNIST_LAYOUT = "N-MNIST's Train/<digit>/*.bin and Test/<digit>/*.bin"
EVENT_BYTES = 5                   # 40 bits


def read_events(path: Path) -> EventStreams:
    """One file's events as a one-sample EventStreams."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as err:
        raise SpikedeployError(f"cannot read ({err})", path) from None
    if len(raw) % EVENT_BYTES:
        raise SpikedeployError(f"{len(raw)} bytes is not a whole number of 5-byte (40-bit) "
                               f"events", path)
    x, y, polarity_time = raw[0::5], raw[1::5], raw[2::5].astype(np.uint32)
    if len(raw) and max(int(x.max()), int(y.max())) >= NMNIST_SIDE:
        raise SpikedeployError(f"event address ({int(x.max())}, {int(y.max())}) outside the "
                               f"{NMNIST_SIDE}x{NMNIST_SIDE} sensor", path)
    polarity = polarity_time >> 7
    times = ((polarity_time & 0x7F) << 16) | (raw[3::5].astype(np.uint32) << 8) | raw[4::5]
    cells = (polarity * NMNIST_SIDE + y) * NMNIST_SIDE + x
    return EventStreams(cells.astype(np.uint16), times.astype(np.uint32),
                        np.array([0, len(cells)], np.int64), NMNIST_FRAME)


def read_split(folder: Path, cfg: DataConfig) -> ImageSet:
    """The samples of Train/ or Test/ in a fixed shuffled order (`file_order`)."""
    files, labels = [], []
    for digit in range(10):
        found = sorted((folder / str(digit)).glob("*.bin"))
        if not found:
            raise SpikedeployError(f"no .bin files in {digit}/ ({NMNIST_LAYOUT})", folder)
        files += found
        labels += [digit] * len(found)
    order = file_order(len(files), cfg)
    events = EventStreams.concatenate([read_events(files[i]) for i in order], NMNIST_FRAME)
    return ImageSet(events, np.asarray(labels, dtype=np.int64)[order], cfg.event_clip, 10)


def load_nmnist(cfg: DataConfig) -> Splits:
    """60000 training and 10000 test samples as event streams for (2, 34, 34) frames; the
    largest count a frame holds is data.event_clip. Test/ is the held-out split."""
    root = data_root(cfg.root, "nmnist", NMNIST_LAYOUT)
    splits = []
    for name in ("Train", "Test"):
        folder = next((root / n for n in (name, name.lower()) if (root / n).is_dir()), None)
        if folder is None:
            raise SpikedeployError(f"missing {name}/ ({NMNIST_LAYOUT})", root)
        splits.append(read_split(folder, cfg))
    return Splits(*splits)

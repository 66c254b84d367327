"""Data sets, their encodings into input frames over time, and training augmentations.

A data set loads as two splits of integer samples (`ImageSet`): images (N, C, H, W) with a
known largest intensity, or event streams binned into (C, H, W) frames. An encoding turns a
batch into (N, C, H, W, T) integer frames, deterministically, so training, the emulator and
Lava see identical input. One module per data set; one registry each for data sets
(`DATASETS`), encodings (`ENCODINGS`) and augmentations (`AUGMENTATIONS`).
"""

from .augment import AUGMENTATIONS, augment
from .dataset import FrameDataset
from .encodings import (
    ENCODINGS,
    Encoding,
    encode_direct,
    encode_events,
    encode_rate,
    encoding,
    frames,
    message_bits,
)
from .events import EventStreams, bin_events
from .images import ImageSet, Splits, requantize
from .registry import DATASETS, DataSet, check_config, load_splits

__all__ = ["AUGMENTATIONS", "DATASETS", "ENCODINGS", "DataSet", "Encoding", "EventStreams",
           "FrameDataset", "ImageSet", "Splits", "augment", "bin_events", "check_config",
           "encode_direct", "encode_events", "encode_rate", "encoding", "frames",
           "load_splits", "message_bits", "requantize"]

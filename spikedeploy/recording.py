"""Input arrays and spike recordings on disk (numpy only).

Two layouts: "lava" is netx's: (x, y, channel, time) for images and (neuron, time) for vectors,
so ground truth recorded for lava-dl applies unchanged; "slayer" is (channel, y, x, time).
A leading sample axis is optional on input and always present in recordings.
Internally every stage uses (N, C, H, W, T) / (N, F, T).
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .errors import SpikedeployError

LAYOUTS = ("lava", "slayer")
META_KEY = "__meta__"


def _reverse_shape_axes(x: np.ndarray) -> np.ndarray:
    dims = x.ndim - 2
    return x.transpose(0, *range(dims, 0, -1), dims + 1)


def to_internal(x: np.ndarray, shape: tuple[int, ...], layout: str,
                where: str | os.PathLike | None = None) -> np.ndarray:
    """A file's array (one sample or a batch, in `layout`) -> (N, *shape, T)."""
    if layout not in LAYOUTS:
        raise SpikedeployError(f"unknown layout '{layout}'; choose one of {', '.join(LAYOUTS)}")
    if x.ndim == len(shape) + 1:
        x = x[None]
    if x.ndim != len(shape) + 2:
        raise SpikedeployError(f"array of shape {x.shape} is neither one sample nor a batch for "
                               f"a network input of shape {shape}", where)
    if layout == "lava":
        x = _reverse_shape_axes(x)
    if tuple(x.shape[1:-1]) != tuple(shape):
        expected = shape if layout == "slayer" else tuple(reversed(shape))
        raise SpikedeployError(f"array of shape {tuple(x.shape)} does not fit the network input "
                               f"{expected} in the '{layout}' layout", where)
    return x


def from_internal(x: np.ndarray, layout: str) -> np.ndarray:
    """(N, *shape, T) -> the file layout, always with the sample axis."""
    return _reverse_shape_axes(x) if layout == "lava" else x


def load_input(path: str | os.PathLike, shape: tuple[int, ...], layout: str,
               static_steps: int | None = None) -> np.ndarray:
    """An input file as (N, *shape, T). With `static_steps` the file holds frames without a
    time axis, (*shape) or (N, *shape) in `layout`, each shown for that many steps (how lava-dl
    drives an image into a network through its input neurons' bias)."""
    path = Path(path)
    if not path.is_file():
        raise SpikedeployError("no such file", path)
    try:
        x = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise SpikedeployError(f"not a readable .npy array ({err})", path) from None
    if x.dtype.kind not in "biuf" or (x.dtype.kind == "f" and not np.isfinite(x).all()):
        raise SpikedeployError("input must be numeric and finite", path)
    if x.dtype.kind == "f" and not np.array_equal(np.round(x), x):
        raise SpikedeployError("input must hold integers (spikes or graded payloads)", path)
    if static_steps is not None:
        if static_steps < 1:
            raise SpikedeployError(f"--steps must be at least 1, got {static_steps}")
        x = np.repeat(x[..., None], static_steps, axis=-1)
    return to_internal(x.astype(np.int64), shape, layout, path)


def save_recording(path: str | os.PathLike, spikes: dict[str, np.ndarray], meta: dict,
                   layout: str) -> None:
    """Write {node: (N, *shape, T)} as .npz in `layout`, atomically: spikes as uint8, readouts
    (average layers, float) as float64."""
    arrays = {name: from_internal(np.asarray(v, dtype=np.float64 if np.asarray(v).dtype.kind
                                             == "f" else np.uint8), layout)
              for name, v in spikes.items()}
    meta = {**meta, "layout": layout}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays,
                                **{META_KEY: np.frombuffer(json.dumps(meta).encode(), np.uint8)})


def load_recording(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read a recording back as ({node: (N, *shape, T)}, meta)."""
    path = Path(path)
    if not path.is_file():
        raise SpikedeployError("no such file", path)
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data[META_KEY]).decode())
            arrays = {k: data[k] for k in data.files if k != META_KEY}
    # np.load reads .npz through zipfile: a damaged archive raises BadZipFile or EOFError.
    except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise SpikedeployError(f"not a spikedeploy recording ({err})", path) from None
    if not isinstance(meta, dict):
        raise SpikedeployError("not a spikedeploy recording (its metadata is not a JSON "
                               "object)", path)
    layout = meta.get("layout", "slayer")
    return {k: _reverse_shape_axes(v) if layout == "lava" else v for k, v in arrays.items()}, meta

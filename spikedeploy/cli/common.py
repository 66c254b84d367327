"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from pathlib import Path

import numpy as np

from ..errors import SpikedeployError

EXAMPLES = argparse.RawDescriptionHelpFormatter


@contextlib.contextmanager
def quiet_imports():
    """lava-dl prints notices at import time (no CUDA, no Prophesee toolbox); keep them out."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def add_config_args(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--config", default=default,
                        help=f"preset name in configs/ or a TOML file (default: {default})")
    parser.add_argument("overrides", nargs="*", metavar="SECTION.KEY=VALUE",
                        help="override a config value, e.g. train.qat_epochs=4")


def add_input_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("input (default: the held-out split the network was "
                                      "trained for, from the file's provenance)")
    group.add_argument("--input", type=Path, help=".npy input frames, one sample or a batch")
    group.add_argument("--labels", type=Path, help=".npy integer labels for --input")
    group.add_argument("--layout", choices=("lava", "slayer"), default="lava",
                       help="array layout of --input and --record: lava = netx's (x, y, c, t), "
                            "slayer = (c, y, x, t) (default: lava)")
    group.add_argument("--steps", type=int, metavar="T",
                       help="--input holds frames without a time axis; show each for T steps "
                            "(lava-dl drives images through the input neurons' bias this way)")
    group.add_argument("--split", choices=("heldout", "train"), default="heldout")
    group.add_argument("--limit", type=int, default=0, help="use only the first N samples")


def load_inputs(graph, args) -> tuple[np.ndarray, np.ndarray | None]:
    """(inputs (N, *shape, T), labels or None) from --input or from the graph's provenance."""
    from ..recording import load_input

    if args.steps is not None and args.input is None:
        raise SpikedeployError("--steps applies to --input, which is missing")
    if args.input is not None:
        inputs = load_input(args.input, graph.shapes[graph.input_name], args.layout,
                            args.steps)
        labels = _load_labels(args.labels, len(inputs)) if args.labels else None
    else:
        inputs, labels = _dataset_inputs(graph, args.split)
    if args.limit:
        inputs = inputs[:args.limit]
        labels = None if labels is None else labels[:args.limit]
    return inputs, labels


def add_reset_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reset-interval", type=int, metavar="R",
                        help="netx's Network(reset_interval=R): the k-th neuron layer zeroes "
                             "its state every R steps at step k+1, as lava-dl records ground "
                             "truth (default: no reset within a sample)")


def _load_labels(path: Path, count: int) -> np.ndarray:
    if not path.is_file():
        raise SpikedeployError("no such file", path)
    labels = np.load(path, allow_pickle=False)
    if labels.shape != (count,) or labels.dtype.kind not in "iu":
        raise SpikedeployError(f"labels must be {count} integers, got shape {labels.shape} "
                               f"{labels.dtype}", path)
    return labels


def _dataset_inputs(graph, split: str):
    from ..config import from_dict
    from ..train.data import frames, load_splits

    config = graph.metadata.get("config")
    if config is None:
        raise SpikedeployError("this network file does not say which data set it was trained "
                               "for; pass --input (and --labels)")
    cfg = from_dict(config, "network provenance")
    images = getattr(load_splits(cfg.data), split)
    return frames(images, cfg.data), images.labels


def default_out(path: Path, name: str) -> Path:
    return Path(os.fspath(path)).with_name(name)

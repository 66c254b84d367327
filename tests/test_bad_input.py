"""Every file or value a user hands a subcommand, broken in the ways files break: one line
`error: <file>: <problem>`, exit status 2, and no output written (a file that was already
there is left exactly as it was).

One table: (case, what to put in the folder, the command line, the expected message, the
output the command was asked to write). Commands run in-process through the CLI's `main`, so
the table stays fast; tests/test_cli.py runs the same path as real processes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from spikedeploy.cli import main
from spikedeploy.config import load
from spikedeploy.graph import write
from spikedeploy.recording import from_internal, save_recording
from tests.conftest import random_inputs, residual_graph


class WritesMarker:
    """A pickled object that creates a file when unpickled: what a hostile pickle does."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _network(tmp: Path) -> None:
    graph = residual_graph(channels=2, size=4)
    write(graph, tmp / "net.h5")
    np.save(tmp / "x.npy", from_internal(random_inputs(graph, 2, 4), "lava"))


def _edited(edit: Callable[[h5py.File], None]):
    def setup(tmp: Path) -> None:
        _network(tmp)
        with h5py.File(tmp / "net.h5", "r+") as f:
            edit(f)
    return setup


def _replace(path: str, value):
    def edit(f):
        del f[path]
        f[path] = value
    return edit


def _bytes(name: str, content: bytes, network: bool = False):
    def setup(tmp: Path) -> None:
        if network:
            _network(tmp)
        (tmp / name).write_bytes(content)
    return setup


def _cut(fraction: float):
    def setup(tmp: Path) -> None:
        _network(tmp)
        data = (tmp / "net.h5").read_bytes()
        (tmp / "net.h5").write_bytes(data[:int(len(data) * fraction)])
    return setup


def _flipped(tmp: Path) -> None:
    _network(tmp)
    data = bytearray((tmp / "net.h5").read_bytes())
    data[:8] = b"\x00" * 8                    # HDF5's signature
    (tmp / "net.h5").write_bytes(bytes(data))


def _checkpoint(content):
    def setup(tmp: Path) -> None:
        torch.save(content(tmp) if callable(content) else content, tmp / "ckpt.pt")
    return setup


def _mismatched_checkpoint(tmp: Path) -> dict:
    return {"config": load("tiny").to_dict(), "model": {"nope": torch.zeros(1)},
            "io": {"input_shape": [1, 8, 8], "num_classes": 10, "input_message_bits": 8}}


def _recording(arrays: dict, meta: dict | None = None):
    def setup(tmp: Path) -> None:
        _network(tmp)
        save_recording(tmp / "rec.npz", arrays, meta or {}, "slayer")
    return setup


@dataclass
class Case:
    id: str
    setup: Callable[[Path], None] | None
    args: str                      # {t}: the test's folder
    message: str                   # a regular expression
    output: str                    # what the command was asked to write, relative to {t}


SIM = "sim {t}/net.h5 --input {t}/x.npy --record {t}/out.npz --no-progress"
PROFILE = "profile {t}/net.h5 --input {t}/x.npy --out {t}/prof --no-plots --no-progress"
EXPORT = "export {t}/ckpt.pt -o {t}/out.h5"
TRAIN = "train --out {t}/run --no-progress"
DEPLOY = "deploy {t}/net.h5 --input {t}/x.npy --record {t}/out.npz --no-progress"
CASES = [
    # network files
    Case("missing network", None, SIM, r"net.h5: no such file", "out.npz"),
    Case("network is a folder", lambda t: (t / "net.h5").mkdir(), SIM, "net.h5: no such file",
         "out.npz"),
    Case("empty network", _bytes("net.h5", b""), SIM, "net.h5: not a readable network file",
         "out.npz"),
    Case("truncated network", _cut(0.6), SIM, "net.h5: not a readable network file",
         "out.npz"),
    Case("truncated to its superblock", _cut(0.02), SIM, "net.h5: not a readable network",
         "out.npz"),
    Case("corrupt signature", _flipped, SIM, "net.h5: not a readable network file", "out.npz"),
    Case("text, not HDF5", _bytes("net.h5", b"hello\n" * 50), SIM, "net.h5: not a readable",
         "out.npz"),
    Case("future format version", _edited(lambda f: f.attrs.__setitem__(
        "spikedeploy_format_version", 2)), SIM, "format version 2 is not supported", "out.npz"),
    Case("unknown node type", _edited(_replace("layer/1/type", np.array([b"lstm"]))), SIM,
         "layer 1: unknown layer type 'lstm'", "out.npz"),
    Case("edge to a missing node", _edited(lambda f: f["layer/2/skip/0"].attrs.__setitem__(
        "source", 40)), SIM, "layer 2 reads from layer 40, which does not come before it",
        "out.npz"),
    Case("cycle", _edited(lambda f: f["layer/2"].attrs.__setitem__("source", 2)), SIM,
         "layer 2 reads from layer 2", "out.npz"),
    Case("shape mismatch", _edited(_replace("layer/1/weight", np.full((2, 3, 3, 3), 2))), SIM,
         "conv expects 3 input channels", "out.npz"),
    Case("NaN weight", _edited(_replace("layer/1/weight", np.full((2, 2, 3, 3), np.nan))),
         SIM, "contains NaN or infinity", "out.npz"),
    Case("fractional weight", _edited(_replace("layer/1/weight", np.full((2, 2, 3, 3), 2.5))),
         SIM, "must hold integers", "out.npz"),
    Case("weight outside 8 bits", _edited(_replace("layer/1/weight",
                                                   np.full((2, 2, 3, 3), 300))),
         SIM, r"must lie in \[-256, 255\]", "out.npz"),
    Case("threshold outside 17 bits", _edited(_replace("layer/1/neuron/vThMant", 1 << 20)),
         SIM, "threshold_mant", "out.npz"),
    Case("text where a number belongs", _edited(_replace("layer/1/weight", b"weights")), SIM,
         "must be numeric", "out.npz"),
    Case("group where a dataset belongs", _edited(lambda f: (f["layer/1"].__delitem__("weight"),
                                                             f["layer/1"].create_group("weight"))),
         SIM, "'weight' is not a dataset", "out.npz"),
    Case("deploy: truncated network", _cut(0.5), DEPLOY, "net.h5: not a readable network",
         "out.npz"),
    Case("deploy: weight outside 8 bits", _edited(_replace("layer/1/weight",
                                                           np.full((2, 2, 3, 3), -300))),
         DEPLOY, r"must lie in \[-256, 255\]", "out.npz"),
    Case("export: network given for a checkpoint", _network, "export {t}/net.h5 -o {t}/out.h5",
         "net.h5: not a readable checkpoint", "out.h5"),
    # inputs handed to sim / deploy / profile
    Case("NaN input", lambda t: (_network(t), np.save(t / "x.npy", np.full((4, 4, 2, 3),
                                                                            np.nan))),
         SIM, "x.npy: input must be numeric and finite", "out.npz"),
    Case("deploy: NaN input", lambda t: (_network(t), np.save(t / "x.npy", np.full(
        (4, 4, 2, 3), np.inf))), DEPLOY, "x.npy: input must be numeric and finite", "out.npz"),
    Case("input of the wrong shape", lambda t: (_network(t), np.save(t / "x.npy",
                                                                     np.zeros((5, 4, 2, 3)))),
         SIM, "x.npy: array of shape .* does not fit the network input", "out.npz"),
    Case("pickled input", lambda t: (_network(t), np.save(t / "x.npy", np.array(
        [WritesMarker(t / "marker")], dtype=object), allow_pickle=True)),
         SIM, "x.npy: not a readable .npy array", "out.npz"),
    # checkpoints for export
    Case("missing checkpoint", None, EXPORT, "ckpt.pt: no such checkpoint", "out.h5"),
    Case("empty checkpoint", _bytes("ckpt.pt", b""), EXPORT, "ckpt.pt: not a readable",
         "out.h5"),
    Case("corrupt checkpoint", _bytes("ckpt.pt", b"PK\x03\x04" + b"\x00" * 64), EXPORT,
         "ckpt.pt: not a readable checkpoint", "out.h5"),
    Case("pickled object in a checkpoint", _checkpoint(lambda t: {
        "config": {}, "io": {}, "model": WritesMarker(t / "marker")}), EXPORT,
        r"ckpt.pt: not a readable checkpoint: it holds pickled Python objects.*"
        r"\(Unsupported class io.open\); refused", "out.h5"),
    Case("checkpoint of something else", _checkpoint({"weights": torch.zeros(2)}), EXPORT,
         "ckpt.pt: not a spikedeploy checkpoint", "out.h5"),
    Case("checkpoint with a wrong config", _checkpoint(lambda t: {
        **_mismatched_checkpoint(t), "config": {"train": {"nope": 1}}}), EXPORT,
        "ckpt.pt: unknown config key 'train.nope'", "out.h5"),
    Case("checkpoint that disagrees with its config", _checkpoint(_mismatched_checkpoint),
         EXPORT, "ckpt.pt: checkpoint does not match its own config", "out.h5"),
    # recordings for profile
    Case("missing recording", _network, PROFILE + " --recording {t}/rec.npz",
         "rec.npz: no such file", "prof"),
    Case("garbage recording", _bytes("rec.npz", b"PK\x05\x06" + bytes(18), network=True),
         PROFILE + " --recording {t}/rec.npz", "rec.npz: not a spikedeploy recording", "prof"),
    Case("truncated recording", _bytes("rec.npz", b"PK\x03\x04\x14\x00" + bytes(40),
                                       network=True),
         PROFILE + " --recording {t}/rec.npz", "rec.npz: not a spikedeploy recording", "prof"),
    Case("plain npz, no metadata", lambda t: (_network(t), np.savez(t / "rec.npz",
                                                                    a=np.zeros(3))),
         PROFILE + " --recording {t}/rec.npz", "rec.npz: not a spikedeploy recording", "prof"),
    Case("recording of other layers", _recording({"zz": np.zeros((2, 3, 4), np.uint8)}),
         PROFILE + " --recording {t}/rec.npz", "rec.npz: the recording has no layer", "prof"),
    Case("recording of another shape", _recording(
        {n: np.zeros((2, 3, 4), np.uint8) for n in residual_graph(channels=2, size=4).nodes}),
         PROFILE + " --recording {t}/rec.npz", "rec.npz: recorded layer .* has shape", "prof"),
    Case("recording with more samples", _recording({"n1": np.zeros((9, 2, 4, 4, 4))}),
         PROFILE + " --recording {t}/rec.npz", r"rec.npz: the recording holds \[9\] samples",
         "prof"),
    # configs and data for train
    Case("unknown config key", None, TRAIN + " --config tiny train.nope=1",
         "unknown config key 'train.nope'", "run"),
    Case("wrong type", None, TRAIN + " --config tiny train.batch_size=many",
         "'train.batch_size' must be int", "run"),
    Case("missing config file", None, TRAIN + " --config {t}/none.toml",
         "none.toml: no such config file", "run"),
    Case("malformed TOML", _bytes("c.toml", b"[train\n"), TRAIN + " --config {t}/c.toml",
         "c.toml: not valid TOML", "run"),
    Case("binary config", _bytes("c.toml", bytes(range(256))), TRAIN + " --config {t}/c.toml",
         "c.toml: not valid TOML", "run"),
    Case("unknown key in a config file", _bytes("c.toml", b"[model]\nwidht = 3\n"),
         TRAIN + " --config {t}/c.toml", "c.toml: unknown config key 'model.widht'", "run"),
    Case("data folder missing", None, TRAIN + " --config tiny data.name=mnist "
         "data.root={t}/nodata", "nodata: no such directory", "run"),
    Case("data folder with broken files", lambda t: [
        (t / "mnist").mkdir(), (t / "mnist" / "train-images-idx3-ubyte").write_bytes(b"\x00")],
         TRAIN + " --config tiny data.name=mnist data.root={t}/mnist",
         "mnist: missing train-labels-idx1-ubyte", "run"),
]


@pytest.mark.parametrize("existing", [False, True], ids=["new-output", "existing-output"])
@pytest.mark.parametrize("case", CASES, ids=[c.id.replace(" ", "-") for c in CASES])
def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path, capsys, case, existing):
    if case.setup is not None:
        case.setup(tmp_path)
    output = tmp_path / case.output
    if existing:
        _make_output(output)
    before = _snapshot(output)
    code = main(case.args.format(t=tmp_path).split())
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.count("\n") == 0 and err.startswith("error: "), err
    assert re.search(case.message, err), err
    assert _snapshot(output) == before
    assert not (tmp_path / "marker").exists()               # no pickle ran
    assert not list(tmp_path.rglob(".*.tmp"))                # no half-written file


def _make_output(path: Path) -> None:
    if path.suffix:                      # a file
        path.write_bytes(b"an earlier result")
    else:                                # a folder (profile --out, train --out)
        path.mkdir()
        (path / "earlier.txt").write_text("an earlier result")


def _snapshot(path: Path):
    """Everything under `path`, or None where nothing is."""
    if not path.exists():
        return None
    if path.is_file():
        return path.read_bytes()
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def test_the_table_covers_every_command_that_reads_a_file():
    commands = {c.args.split()[0] for c in CASES}
    assert commands == {"sim", "deploy", "profile", "export", "train"}

"""Fuzzing the network-file reader: whatever the bytes, the only error is SpikedeployError.

Two kinds of damage: (a) random byte edits and truncations of valid files (a chain and a
residual network), which exercise HDF5's own parsing, and (b) random small graphs, written with
our writer and then edited through h5py (a dataset or attribute replaced by a random value of a
random type, or deleted), which exercise the reader's own checks. Undamaged files must read back
equal to what was written.

The CI run is fixed (derandomize) and short; SPIKEDEPLOY_FUZZ_EXAMPLES=2000 runs a longer one.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikedeploy.errors import SpikedeployError
from spikedeploy.graph import LIF, Dense, Input, chain, read, write
from tests.conftest import grid_weights, random_lif, residual_graph
from tests.graph.test_hdf5 import chain_graphs

EXAMPLES = int(os.environ.get("SPIKEDEPLOY_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _small_chain():
    rng = np.random.default_rng(1)
    return chain([("x", Input((6,), message_bits=4)), ("d", Dense(grid_weights(rng, 5, 6))),
                  ("n", random_lif(rng, (5,))), ("e", Dense(grid_weights(rng, 3, 5))),
                  ("o", LIF((3,), 40, 100, 200))], {"seed": 1})


BASES = {"chain": _small_chain, "residual": lambda: residual_graph(channels=2, size=4)}


@functools.cache
def _base_bytes(name: str) -> bytes:
    """The bytes of a freshly written valid file (kept out of hypothesis' failure reports)."""
    with tempfile.TemporaryDirectory() as folder:
        write(BASES[name](), Path(folder) / "base.h5")
        return (Path(folder) / "base.h5").read_bytes()


def _read_or_refuse(path):
    """Read `path`; a refusal must be one SpikedeployError line naming the file."""
    try:
        return read(path)
    except SpikedeployError as err:
        assert str(err).startswith(str(path)) and "\n" not in str(err), str(err)
        return None


# -- (a) bytes ----------------------------------------------------------------------------------
@st.composite
def byte_damage(draw):
    base = draw(st.sampled_from(sorted(BASES)))
    edits = draw(st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                          max_size=8))
    cut = draw(st.none() | st.floats(0, 1))
    return base, edits, cut


@FUZZ
@given(damage=byte_damage())
def test_damaged_bytes_are_read_or_refused_never_crash(tmp_path, damage):
    base, edits, cut = damage
    data = bytearray(_base_bytes(base))
    for where, value in edits:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[:int(cut * len(data))]
    path = tmp_path / "damaged.h5"
    path.write_bytes(bytes(data))
    _read_or_refuse(path)


@pytest.mark.parametrize("base", sorted(BASES))
@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
def test_truncated_anywhere_is_refused(tmp_path, base, fraction):
    data = _base_bytes(base)
    path = tmp_path / "cut.h5"
    path.write_bytes(data[:int(fraction * len(data))])
    with pytest.raises(SpikedeployError) as err:
        read(path)
    assert str(err.value).startswith(str(path))


# -- (b) structure ------------------------------------------------------------------------------
def _random_value(draw):
    """Something a careless or hostile writer could put where the reader expects data."""
    shape = draw(st.sampled_from([(), (0,), (1,), (3,), (2, 2), (1, 1, 1, 1), (4, 2, 3, 3)]))
    kind = draw(st.sampled_from(["int", "float", "special", "bytes", "bool", "huge"]))
    size = int(np.prod(shape))
    if kind == "int":
        values = draw(st.lists(st.integers(-300, 300), min_size=size, max_size=size))
        return np.array(values, np.int64).reshape(shape)
    if kind == "float":
        values = draw(st.lists(st.floats(-300, 300), min_size=size, max_size=size))
        return np.array(values, np.float64).reshape(shape)
    if kind == "special":
        return np.full(shape, draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e30])))
    if kind == "bytes":
        return np.full(shape, draw(st.binary(max_size=12)), dtype="S12")
    if kind == "bool":
        return np.ones(shape, bool)
    return np.full(shape, draw(st.sampled_from([2**31, 2**62, -2**63])), np.int64)


def _items(f: h5py.File) -> list[str]:
    names = []
    f.visit(names.append)
    return sorted(names)


@st.composite
def structural_damage(draw):
    """(graph, edit): edit(f) mutates an open file; None leaves it as written."""
    graph = draw(chain_graphs() | st.integers(0, 50).map(lambda s: residual_graph(seed=s)))
    action = draw(st.sampled_from(["none", "replace", "delete", "attr"]))
    if action == "none":
        return graph, None
    pick, value = draw(st.floats(0, 1, exclude_max=True)), _random_value(draw)

    def edit(f):
        names = _items(f)
        where = names[int(pick * len(names))]
        if action == "attr":
            obj = f[where] if isinstance(f[where], h5py.Group) else f[where].parent
            attrs = sorted(obj.attrs) or ["source"]
            obj.attrs[attrs[int(pick * len(attrs)) % len(attrs)]] = value
        elif where in f:
            del f[where]
            if action == "replace":
                f.create_dataset(where, data=value)
    return graph, edit


@FUZZ
@given(case=structural_damage())
def test_random_graphs_edited_in_place_are_read_or_refused(tmp_path, case):
    graph, edit = case
    path = tmp_path / "g.h5"
    write(graph, path)
    if edit is None:
        assert read(path) == graph
        return
    with h5py.File(path, "r+") as f:
        edit(f)
    _read_or_refuse(path)

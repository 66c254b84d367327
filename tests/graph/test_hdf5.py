"""The HDF5 file: round trips, the netx layout it promises, and refusal of bad files."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikedeploy.errors import GraphError, SpikedeployError
from spikedeploy.graph import (
    FORMAT_VERSION,
    LIF,
    Conv,
    Dense,
    Flatten,
    Graph,
    Input,
    SumPool,
    chain,
    read,
    write,
)
from tests.conftest import grid_weights, random_lif


def test_residual_graph_round_trips(tmp_path, residual):
    write(residual, tmp_path / "g.h5")
    back = read(tmp_path / "g.h5")
    assert back == residual
    assert back.metadata == {"seed": 0}
    assert back.shapes == residual.shapes


def test_netx_layout_of_a_residual_graph(tmp_path, residual):
    """Blocks in /layer, pool as depthwise conv, the shortcut in a skip group with its source."""
    write(residual, tmp_path / "g.h5")
    with h5py.File(tmp_path / "g.h5") as f:
        assert f.attrs["spikedeploy_format_version"] == FORMAT_VERSION
        types = [f[f"layer/{i}/type"][0].decode() for i in range(len(f["layer"]))]
        assert types == ["input", "conv", "conv", "conv", "conv", "flatten", "dense"]
        assert f["layer/3"].attrs["op"] == "sumpool"
        assert f["layer/3/groups"][()] == 4 and (f["layer/3/weight"][()] == 64).all()
        assert f["layer/2/skip/0"].attrs["source"] == 1          # identity skip from n1
        assert f["layer/4/skip/0"].attrs["source"] == 3          # projection from the pool
        assert f["layer/1/neuron/type"][0] == b"CUBA"
        assert f["layer/1/bias"].shape == (4,)
        assert "source" not in f["layer/2"].attrs                  # main path: previous layer


def test_input_that_drives_a_neuron_directly_round_trips(tmp_path):
    g = chain([("x", Input((3,), message_bits=8)),
               ("n", LIF((3,), 50, 100, 200, bias_mant=np.full(3, 7))),
               ("d", Dense(np.eye(3, dtype=np.int64) * 2)), ("o", LIF((3,), 10, 0, 0))])
    write(g, tmp_path / "g.h5")
    assert read(tmp_path / "g.h5") == g
    with h5py.File(tmp_path / "g.h5") as f:
        assert f["layer/0/bias"][()] == 7                          # netx reads one int here


def test_dense_weight_exp_round_trips(tmp_path):
    g = chain([("x", Input((4,))), ("d", Dense(np.arange(8).reshape(2, 4), weight_exp=-3)),
               ("n", LIF((2,), 10, 0, 0))])
    write(g, tmp_path / "g.h5")
    assert read(tmp_path / "g.h5").nodes["d"].weight_exp == -3


@st.composite
def chain_graphs(draw):
    """Random conv/pool/dense chains with random sizes, strides, groups and neurons."""
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    channels, size = draw(st.integers(1, 4)), draw(st.sampled_from([4, 6, 8]))
    nodes = [("x", Input((channels, size, size), message_bits=draw(st.integers(0, 8))))]
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "pool"]))
        if kind == "pool" and size % 2 == 0:
            nodes += [(f"p{i}", SumPool(2, int(rng.integers(1, 60)) * 2)),
                      (f"n{i}", random_lif(rng, (channels, size // 2, size // 2)))]
            size //= 2
        else:
            groups = draw(st.sampled_from([g for g in (1, channels) if channels % g == 0]))
            out = channels * draw(st.integers(1, 2))
            k = draw(st.sampled_from([1, 3]))
            nodes += [(f"c{i}", Conv(grid_weights(rng, out, channels // groups, k, k),
                                     padding=k // 2, groups=groups)),
                      (f"n{i}", random_lif(rng, (out, size, size)))]
            channels = out
    nodes += [("f", Flatten()), ("d", Dense(grid_weights(rng, 3, channels * size * size))),
              ("o", random_lif(rng, (3,)))]
    return chain(nodes, {"seed": seed})


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=chain_graphs())
def test_random_graphs_round_trip(tmp_path, graph):
    write(graph, tmp_path / "r.h5")
    assert read(tmp_path / "r.h5") == graph


# -- bad files ----------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(SpikedeployError, match="no such file") as err:
        read(tmp_path / "nope.h5")
    assert "nope.h5" in str(err.value)


def test_truncated_file(tmp_path, residual):
    write(residual, tmp_path / "g.h5")
    data = (tmp_path / "g.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(SpikedeployError, match="cut.h5: not a readable network file"):
        read(tmp_path / "cut.h5")


def test_corrupt_file(tmp_path):
    (tmp_path / "junk.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(SpikedeployError, match="junk.h5: not a readable network file"):
        read(tmp_path / "junk.h5")


def _edit(path, fn):
    with h5py.File(path, "r+") as f:
        fn(f)


@pytest.mark.parametrize("edit,message", [
    (lambda f: f.attrs.__setitem__("spikedeploy_format_version", 99), "format version 99"),
    (lambda f: (f["layer/1"].__delitem__("type"),
                f["layer/1"].create_dataset("type", (1,), "S10", [b"magic"])),
     "unknown layer type 'magic'"),
    (lambda f: (f["layer/1"].__delitem__("weight"),
                f["layer/1"].create_dataset("weight", data=np.full((4, 2, 3, 3), 0.5))),
     "must hold integers"),
    (lambda f: (f["layer/1"].__delitem__("weight"),
                f["layer/1"].create_dataset("weight", data=np.full((4, 3, 3, 3), 2))),
     "conv expects 3 input channels"),
    (lambda f: (f["layer/1/neuron"].__delitem__("type"),
                f["layer/1/neuron"].create_dataset("type", (1,), "S10", [b"SDNN"])),
     r"SDNN \(sigma-delta\) neurons are not supported"),
    (lambda f: f["layer/2/skip/0"].attrs.__setitem__("source", 5), "reads from layer 5"),
    (lambda f: f.__delitem__("layer"), "no /layer group"),
])
def test_bad_content_gives_one_clear_error(tmp_path, residual, edit, message):
    write(residual, tmp_path / "g.h5")
    _edit(tmp_path / "g.h5", edit)
    with pytest.raises(SpikedeployError, match=message) as err:
        read(tmp_path / "g.h5")
    assert str(err.value).startswith(str(tmp_path / "g.h5"))
    assert "\n" not in str(err.value)


def test_external_links_are_refused_not_followed(tmp_path, residual):
    write(residual, tmp_path / "g.h5")
    _edit(tmp_path / "g.h5", lambda f: f["layer/1"].__setitem__(
        "evil", h5py.ExternalLink("/etc/passwd", "/")))
    with pytest.raises(SpikedeployError, match="ExternalLink; links are refused"):
        read(tmp_path / "g.h5")


def test_external_storage_is_refused(tmp_path, residual):
    write(residual, tmp_path / "g.h5")
    (tmp_path / "raw.bin").write_bytes(bytes(64))
    _edit(tmp_path / "g.h5", lambda f: f.create_dataset(
        "outside", shape=(8,), dtype="i8", external=[(str(tmp_path / "raw.bin"), 0, 64)]))
    with pytest.raises(SpikedeployError, match="outside the file"):
        read(tmp_path / "g.h5")


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, residual):
    bad = chain([("x", Input((3,))), ("n", LIF((3,), 10, 0, 0, bias_mant=np.array([1, 2, 3]))),
                 ("d", Dense(np.eye(3, dtype=np.int64) * 2)), ("o", LIF((3,), 10, 0, 0))])
    with pytest.raises(GraphError, match="one bias for all channels"):
        write(bad, tmp_path / "new.h5")
    assert list(tmp_path.iterdir()) == []
    write(residual, tmp_path / "keep.h5")
    before = (tmp_path / "keep.h5").read_bytes()
    with pytest.raises(GraphError):
        write(bad, tmp_path / "keep.h5")
    assert (tmp_path / "keep.h5").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.h5"]


def test_metadata_is_json(tmp_path, residual):
    write(Graph(residual.nodes, residual.edges, {"config": {"a": [1, 2]}}), tmp_path / "g.h5")
    with h5py.File(tmp_path / "g.h5") as f:
        assert json.loads(f.attrs["metadata"]) == {"config": {"a": [1, 2]}}

"""Hostile network files: HDF5 can point outside itself (external links, external storage,
virtual datasets) and link inside itself (soft links). The reader follows none of them, even
when what they point to is a valid network; and what we write holds only plain data.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from spikedeploy.errors import SpikedeployError
from spikedeploy.graph import read, write
from tests.conftest import residual_graph

PICKLE_START = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")   # protocols 2-5


@pytest.fixture
def valid(tmp_path):
    """A valid network file to point at."""
    write(residual_graph(), tmp_path / "valid.h5")
    assert read(tmp_path / "valid.h5") == residual_graph()
    return tmp_path / "valid.h5"


def _shell(path):
    """A file that claims our format but holds nothing of its own."""
    with h5py.File(path, "w") as f:
        f.attrs["spikedeploy_format_version"] = 1
    return path


def _external_layer(tmp_path, valid):
    with h5py.File(_shell(tmp_path / "evil.h5"), "a") as f:
        f["layer"] = h5py.ExternalLink(str(valid), "/layer")


def _external_layer_relative(tmp_path, valid):
    with h5py.File(_shell(tmp_path / "evil.h5"), "a") as f:
        f["layer"] = h5py.ExternalLink(valid.name, "/layer")


def _soft_link_inside(tmp_path, valid):
    write(residual_graph(), tmp_path / "evil.h5")
    with h5py.File(tmp_path / "evil.h5", "a") as f:
        weight = f["layer/1/weight"][()]
        del f["layer/1/weight"]
        f["elsewhere"] = weight
        f["layer/1/weight"] = h5py.SoftLink("/elsewhere")


def _dangling_soft_link(tmp_path, valid):
    write(residual_graph(), tmp_path / "evil.h5")
    with h5py.File(tmp_path / "evil.h5", "a") as f:
        del f["layer/1/weight"]
        f["layer/1/weight"] = h5py.SoftLink("/no/such/path")


def _external_storage(tmp_path, valid):
    """layer 1's weight, with its very values, kept in a raw file beside the network."""
    write(residual_graph(), tmp_path / "evil.h5")
    with h5py.File(tmp_path / "evil.h5", "a") as f:
        weight = f["layer/1/weight"][()]
        weight.tofile(tmp_path / "raw.bin")
        del f["layer/1/weight"]
        f.create_dataset("layer/1/weight", shape=weight.shape, dtype=weight.dtype,
                         external=[(str(tmp_path / "raw.bin"), 0, weight.nbytes)])


def _virtual_dataset(tmp_path, valid):
    """layer 1's weight as a virtual dataset mapping the valid file's weight."""
    write(residual_graph(), tmp_path / "evil.h5")
    with h5py.File(valid) as source:
        shape, dtype = source["layer/1/weight"].shape, source["layer/1/weight"].dtype
    layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
    layout[...] = h5py.VirtualSource(str(valid), "layer/1/weight", shape=shape)
    with h5py.File(tmp_path / "evil.h5", "a") as f:
        del f["layer/1/weight"]
        f.create_virtual_dataset("layer/1/weight", layout)


@pytest.mark.parametrize("make,message", [
    (_external_layer, r"/layer is a ExternalLink; links are refused"),
    (_external_layer_relative, r"/layer is a ExternalLink; links are refused"),
    (_soft_link_inside, r"/layer/1/weight is a SoftLink; links are refused"),
    (_dangling_soft_link, r"/layer/1/weight is a SoftLink; links are refused"),
    (_external_storage, r"/layer/1/weight stores its data outside the file; refused"),
    (_virtual_dataset, r"/layer/1/weight stores its data outside the file; refused"),
], ids=["external-link", "external-link-relative", "soft-link", "dangling-soft-link",
        "external-storage", "virtual-dataset"])
def test_links_and_outside_storage_are_refused_never_followed(tmp_path, valid, make, message):
    make(tmp_path, valid)
    with h5py.File(tmp_path / "evil.h5") as f:        # h5py itself would follow it
        f.visit(lambda name: None)
    with pytest.raises(SpikedeployError, match=message) as err:
        read(tmp_path / "evil.h5")
    assert str(err.value).startswith(str(tmp_path / "evil.h5"))


def assert_plain_data(path) -> int:
    """Every dataset and attribute in `path` is numbers or text: no object, opaque or reference
    types, and no byte string that starts like a pickle. Returns how many were checked."""
    checked = []

    def check(name: str, dtype: np.dtype, value) -> None:
        text = h5py.check_string_dtype(dtype)
        assert dtype.kind in "biufS" or text is not None, f"{name}: dtype {dtype}"
        assert h5py.check_ref_dtype(dtype) is None and h5py.check_vlen_dtype(dtype) in (
            None, str, bytes), f"{name}: dtype {dtype}"
        raw = np.asarray(value).tobytes() if dtype.kind in "uS" else b""
        assert not raw.startswith(PICKLE_START), f"{name} looks like a pickle"
        checked.append(name)

    def visit(name: str, obj) -> None:
        assert isinstance(obj, (h5py.Group, h5py.Dataset)), f"{name}: {type(obj).__name__}"
        if isinstance(obj, h5py.Dataset):
            check(name, obj.dtype, obj[()])
        for key in obj.attrs:
            check(f"{name}@{key}", obj.attrs.get_id(key).dtype, obj.attrs[key])

    with h5py.File(path) as f:
        for key in f.attrs:
            check(f"/@{key}", f.attrs.get_id(key).dtype, f.attrs[key])
        f.visititems(visit)
    return len(checked)


def test_written_files_hold_only_plain_data(tmp_path, residual):
    write(residual, tmp_path / "g.h5")
    assert assert_plain_data(tmp_path / "g.h5") > 50


def test_the_plain_data_check_sees_a_pickle(tmp_path):
    import pickle
    with h5py.File(tmp_path / "p.h5", "w") as f:
        f["blob"] = np.frombuffer(pickle.dumps({"a": 1}), np.uint8)
    with pytest.raises(AssertionError, match="looks like a pickle"):
        assert_plain_data(tmp_path / "p.h5")
    with h5py.File(tmp_path / "o.h5", "w") as f:
        f["opaque"] = np.void(b"\x00\x01")
    with pytest.raises(AssertionError, match="dtype"):
        assert_plain_data(tmp_path / "o.h5")

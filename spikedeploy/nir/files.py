"""Reading and writing .nir files (NIR's HDF5 layout, through `nir.read` / `nir.write`).

Whatever goes wrong inside NIR's reader (h5py errors, asserts, KeyErrors on missing fields)
becomes one SpikedeployError naming the file; writes go through a temporary file.
"""

from __future__ import annotations

import os
from pathlib import Path

import nir

from ..atomic import atomic_path
from ..errors import SpikedeployError


def read_nir(path: str | os.PathLike) -> nir.NIRGraph:
    """The NIR graph in `path`; one SpikedeployError naming the file on any failure."""
    path = Path(path)
    if not path.is_file():
        raise SpikedeployError("no such file", path)
    try:
        graph = nir.read(path, type_check=False)     # see below
    except Exception as err:    # NIR's reader raises anything from h5py, numpy and asserts
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SpikedeployError(f"not a readable NIR file ({detail})", path) from None
    # Without NIR's type check: nir 1.0.8 miscounts a grouped Conv2d's input channels and a
    # non-square kernel's width (to_nir.py) and would refuse valid files; our Graph checks
    # every shape on import.
    if not isinstance(graph, nir.NIRGraph):
        raise SpikedeployError(f"holds a single {type(graph).__name__}, not a NIR graph", path)
    return graph


def write_nir(graph: nir.NIRGraph, path: str | os.PathLike) -> None:
    """Write `graph` to `path` whole or not at all."""
    with atomic_path(path) as tmp:
        nir.write(tmp, graph)

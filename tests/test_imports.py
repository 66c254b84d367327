"""Imports point one way: graph <- sim, deploy, export, nir; export <- train; graph, sim and nir
import no Lava."""

from __future__ import annotations

import subprocess
import sys

import pytest


def loaded_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    return set(result.stdout.split())


@pytest.mark.parametrize("module,forbidden", [
    ("spikedeploy.graph", ("torch", "lava", "spikedeploy.sim", "spikedeploy.train")),
    ("spikedeploy.sim", ("lava", "spikedeploy.train", "spikedeploy.deploy", "spikedeploy.export")),
    ("spikedeploy.deploy", ("spikedeploy.train", "spikedeploy.sim", "spikedeploy.export")),
    ("spikedeploy.export", ("spikedeploy.train", "spikedeploy.deploy", "spikedeploy.sim")),
    ("spikedeploy.nir", ("torch", "lava", "spikedeploy.train", "spikedeploy.deploy",
                         "spikedeploy.sim", "spikedeploy.export")),
])
def test_import_direction(module, forbidden):
    loaded = loaded_after(module)
    bad = sorted(m for m in loaded if m.split(".")[0] in forbidden or
                 any(m == f or m.startswith(f + ".") for f in forbidden))
    assert not bad, f"{module} pulls in {bad[:5]}"

"""The emulator's batching: a batch split into cache-sized passes gives the same spikes."""

from __future__ import annotations

import numpy as np
import torch

from spikedeploy.sim import Emulator
from spikedeploy.sim import emulator as emulator_module
from tests.conftest import random_inputs, residual_graph


def test_samples_per_pass_keeps_one_layer_within_the_budget(monkeypatch):
    graph = residual_graph(channels=4, size=8)      # largest layer: 6 x 4 x 4 < 4 x 8 x 8 = 256
    monkeypatch.setattr(emulator_module, "CPU_PASS_BYTES", 4 * 16 * 256 * 3 + 5)
    assert Emulator(graph).samples_per_pass(steps=16) == 3
    monkeypatch.setattr(emulator_module, "CPU_PASS_BYTES", 1)
    assert Emulator(graph).samples_per_pass(steps=16) == 1


def test_a_batch_in_several_passes_spikes_as_in_one(monkeypatch):
    graph = residual_graph(seed=2, channels=4, size=8)
    inputs = torch.as_tensor(random_inputs(graph, 7, 12, seed=5))
    whole = Emulator(graph).run(inputs)
    monkeypatch.setattr(emulator_module, "CPU_PASS_BYTES", 4 * 12 * 256 * 2)   # 2 per pass
    split = Emulator(graph).run(inputs)
    assert whole.keys() == split.keys()
    for name in whole:
        assert split[name].shape[0] == 7 and torch.equal(whole[name], split[name]), name
    assert sum(int(np.asarray(v).sum()) for v in whole.values()) > 0


def test_freed_memory_is_kept_where_the_c_library_is_glibc():
    import platform

    from spikedeploy.sim.memory import keep_freed_memory
    glibc = platform.libc_ver()[0] == "glibc"
    assert keep_freed_memory() is glibc

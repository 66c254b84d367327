"""Files we write load in lava-dl's own netx.hdf5.Network and run identically there."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lava.lib.dl.netx import hdf5 as netx
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.io.sink import RingBuffer as Sink
from lava.proc.io.source import RingBuffer as Source

from spikedeploy.deploy import run_lava
from spikedeploy.graph import Flatten, Graph, Input, SumPool, chain, read, write
from spikedeploy.graph.nodes import LIF, Conv, Dense
from spikedeploy.sim import Emulator
from tests.conftest import grid_weights, random_inputs, random_lif, residual_graph
from tests.graph.test_netx_files import strip_version

pytestmark = pytest.mark.lava


def run_netx(path, sample: np.ndarray, message_bits: int, reset_interval: int | None = None
             ) -> np.ndarray:
    """One sample (*shape, T) in our layout through netx; returns the output layer's spikes."""
    net = netx.Network(net_config=str(path), input_message_bits=message_bits,
                       reset_interval=reset_interval)
    steps = sample.shape[-1]
    data = sample.transpose(*range(sample.ndim - 2, -1, -1), sample.ndim - 1)   # Lava layout
    source = Source(data=data.astype(np.int32))
    sink = Sink(shape=net.out.shape, buffer=steps)
    source.s_out.connect(net.inp)
    net.out.connect(sink.a_in)
    try:
        net.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        return sink.data.get()
    finally:
        net.stop()


def pooled_chain(seed: int, message_bits: int) -> Graph:
    rng = np.random.default_rng(seed)
    return chain([
        ("x", Input((2, 8, 8), message_bits=message_bits)),
        ("c1", Conv(grid_weights(rng, 4, 2, 3, 3), padding=1)), ("n1", random_lif(rng, (4, 8, 8))),
        ("p", SumPool(2, 64)), ("np", random_lif(rng, (4, 4, 4))),
        ("c2", Conv(grid_weights(rng, 6, 4, 3, 3), stride=2, padding=1)),
        ("n2", random_lif(rng, (6, 2, 2))),
        ("f", Flatten()), ("d", Dense(grid_weights(rng, 5, 24))), ("o", random_lif(rng, (5,)))])


@pytest.mark.parametrize("message_bits", [0, 4])
def test_chain_with_pooling_loads_in_netx_and_matches(tmp_path, message_bits):
    graph = pooled_chain(seed=11, message_bits=message_bits)
    write(graph, tmp_path / "chain.h5")
    x = random_inputs(graph, samples=1, steps=12, seed=2)
    ours = run_lava(graph, x)["o"][0]
    theirs = run_netx(tmp_path / "chain.h5", x[0], message_bits)
    np.testing.assert_array_equal(theirs, ours)
    np.testing.assert_array_equal(ours, Emulator(graph).run(torch.as_tensor(x))["o"][0].numpy())
    assert ours.any()


def test_netx_loads_a_residual_file_as_its_main_chain(tmp_path):
    """netx ignores the skip groups: it runs the residual file as the chain without shortcuts."""
    graph = residual_graph(seed=4)
    write(graph, tmp_path / "res.h5")
    x = random_inputs(graph, samples=1, steps=10, seed=3)
    skips = {"id", "proj"}
    without_skips = Graph({n: v for n, v in graph.nodes.items() if n not in skips},
                          [(a, b) for a, b in graph.edges if not {a, b} & skips])
    expected = Emulator(without_skips).run(torch.as_tensor(x))["out"][0].numpy()
    np.testing.assert_array_equal(run_netx(tmp_path / "res.h5", x[0], 0), expected)


def delayed_dense_chain(seed: int) -> Graph:
    """Odd, small and mixed-sign dense weights (netx refits them) and per-output delays."""
    rng = np.random.default_rng(seed)
    return chain([
        ("x", Input((12,))),
        ("d1", Dense(rng.integers(-60, 61, (10, 12)), delay=np.repeat(
            rng.integers(0, 6, (10, 1)), 12, axis=1))),
        ("n1", random_lif(rng, (10,))),
        ("d2", Dense(rng.integers(-7, 8, (6, 10)), delay=rng.integers(0, 4, (6, 10)))),
        ("n2", LIF((6,), 4, 1024, 0))])


@pytest.mark.parametrize("seed", [0, 1])
def test_plain_netx_file_with_delays_and_odd_weights_matches_netx(tmp_path, seed):
    """A file as lava-dl writes it (no format version): read with netx's semantics, our
    emulator and our deploy (DelayDense, netx's weight fit) spike exactly as netx."""
    write(delayed_dense_chain(seed), tmp_path / "plain.net")
    strip_version(tmp_path / "plain.net")
    graph = read(tmp_path / "plain.net")
    x = random_inputs(graph, samples=2, steps=16, seed=seed)
    ours = run_lava(graph, x)["n2"]
    np.testing.assert_array_equal(ours, Emulator(graph).run(torch.as_tensor(x))["n2"].numpy())
    for k in range(2):
        np.testing.assert_array_equal(run_netx(tmp_path / "plain.net", x[k], 0), ours[k])
    assert ours.any()


def test_reset_interval_matches_netx(tmp_path):
    """netx's Network(reset_interval=R) staggers LIFReset by layer; ours does the same."""
    graph = pooled_chain(seed=5, message_bits=0)
    write(graph, tmp_path / "chain.h5")
    x = random_inputs(graph, samples=1, steps=14, seed=4)
    ours = Emulator(graph, reset_interval=5).run(torch.as_tensor(x))["o"][0].numpy()
    np.testing.assert_array_equal(run_lava(graph, x, reset_interval=5)["o"][0], ours)
    np.testing.assert_array_equal(run_netx(tmp_path / "chain.h5", x[0], 0, reset_interval=5),
                                  ours)
    assert ours.any()

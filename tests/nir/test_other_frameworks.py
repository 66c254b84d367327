"""NIR files from and to another framework (snnTorch 1.0.0), and what their time means.

The committed fixture (tests/fixtures/make_snntorch_nir.py) is always tested; with snnTorch
installed, a fresh export and snnTorch's own simulation are compared too. Reference: a float
simulation of the NIR graph in NIR's Euler form with no synaptic latency (docs/nir.md):
our spikes at layer k are its spikes k steps later, since each of our synapses takes a step.
"""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch

from spikedeploy.graph import LIF, Dense, Input, chain
from spikedeploy.nir import from_nir, read_nir, to_nir
from spikedeploy.sim import Emulator
from tests.fixtures.make_snntorch_nir import FIXTURE, build_network, export


def spikes_in(steps: int, inputs: int, samples: int = 4, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((samples, inputs, steps)) < 0.5).astype(np.int64)


def euler_reference(graph: nir.NIRGraph, x: np.ndarray, dt: float = 1e-4) -> np.ndarray:
    """Float simulation of a Linear -> CubaLIF chain with no latency: (N, out, T) spikes."""
    layers, name = [], "input"
    while not isinstance(graph.nodes[name], nir.Output):
        name = next(b for a, b in graph.edges if a == name)
        layers.append(graph.nodes[name])
    spikes = x.astype(np.float64)
    for linear, lif in zip(layers[0:-1:2], layers[1:-1:2], strict=True):
        du, dv = dt / lif.tau_syn, dt / lif.tau_mem          # per neuron, (out,)
        current = np.einsum("oi,nit->not", linear.weight, spikes)
        i, v, out = 0.0, 0.0, np.zeros_like(current)
        for t in range(x.shape[-1]):
            i = (1 - du) * i + du * lif.w_in * current[..., t]
            v = (1 - dv) * v + dv * (lif.r * i + lif.v_leak)
            out[..., t] = v > lif.v_threshold
            v = np.where(out[..., t] > 0, 0.0, v)
        spikes = out
    return spikes


def our_spikes(graph, x) -> np.ndarray:
    return Emulator(graph).run(torch.as_tensor(x))[graph.neuron_names[-1]].numpy()


def test_snntorch_fixture_imports_exactly():
    """Weights on a 1/32 grid and decays of 1/8 steps import with no rounding at all."""
    graph, report = from_nir(read_nir(FIXTURE))
    assert report.weight_scale == 256 and report.dt == 1e-4
    assert all(s.max_abs_error == 0 for s in report.synapses)
    assert [(n.threshold_mant, n.current_decay_12bit, n.voltage_decay_12bit)
            for n in map(graph.nodes.get, graph.neuron_names)] == [(256, 1024, 512),
                                                                  (192, 2048, 512)]
    nir_graph = read_nir(FIXTURE)
    np.testing.assert_array_equal(graph.nodes["0"].weight, nir_graph.nodes["0"].weight * 256)


def test_snntorch_fixture_spikes_as_nir_says_one_step_per_synapse_later():
    graph, _ = from_nir(read_nir(FIXTURE))
    x = spikes_in(steps=40, inputs=6)
    ours, reference = our_spikes(graph, x), euler_reference(read_nir(FIXTURE), x)
    assert reference.sum() > 10                                    # the test sees spikes
    np.testing.assert_array_equal(ours[..., 2:], reference[..., :-2])   # two synapses


def test_a_fresh_snntorch_export_equals_the_fixture(tmp_path):
    pytest.importorskip("snntorch")
    export(tmp_path / "fresh.nir")
    fresh, fixture = read_nir(tmp_path / "fresh.nir"), read_nir(FIXTURE)
    for name in ("0", "2"):
        np.testing.assert_array_equal(fresh.nodes[name].weight, fixture.nodes[name].weight)
    assert from_nir(fresh)[0] == from_nir(fixture)[0]


def simulate_snntorch(module: torch.nn.Module, x: np.ndarray, call) -> np.ndarray:
    from snntorch import utils

    out = []
    with torch.no_grad():
        for sample in x:
            utils.reset(module)
            steps = [call(module, torch.as_tensor(sample[None, ..., t], dtype=torch.float32))
                     for t in range(x.shape[-1])]
            out.append(torch.stack(steps, -1)[0].numpy())
    return np.stack(out)


def test_snntorch_simulates_its_network_as_we_do():
    pytest.importorskip("snntorch")
    x = spikes_in(steps=40, inputs=6, seed=1)
    theirs = simulate_snntorch(build_network(), x, lambda m, xt: m(xt)[0])
    graph, _ = from_nir(read_nir(FIXTURE))
    np.testing.assert_array_equal(our_spikes(graph, x)[..., 2:], theirs[..., :-2])


def test_our_export_runs_in_snntorch_as_on_our_emulator():
    """ours -> NIR -> snnTorch's importer (dt = 1e-4 s, the default we write for)."""
    pytest.importorskip("snntorch")
    from snntorch.import_nir import import_from_nir

    rng = np.random.default_rng(2)
    graph = chain([("x", Input((6,))), ("d1", Dense(rng.integers(-40, 40, (5, 6)) * 2)),
                   ("n1", LIF((5,), 64, 1024, 512)),
                   ("d2", Dense(rng.integers(-40, 40, (3, 5)) * 2)),
                   ("n2", LIF((3,), 48, 2048, 256))])
    module = import_from_nir(to_nir(graph))
    x = spikes_in(steps=40, inputs=6, seed=3)
    theirs = simulate_snntorch(module, x, lambda m, xt: m(xt)[0])
    ours = our_spikes(graph, x)
    assert ours.sum() > 10
    np.testing.assert_array_equal(ours[..., 2:], theirs[..., :-2])


def test_snntorch_conv_network_spikes_as_we_do(tmp_path):
    """Conv2d -> Synaptic -> Flatten -> Linear -> Synaptic, weights on a 1/32 grid."""
    snn = pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    generator = torch.Generator().manual_seed(5)
    conv = torch.nn.Conv2d(1, 2, 3, padding=1, bias=False)
    linear = torch.nn.Linear(32, 3, bias=False)
    for layer in (conv, linear):
        layer.weight.data = torch.randint(-16, 17, layer.weight.shape, generator=generator) / 32

    def synaptic(shape, alpha, output=False):
        return snn.Synaptic(alpha=torch.full(shape, alpha), beta=torch.full(shape, 0.875),
                            threshold=torch.full(shape, 0.5), reset_mechanism="zero",
                            reset_delay=False, init_hidden=True, output=output)

    net = torch.nn.Sequential(conv, synaptic((2, 4, 4), 0.75), torch.nn.Flatten(), linear,
                              synaptic((3,), 0.5, output=True))
    nir.write(tmp_path / "conv.nir", export_to_nir(net, torch.zeros(1, 1, 4, 4),
                                                   ignore_dims=[0]))
    graph, report = from_nir(read_nir(tmp_path / "conv.nir"))
    assert all(s.max_abs_error == 0 for s in report.synapses)
    x = (np.random.default_rng(6).random((3, 1, 4, 4, 30)) < 0.5).astype(np.int64)
    theirs, ours = simulate_snntorch(net, x, lambda m, xt: m(xt)[0]), our_spikes(graph, x)
    assert theirs.sum() > 10
    np.testing.assert_array_equal(ours[..., 2:], theirs[..., :-2])

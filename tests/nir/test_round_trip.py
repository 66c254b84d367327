"""ours -> NIR file -> ours gives the same graph and the same spikes (docs/nir.md, "Export")."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikedeploy.graph import LIF, Average, Conv, Dense, Flatten, Graph, Input, SumPool, read
from spikedeploy.nir import from_nir, read_nir, to_nir, write_nir
from spikedeploy.sim import Emulator
from tests.conftest import LAVA_DL_NETX, needs_lava_dl_data, random_inputs, residual_graph


def round_trip(graph: Graph, tmp_path) -> Graph:
    write_nir(to_nir(graph), tmp_path / "net.nir")
    back, report = from_nir(read_nir(tmp_path / "net.nir"))
    assert report.weight_scale == 64 and report.scale_source == "written by spikedeploy"
    assert all(s.max_abs_error < 1e-12 for s in report.synapses)
    return back


def assert_same_spikes(graph: Graph, back: Graph, inputs: np.ndarray) -> None:
    ours = Emulator(graph).run(torch.as_tensor(inputs))
    theirs = Emulator(back).run(torch.as_tensor(inputs))
    for name in graph.neuron_names + graph.nodes_of_type(Average):
        assert torch.equal(ours[name], theirs[name]), name


def chain_graph() -> Graph:
    """Every node type and field NIR has no slot for: a weighted sum-pool, weight_exp, delays,
    a neuron on the input, zero decays, biases and an average readout."""
    rng = np.random.default_rng(1)
    nodes = {
        "x": Input((2, 6, 6), message_bits=3),
        "direct": LIF((2, 6, 6), 40, 4096, 0, bias_mant=np.array([3, -2])),
        "conv": Conv(rng.integers(-50, 50, (3, 2, 3, 3)) * 2, padding=1, stride=(1, 2)),
        "n1": LIF((3, 6, 3), 30, 0, 300, bias_mant=np.array([1, 0, -4])),
        "pool": SumPool(kernel=(2, 1), weight=96), "n2": LIF((3, 3, 3), 50, 700, 2000),
        "pool1": SumPool(kernel=(3, 3), weight=64), "n3": LIF((3, 1, 1), 60, 4096, 4096),
        "flat": Flatten(),
        "fc": Dense(rng.integers(-60, 60, (8, 3)) * 2, weight_exp=1,
                    delay=rng.integers(0, 3, (8, 3))),
        "out": LIF((8,), 20, 1000, 100), "avg": Average(4),
    }
    names = list(nodes)
    return Graph(nodes, list(zip(names, names[1:], strict=False)), {"made_by": "test"})


def test_chain_with_every_field_round_trips(tmp_path):
    graph = chain_graph()
    back = round_trip(graph, tmp_path)
    assert back == graph and back.metadata == {"made_by": "test"}
    assert_same_spikes(graph, back, random_inputs(graph, samples=3, steps=12))


@pytest.mark.parametrize("seed", [0, 3])
def test_residual_graph_round_trips(tmp_path, seed):
    graph = residual_graph(seed=seed)
    back = round_trip(graph, tmp_path)
    assert back == graph
    assert_same_spikes(graph, back, random_inputs(graph, samples=3, steps=10, seed=seed))


def test_a_residual_is_several_edges_into_one_cuba_lif():
    nir_graph = to_nir(residual_graph())
    into_n2 = sorted(a for a, b in nir_graph.edges if b == "n2")
    assert into_n2 == ["c2", "id"] and type(nir_graph.nodes["n2"]).__name__ == "CubaLIF"


def test_values_are_nirs_euler_form_of_loihis_neuron():
    """du = dt / tau_syn, dv = dt / tau_mem, input gains 1, bias = dv * v_leak (units.py)."""
    graph = chain_graph()
    node = to_nir(graph, dt=1e-3).nodes["out"]
    lif = graph.nodes["out"]
    np.testing.assert_allclose(1e-3 / node.tau_syn, lif.current_decay_12bit / 4096)
    np.testing.assert_allclose(1e-3 / node.tau_mem, lif.voltage_decay_12bit / 4096)
    np.testing.assert_allclose(node.w_in * 1e-3 / node.tau_syn, 1.0)
    np.testing.assert_allclose(node.r * 1e-3 / node.tau_mem, 1.0)
    np.testing.assert_array_equal(node.v_threshold, lif.threshold_mant / 64)
    fc = to_nir(graph).nodes["fc"]
    np.testing.assert_array_equal(fc.weight, graph.nodes["fc"].weight / 64 * 2)   # weight_exp 1


@needs_lava_dl_data
@pytest.mark.parametrize("network", ["gts/pilotnet_lif/network.net", "mnist.net", "tiny.net"])
def test_trained_lava_dl_networks_round_trip(tmp_path, network):
    """Networks trained with lava-dl (shipped in its wheel), with their zero decays."""
    graph = read(LAVA_DL_NETX / network)
    back = round_trip(graph, tmp_path)
    assert back == graph
    assert_same_spikes(graph, back, random_inputs(graph, samples=1, steps=6))


def test_exported_tiny_resnet_round_trips(tmp_path):
    """The tiny preset's ResNet as `spikedeploy export` writes it (batch norm folded into
    biases, a sum-pool, residual shortcuts, an average readout), with random parameters."""
    from spikedeploy.config import load
    from spikedeploy.export import export_model
    from spikedeploy.train.resnet import build_model

    torch.manual_seed(0)
    model = build_model(load("tiny").model, (1, 8, 8), 10)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.bias"):
                param.uniform_(-0.5, 0.5)
    model.set_quantized(True)
    model.eval()
    graph = export_model(model)
    assert any(np.any(graph.nodes[n].bias_mant) for n in graph.neuron_names)
    back = round_trip(graph, tmp_path)
    assert back == graph
    assert_same_spikes(graph, back, random_inputs(graph, samples=2, steps=8))

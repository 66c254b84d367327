"""Importing float NIR graphs: hand-computed quantization, exact neuron mappings, refusals."""

from __future__ import annotations

import nir
import numpy as np
import pytest

from spikedeploy.errors import SpikedeployError
from spikedeploy.nir import from_nir

DT = 1e-4


def cuba(n=1, du=0.25, dv=0.125, w_in=None, r=None, threshold=1.0, v_leak=0.0, **kw):
    """A CubaLIF in snnTorch's convention: gains 1 unless w_in or r say otherwise."""
    ones = np.ones(n)
    return nir.CubaLIF(tau_syn=ones * DT / du, tau_mem=ones * DT / dv,
                       r=ones * (1 / dv if r is None else r),
                       w_in=ones * (1 / du if w_in is None else w_in),
                       v_leak=ones * v_leak, v_threshold=ones * threshold, **kw)


def network(synapse, neuron, inputs=2) -> nir.NIRGraph:
    nodes = {"in": nir.Input(input_type={"input": np.array([inputs])}), "syn": synapse,
             "lif": neuron, "out": nir.Output(output_type={"output": np.array([1])})}
    return nir.NIRGraph(nodes=nodes, edges=[("in", "syn"), ("syn", "lif"), ("lif", "out")],
                        type_check=False)


def test_affine_weights_by_hand():
    """max |w| = 0.5: 254 / 0.5 = 508 -> scale 256 (a power of two); 0.5 -> 128, -0.25 -> -64;
    threshold 1 -> 256; du = 0.25 -> 1024, dv = 0.125 -> 512."""
    graph, report = from_nir(network(nir.Affine(weight=np.array([[0.5, -0.25]]),
                                                bias=np.zeros(1)), cuba()))
    assert report.weight_scale == 256
    assert graph.nodes["syn"].weight.tolist() == [[128, -64]]
    lif = graph.nodes["lif"]
    assert (lif.threshold_mant, lif.current_decay_12bit, lif.voltage_decay_12bit) == \
        (256, 1024, 512)
    assert report.synapses[0].max_abs_error == 0
    assert report.not_mapped == {"out": "dropped: an output is whatever nothing reads"}


def test_input_gains_fold_into_the_weights():
    """w_in at half of snnTorch's gain halves every effective weight: 0.25, -0.125 -> scale
    512, the same integers, and the threshold 1 -> 512."""
    graph, report = from_nir(network(nir.Linear(weight=np.array([[0.5, -0.25]])),
                                     cuba(w_in=2.0)))
    assert report.weight_scale == 512
    assert graph.nodes["syn"].weight.tolist() == [[128, -64]]
    assert graph.nodes["lif"].threshold_mant == 512


def test_rounding_onto_the_even_grid_by_hand():
    """0.3 * 512 = 153.6 -> 154; -0.1 * 512 = -51.2 -> -52 (even integers, SLAYER's grid)."""
    graph, report = from_nir(network(nir.Linear(weight=np.array([[0.3, -0.1]])), cuba()))
    assert report.weight_scale == 512
    assert graph.nodes["syn"].weight.tolist() == [[154, -52]]
    errors = [abs(154 / 512 - 0.3), abs(-52 / 512 + 0.1)]
    assert report.synapses[0].max_abs_error == pytest.approx(max(errors))
    assert report.synapses[0].mean_abs_error == pytest.approx(np.mean(errors))
    payload = report.to_dict()
    assert payload["synapses"][0]["name"] == "syn" and "weight scale: 512" in report.text()


def test_lif_without_current_is_cuba_lif_forgetting_its_current():
    """NIR LIF: du = 1 (4096); dv = dt / tau = 0.1 -> 410; bias = dv * v_leak = 0.05."""
    lif = nir.LIF(tau=np.array([1e-3]), r=np.array([10.0]), v_leak=np.array([0.5]),
                  v_threshold=np.array([1.0]))
    graph, report = from_nir(network(nir.Linear(weight=np.array([[0.5, 0.5]])), lif))
    node = graph.nodes["lif"]
    assert (node.current_decay_12bit, node.voltage_decay_12bit) == (4096, 410)
    assert node.bias_mant.tolist() == [round(0.05 * report.weight_scale)]


def test_if_is_cuba_lif_without_leak():
    """NIR IF: v += dt r I; with r = 1 / dt the gain is 1; du = 4096, dv = 0."""
    neuron = nir.IF(r=np.array([1 / DT]), v_threshold=np.array([2.0]))
    graph, report = from_nir(network(nir.Linear(weight=np.array([[1.0, 0.5]])), neuron))
    node = graph.nodes["lif"]
    assert (node.current_decay_12bit, node.voltage_decay_12bit) == (4096, 0)
    assert report.weight_scale == 128                  # 254 / 1.0 -> 128
    assert graph.nodes["syn"].weight.tolist() == [[128, 64]]


def test_affine_bias_moves_into_the_neuron_when_it_keeps_no_current():
    lif = nir.LIF(tau=np.array([2e-4]), r=np.array([2.0]), v_leak=np.array([0.0]),
                  v_threshold=np.array([1.0]))                     # dv = 0.5, gain 1
    graph, report = from_nir(network(nir.Affine(weight=np.array([[1.0, 0.5]]),
                                                bias=np.array([0.25])), lif))
    assert report.weight_scale == 128
    assert graph.nodes["lif"].bias_mant.tolist() == [32]           # 0.25 * 128


@pytest.mark.parametrize("node,message", [
    (nir.Threshold(threshold=np.array([1.0])), "cannot map NIR node 'lif' (Threshold): a bare "
     "threshold (Heaviside) without neuron state has no Loihi equivalent"),
    (nir.LI(tau=np.ones(1), r=np.ones(1), v_leak=np.zeros(1)), "cannot map NIR node 'lif' "
     "(LI): a non-spiking integrator: Loihi's neurons spike, and spikedeploy reads networks "
     "out through spikes"),
    (nir.Delay(delay=np.array([2.0])), "cannot map NIR node 'lif' (Delay): explicit delays "
     "are not mapped (spikedeploy's synapses already take one step, see docs/nir.md)"),
    (cuba(threshold=1.0, v_reset=np.array([0.5])), "cannot map NIR node 'lif' (CubaLIF): "
     "v_reset is not 0; Loihi resets the voltage to 0"),
    (cuba(n=2, threshold=np.array([1.0, 2.0])), "cannot map NIR node 'lif' (CubaLIF): "
     "v_threshold differs between neurons, Loihi has one per layer"),
    (cuba(du=2.0), "cannot map NIR node 'lif' (CubaLIF): dt/tau_syn = 2 lies outside [0, 1] "
     "(forward Euler at this dt would overshoot; pass a smaller --dt)"),
])
def test_unmappable_nodes_are_refused_with_the_reason(node, message):
    synapse = nir.Linear(weight=np.ones((np.size(getattr(node, "v_threshold", 1)), 2)))
    with pytest.raises(SpikedeployError) as err:
        from_nir(network(synapse, node))
    assert str(err.value) == message


def test_every_unmappable_node_is_named_at_once():
    graph = network(nir.Conv1d(input_shape=2, weight=np.ones((1, 1, 1)), stride=1, padding=0,
                               dilation=1, groups=1, bias=np.zeros(1)),
                    nir.I(r=np.ones(1)))
    with pytest.raises(SpikedeployError, match="node 'syn' \\(Conv1d\\): 1-D convolutions .*; "
                                               "cannot map NIR node 'lif' \\(I\\)"):
        from_nir(graph)


def test_bias_into_a_decaying_current_is_refused():
    with pytest.raises(SpikedeployError, match="cannot map NIR node 'lif' fed by 'syn': a "
                                               "synapse bias is exact on Loihi only when"):
        from_nir(network(nir.Affine(weight=np.ones((1, 2)), bias=np.ones(1)), cuba()))


def test_a_synapse_feeding_a_synapse_is_refused_by_the_graph():
    nodes = {"in": nir.Input(input_type={"input": np.array([2])}),
             "a": nir.Linear(weight=np.ones((2, 2))), "b": nir.Linear(weight=np.ones((1, 2))),
             "lif": cuba()}
    graph = nir.NIRGraph(nodes=nodes, edges=[("in", "a"), ("a", "b"), ("b", "lif")],
                         type_check=False)
    with pytest.raises(SpikedeployError, match="does not fit spikedeploy's graph: synapse 'a' "
                                               "must feed exactly one neuron"):
        from_nir(graph)


def test_dt_sets_the_decays_and_must_be_positive():
    """Twice the step: du = 2e-4 / 4e-4 = 0.5, dv = 0.25 (the gains grow with it)."""
    graph, _ = from_nir(network(nir.Linear(weight=np.array([[0.5, -0.25]])), cuba()),
                        dt=2 * DT)
    lif = graph.nodes["lif"]
    assert (lif.current_decay_12bit, lif.voltage_decay_12bit) == (2048, 1024)
    with pytest.raises(SpikedeployError, match="dt must be a positive number of seconds"):
        from_nir(network(nir.Linear(weight=np.ones((1, 2))), cuba()), dt=0)


def test_values_our_nodes_refuse_name_the_nir_node():
    batched = nir.NIRGraph(nodes={"in": nir.Input(input_type={"input": np.array([1, 2, 3, 4])}),
                                  "syn": nir.Linear(weight=np.ones((1, 2))), "lif": cuba()},
                           edges=[("in", "syn"), ("syn", "lif")], type_check=False)
    with pytest.raises(SpikedeployError, match="cannot map NIR node 'in' \\(Input\\): input "
                                               "shape must be"):
        from_nir(batched)
    with pytest.raises(SpikedeployError, match="cannot map NIR node 'lif' \\(CubaLIF\\): "
                                               "v_threshold is negative"):
        from_nir(network(nir.Linear(weight=np.ones((1, 2))), cuba(threshold=-1.0)))

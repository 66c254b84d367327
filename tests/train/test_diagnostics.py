"""Gradient-flow diagnostics: the surrogate's shape, gradient RMS per synapse, the warnings."""

from __future__ import annotations

import math

import pytest
import torch

from spikedeploy.config import DiagnosticsConfig, NeuronConfig, load
from spikedeploy.train.diagnostics import (
    GradientMonitor,
    gradient_warnings,
    monitored_synapses,
    surrogate_of,
)
from spikedeploy.train.neuron import make_neuron
from spikedeploy.train.resnet import build_model


def test_surrogate_width_and_height_come_from_the_config():
    cfg = NeuronConfig(threshold=1.25, tau_grad=0.5, scale_grad=2.0, norm="none")
    neuron = make_neuron(cfg, 1)
    shape = surrogate_of(neuron)
    # By hand: width = 100 * 0.5 * 1.25 = 62.5; peak = 0.1 * 2 / (2 * 62.5) = 0.0016.
    assert shape.width == pytest.approx(62.5) and shape.peak == pytest.approx(0.0016)
    threshold = neuron.threshold + neuron.threshold_eps          # SLAYER spikes at v > threshold
    v = torch.tensor([[[threshold, threshold + 62.5, threshold - 125.0]]], requires_grad=True)
    neuron.spike(v).sum().backward()
    expected = torch.tensor([0.0016, 0.0016 / math.e, 0.0016 / math.e ** 2])
    torch.testing.assert_close(v.grad.flatten(), expected, rtol=1e-5, atol=0)
    taller = surrogate_of(make_neuron(NeuronConfig(tau_grad=0.5, scale_grad=4.0), 1))
    assert taller.peak == pytest.approx(2 * surrogate_of(make_neuron(
        NeuronConfig(tau_grad=0.5, scale_grad=2.0), 1)).peak)


def tiny_model():
    cfg = load("tiny")
    torch.manual_seed(0)
    return build_model(cfg.model, (1, 8, 8), 10, 5)


def test_monitor_averages_each_synapses_gradient_rms_over_steps():
    model = tiny_model()
    assert monitored_synapses(model) == ["stem_conv", "s0b0_a_conv", "s0b0_b_conv",
                                         "s1b0_a_conv", "s1b0_proj", "s1b0_b_conv", "fc_syn"]
    monitor = GradientMonitor(model)
    x = torch.randint(0, 17, (4, 1, 8, 8, 12)).float()
    seen = []
    for step in range(2):
        model.zero_grad()
        (model(x).sum() * (step + 1)).backward()          # a different gradient per step
        seen.append({n: float(model.layers[n].weight.grad.norm()) /
                     math.sqrt(model.layers[n].weight.numel()) for n in monitor.names})
        monitor.record()
    means = monitor.epoch_means()
    for name in monitor.names:
        assert means[name] == pytest.approx((seen[0][name] + seen[1][name]) / 2, rel=1e-6)
    assert monitor.epoch_means() == {}                      # starts over


def test_a_layer_without_any_gradient_counts_as_zero():
    model = tiny_model()
    monitor = GradientMonitor(model)
    monitor.record()                                         # no backward at all
    assert set(monitor.epoch_means().values()) == {0.0}


CFG = DiagnosticsConfig(grad_rms_min=1e-6, grad_rms_max=10.0, grad_ratio_max=100.0)


@pytest.mark.parametrize("rms,expected", [
    ({"a": 1e-3, "b": 2e-3, "c": 5e-3}, []),
    ({"a": 1e-3, "b": 1e-3, "c": 20.0}, ["c: gradient explodes (RMS 20 > diagnostics."
                                         "grad_rms_max 10)"]),
    ({"a": 1e-7, "b": 1e-3, "c": 1e-3}, ["a: gradient vanishes (RMS 1e-07 < diagnostics."
                                         "grad_rms_min 1e-06)"]),
    ({"a": 1e-3, "b": 1e-3, "c": 0.2}, ["c: gradient explodes (RMS 0.2 is 200 x the median "
                                        "0.001; diagnostics.grad_ratio_max 100)"]),
    ({"a": 5e-6, "b": 1e-3, "c": 1e-3}, ["a: gradient vanishes (RMS 5e-06 is 1/200 of the "
                                         "median 0.001; diagnostics.grad_ratio_max 100)"]),
    ({"a": float("nan"), "b": 1e-3, "c": 1e-3}, ["a: gradient explodes (RMS nan)"]),
    ({"a": 0.0, "b": 0.0, "c": 1e-3}, ["a: gradient vanishes (RMS 0 < diagnostics."
                                       "grad_rms_min 1e-06)",
                                       "b: gradient vanishes (RMS 0 < diagnostics."
                                       "grad_rms_min 1e-06)"]),
])
def test_gradient_warnings_by_hand(rms, expected):
    assert gradient_warnings(rms, CFG) == expected

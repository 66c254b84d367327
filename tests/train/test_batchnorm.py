"""Batch normalization of input currents: what it computes in training, how it folds into the
chip's weights and biases, and that the folded network spikes exactly as the trained model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spikedeploy.config import NeuronConfig, load
from spikedeploy.export import ExportError, export_model
from spikedeploy.sim import Emulator
from spikedeploy.train import load_checkpoint, train
from spikedeploy.train.data import frames, load_splits
from spikedeploy.train.neuron import CurrentBatchNorm, CurrentBias, make_neuron
from spikedeploy.train.resnet import build_model

from .batch_norms import give_batch_norms_statistics


def test_training_mode_normalizes_per_channel_over_batch_space_and_time():
    bn = CurrentBatchNorm(2)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([2.0, 1.0]))
        bn.bias.copy_(torch.tensor([0.5, 0.0]))
    # (samples, channels, 1, positions, steps): channel 0 holds 1s and 3s spread over samples,
    # positions and steps (mean 2, variance 1); channel 1 holds 4 everywhere (variance 0)
    u = torch.full((2, 2, 1, 2, 2), 4.0)
    u[:, 0] = torch.tensor([[[[1.0, 3.0], [1.0, 3.0]]], [[[3.0, 1.0], [3.0, 1.0]]]])
    out = bn(u)
    torch.testing.assert_close(out[:, 0], 2.0 * (u[:, 0] - 2.0) / math.sqrt(1 + 1e-5) + 0.5)
    torch.testing.assert_close(out[:, 1], torch.zeros_like(out[:, 1]))
    # running estimates move by momentum 0.1 from (0, 1), with the unbiased variance:
    # channel 0: 8 values of variance 1 -> 8/7; channel 1: 0
    torch.testing.assert_close(bn.running_mean, torch.tensor([0.2, 0.4]))
    torch.testing.assert_close(bn.running_var, torch.tensor([0.9 + 0.1 * 8 / 7, 0.9]))


def test_folded_weight_and_bias_by_hand():
    bn = CurrentBatchNorm(1)
    with torch.no_grad():
        bn.weight.fill_(2.0)
        bn.bias.fill_(0.3)
        bn.running_mean.fill_(0.5)
        bn.running_var.fill_(4.0 - 1e-5)        # sqrt(var + eps) = 2: scale = gamma / 2 = 1
    assert torch.allclose(bn.scale(), torch.tensor([1.0]))
    # bias = 0.3 - 1 * 0.5 = -0.2 = -12.8 / 64, on the chip's grid: -13 / 64
    assert bn.folded_bias().item() * 64 == -13
    bn.eval()
    current = torch.zeros(1, 1, 3)
    assert torch.equal(bn(current), torch.full((1, 1, 3), -13 / 64))      # folded: bias only
    torch.testing.assert_close(bn.fold_weight(torch.full((1, 3, 1, 1, 1), 0.7)),
                               torch.full((1, 3, 1, 1, 1), 0.7))


def test_neurons_fed_only_by_sum_pools_take_a_bias_instead():
    model = build_model(load("tiny", ["model.neuron.norm=batch"]).model, (1, 8, 8), 10)
    assert isinstance(model.layers["s0pool"].norm, CurrentBias)
    assert isinstance(model.layers["s0b0_b"].norm, CurrentBatchNorm)
    # a batch norm behind a pool cannot fold into the pool's single weight: export says so
    model.layers["s0pool"] = make_neuron(NeuronConfig(norm="batch"), 4)
    with pytest.raises(ExportError, match="layer 's0pool_syn': batch norm over 4 channels "
                                          "cannot fold"):
        export_model(model)


def tiny_batch_norm_model(x: torch.Tensor, seed: int = 0):
    torch.manual_seed(seed)
    cfg = load("tiny", ["model.neuron.norm=batch"])
    model = build_model(cfg.model, (1, 8, 8), 10, 5)
    give_batch_norms_statistics(model, x, passes=3)
    return model


def digit_frames(count: int) -> np.ndarray:
    cfg = load("tiny")
    return frames(load_splits(cfg.data).heldout.take(count), cfg.data)


def test_folded_network_spikes_exactly_as_the_trained_model_in_evaluation_mode():
    x = digit_frames(24)
    xt = torch.as_tensor(x, dtype=torch.float32)
    model = tiny_batch_norm_model(xt)
    model.set_quantized(True)
    model.eval()
    graph = export_model(model)
    with torch.no_grad():
        trained = model(xt, record=True)
    emulated = Emulator(graph).run(torch.as_tensor(x))
    for name in graph.neuron_names:
        np.testing.assert_array_equal(trained[name].to(torch.uint8).numpy(),
                                      emulated[name].numpy(), err_msg=name)
    assert all(emulated[n].any() for n in graph.neuron_names)
    # the export really folded: the stem's weights are the float weights times the scale
    scale = model.layers["stem"].norm.scale()
    folded = model.layers["stem_conv"].weight[..., 0] * scale.reshape(-1, 1, 1, 1) * 64
    assert np.abs(graph.nodes["stem_conv"].weight - folded.detach().numpy()).max() <= 1.0


def test_quantization_aware_training_freezes_batch_norm_into_the_export():
    """Quantized, training mode runs the folded network (the export's) and learns gamma and
    beta through it; the running statistics stay put."""
    xt = torch.as_tensor(digit_frames(8), dtype=torch.float32)
    model = tiny_batch_norm_model(xt)
    model.set_quantized(True)
    model.eval()
    with torch.no_grad():
        evaluated = model(xt)
    model.train()
    norm = model.layers["s0b0_a"].norm
    before = norm.running_mean.clone()
    trained = model(xt)
    assert torch.equal(trained, evaluated) and torch.equal(norm.running_mean, before)
    trained.sum().backward()
    assert norm.weight.grad.abs().sum() > 0 and norm.bias.grad.abs().sum() > 0
    model.set_quantized(False)                 # float phase: batch statistics again
    model(xt)
    assert not torch.equal(norm.running_mean, before)


def test_trained_checkpoint_with_batch_norm_exports_bit_exactly(tmp_path):
    cfg = load("tiny_bottleneck", ["data.limit=48"])
    result = train(cfg, tmp_path, progress=False)
    assert not math.isnan(result.float_accuracy) and 0 <= result.quantized_accuracy <= 1
    _, model = load_checkpoint(tmp_path / "checkpoint.pt")
    x = frames(load_splits(cfg.data).heldout.take(16), cfg.data)
    graph = export_model(model)
    with torch.no_grad():
        trained = model(torch.as_tensor(x, dtype=torch.float32), record=True)
    emulated = Emulator(graph).run(torch.as_tensor(x))
    for name in graph.neuron_names:
        np.testing.assert_array_equal(trained[name].to(torch.uint8).numpy(),
                                      emulated[name].numpy(), err_msg=name)

"""The trained network's quantized forward pass == the exported graph on the emulator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lava.lib.dl.slayer.synapse import layer as synapse

from spikedeploy.config import load
from spikedeploy.export import ExportError, export_model
from spikedeploy.sim import Emulator
from spikedeploy.train.data import frames, load_splits, message_bits
from spikedeploy.train.resnet import build_model


def tiny(overrides=()):
    cfg = load("tiny", list(overrides))
    splits = load_splits(cfg.data)
    model = build_model(cfg.model, (1, 8, 8), 10, message_bits(cfg.data, 16))
    return cfg, splits, model


@pytest.mark.parametrize("overrides", [
    [], ["data.encoding=rate"], ["model.neuron.norm=mean_only"], ["model.neuron.norm=none"],
    # off the chip's grids: SLAYER quantizes threshold (1/64) and decays (1/4096) as Lava does
    ["model.neuron.threshold=1.2345", "model.neuron.current_decay=0.2222",
     "model.neuron.voltage_decay=0.0333"],
])
def test_quantized_forward_equals_emulator_on_every_neuron(overrides):
    torch.manual_seed(0)
    cfg, splits, model = tiny(overrides)
    x = frames(splits.heldout.take(24), cfg.data)
    if cfg.model.neuron.norm == "mean_only":          # give the running means real values
        model.train()
        model(torch.as_tensor(x, dtype=torch.float32))
    with torch.no_grad():
        for layer in model.layers.values():           # random biases, so they are exercised
            if hasattr(getattr(layer, "norm", None), "bias") and cfg.model.neuron.norm == "bias":
                layer.norm.bias.uniform_(-0.3, 0.3)
    model.set_quantized(True)
    model.eval()
    graph = export_model(model)
    with torch.no_grad():
        trained = model(torch.as_tensor(x, dtype=torch.float32), record=True)
    emulated = Emulator(graph).run(torch.as_tensor(x))
    assert set(emulated) == set(graph.neuron_names)
    for name in graph.neuron_names:
        np.testing.assert_array_equal(trained[name].to(torch.uint8).numpy(),
                                      emulated[name].numpy(), err_msg=name)
    assert sum(int(v.sum()) for v in emulated.values()) > 0


def test_export_does_not_touch_the_model():
    _, _, model = tiny()
    model.train()
    hooks = {n: m.pre_hook_fx for n, m in model.layers.items() if hasattr(m, "pre_hook_fx")}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export_model(model)
    assert model.training and not model.quantized
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert hooks == {n: m.pre_hook_fx for n, m in model.layers.items()
                     if hasattr(m, "pre_hook_fx")}


def test_exported_weights_sit_on_the_chip_grid():
    _, _, model = tiny()
    graph = export_model(model)
    for node in graph.nodes.values():
        weight = getattr(node, "weight", None)
        if isinstance(weight, np.ndarray):
            assert weight.min() >= -256 and weight.max() <= 254 and not (weight % 2).any()


def test_export_refuses_a_layer_the_chip_cannot_run():
    _, _, model = tiny()
    model.layers["flatten"] = torch.nn.Identity()
    with pytest.raises(ExportError, match="layer 'flatten' of type Identity cannot run on Loihi"):
        export_model(model)


def test_export_refuses_a_pool_that_does_not_tile_its_input():
    _, _, model = tiny()
    model.layers["s0pool_syn"] = synapse.Pool(3)
    with pytest.raises(ExportError, match="sum-pool must tile its 8x8 input exactly"):
        export_model(model)


def test_export_refuses_nan_weights():
    _, _, model = tiny()
    with torch.no_grad():
        model.layers["stem_conv"].weight[0, 0, 0, 0, 0] = float("nan")
    with pytest.raises(Exception, match="stem_conv"):
        export_model(model)

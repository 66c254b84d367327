"""The float ANN twin: what it computes, and that it trains with the spiking network's loop."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from spikedeploy.cli import main
from spikedeploy.config import load
from spikedeploy.errors import SpikedeployError
from spikedeploy.train import AnnTwin, load_checkpoint, predict, train
from spikedeploy.train.data import frames, load_splits
from spikedeploy.train.resnet import build_model


def tiny_twin():
    cfg = load("tiny")
    torch.manual_seed(0)
    network = build_model(cfg.model, (1, 8, 8), 10, 5)
    with torch.no_grad():             # biases on their 1/64 grid, so they are exercised exactly
        for layer in network.layers.values():
            if hasattr(getattr(layer, "norm", None), "bias"):
                layer.norm.bias.copy_(torch.randint(-20, 20, layer.norm.bias.shape) / 64)
    return cfg, AnnTwin(network, cfg.data.time_steps)


def reference(twin: AnnTwin, image: torch.Tensor) -> torch.Tensor:
    """The tiny preset's architecture written out with plain torch 2-D operations."""
    def w(name):
        return twin.layers[name].weight[..., 0]

    def bias(name):
        return twin.layers[name].norm.bias.reshape(1, -1, *[1] * (2 if name != "output" else 0))

    def conv(name, x, groups=1):
        return F.conv2d(x, w(name), padding=w(name).shape[-1] // 2, groups=groups)

    def sum_pool(name, x):
        return F.avg_pool2d(x, 2) * 4 * float(twin.layers[name].weight.flatten()[0])

    stem = F.relu(conv("stem_conv", image) + bias("stem"))
    a = F.relu(conv("s0b0_a_conv", stem) + bias("s0b0_a"))
    b = F.relu(conv("s0b0_b_conv", a) + conv("s0b0_skip", stem, groups=4) + bias("s0b0_b"))
    p0 = F.relu(sum_pool("s0pool_syn", b) + bias("s0pool"))
    a = F.relu(conv("s1b0_a_conv", p0) + bias("s1b0_a"))
    b = F.relu(conv("s1b0_b_conv", a) + conv("s1b0_proj", p0) + bias("s1b0_b"))
    p1 = F.relu(sum_pool("s1pool_syn", b) + bias("s1pool"))
    return F.linear(p1.flatten(1), twin.layers["fc_syn"].weight[:, :, 0, 0, 0]) + bias("output")


def test_twin_is_the_same_layers_as_a_float_network_on_the_image():
    cfg, twin = tiny_twin()
    images = load_splits(cfg.data).heldout.take(16)
    x = torch.as_tensor(frames(images, cfg.data), dtype=torch.float32)
    with torch.no_grad():
        values = twin(x, record=True)
        expected = reference(twin, torch.as_tensor(images.images, dtype=torch.float32))
    assert torch.equal(values["input"][..., 0], torch.as_tensor(images.images).float())
    assert values["output"].shape == (16, 10, 1)
    torch.testing.assert_close(values["output"][..., 0], expected, rtol=1e-5, atol=1e-4)
    assert (values["output"] < 0).any()                     # logits: no ReLU on the output


def test_twin_trains_with_the_same_loop_and_is_not_exported(tmp_path, capsys):
    cfg = load("tiny", ["model.twin=ann"])
    result = train(cfg, tmp_path, progress=False)
    assert isinstance(result.model, AnnTwin) and result.quantized_accuracy is None
    assert [row["phase"] for row in result.history] == ["float", "float"]
    assert result.float_accuracy == result.history[-1]["heldout_accuracy"]
    with pytest.raises(SpikedeployError, match="holds an ANN twin"):
        load_checkpoint(tmp_path / "checkpoint.pt")
    _, model = load_checkpoint(tmp_path / "checkpoint.pt", allow_twin=True)
    heldout = load_splits(cfg.data).heldout
    assert (predict(model, heldout, cfg) == predict(result.model, heldout, cfg)).all()
    assert main(["export", str(tmp_path / "checkpoint.pt")]) == 2
    assert "holds an ANN twin" in capsys.readouterr().err


def test_twin_starts_from_the_spiking_networks_initial_weights(tmp_path):
    spiking = train(load("tiny", ["train.float_epochs=0", "train.qat_epochs=0"]),
                    tmp_path / "snn", progress=False).model.state_dict()
    twin = train(load("tiny", ["train.float_epochs=0", "train.qat_epochs=0", "model.twin=ann"]),
                 tmp_path / "ann", progress=False).model.state_dict()
    assert twin.keys() == spiking.keys()
    assert all(torch.equal(twin[k], spiking[k]) for k in spiking)


def test_twin_of_a_bottleneck_network_with_batch_norm_and_global_pool():
    cfg = load("tiny_bottleneck")
    torch.manual_seed(0)
    twin = AnnTwin(build_model(cfg.model, (1, 8, 8), 10, 0), cfg.data.time_steps)
    x = torch.as_tensor(frames(load_splits(cfg.data).train.take(8), cfg.data),
                        dtype=torch.float32)
    norms = [m.norm for m in twin.layers.values() if getattr(m, "norm", None) is not None]
    before = [n.running_mean.clone() for n in norms if hasattr(n, "running_mean")]
    twin.train()
    assert twin(x).shape == (8, 10, 1)
    after = [n.running_mean for n in norms if hasattr(n, "running_mean")]
    assert before and all(not torch.equal(a, b) for a, b in zip(after, before, strict=True))
    twin.eval()                                   # folded: the same modules as the spiking net
    with torch.no_grad():
        assert torch.isfinite(twin(x)).all()


def test_twin_averages_the_input_frames_not_the_drain():
    cfg = load("tiny", ["data.time_steps=4", "data.drain_steps=8"])
    twin = AnnTwin(build_model(cfg.model, (1, 8, 8), 10, 5), cfg.data.time_steps)
    images = load_splits(cfg.data).heldout.take(4)
    x = torch.as_tensor(frames(images, cfg.data), dtype=torch.float32)
    assert x.shape[-1] == 12
    with torch.no_grad():
        values = twin(x, record=True)
    assert torch.equal(values["input"][..., 0], torch.as_tensor(images.images).float())

"""The tiny preset's spiking ResNet on the chip's grid, for profiling tests across sources."""

from __future__ import annotations

import numpy as np
import torch

from spikedeploy.config import load
from spikedeploy.export import export_model
from spikedeploy.train.data import frames, load_splits, message_bits
from spikedeploy.train.network import SYNAPSE_MODULES
from spikedeploy.train.resnet import build_model


def tiny_model(samples: int, overrides=()):
    """(model, graph, inputs): quantized model whose float weights already sit on the grid,
    so a zero weight is zero for both the model and the exported graph."""
    torch.manual_seed(0)
    cfg = load("tiny", list(overrides))
    splits = load_splits(cfg.data)
    model = build_model(cfg.model, (1, 8, 8), 10, message_bits(cfg.data, 16))
    with torch.no_grad():
        for name, module in model.layers.items():
            if isinstance(module, SYNAPSE_MODULES):
                module.weight.copy_(model.neuron_for(name).quantize_8bit(module.weight))
            norm = getattr(module, "norm", None)
            if hasattr(norm, "bias"):
                norm.bias.uniform_(-0.3, 0.3)     # exercise the bias (active neuron updates)
    model.set_quantized(True)
    model.eval()
    inputs = frames(splits.heldout.take(samples), cfg.data)
    return model, export_model(model), inputs


@torch.no_grad()
def training_recording(model, graph, inputs: np.ndarray) -> dict[str, np.ndarray]:
    outputs = model(torch.as_tensor(inputs, dtype=torch.float32), record=True)
    return {n: outputs[n].to(torch.uint8).numpy() for n in graph.neuron_names}

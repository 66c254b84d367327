"""checkpoint.pt: everything to resume a run or rebuild its model, loaded without unpickling.

The checkpoint is a dict of tensors and plain values (nanoGPT's layout: the config travels
inside it). It is rewritten atomically after every epoch, so a run killed at any moment resumes
from its last finished epoch. The model's own state_dict is stored, never DDP's wrapper, so a
checkpoint from N processes resumes, exports and evaluates in one.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..atomic import atomic_path
from ..config import Config, from_dict
from ..errors import ConfigError, SpikedeployError
from .resnet import build_model
from .twin import MODEL_KINDS, ModelKind

CHECKPOINT = "checkpoint.pt"


@dataclass
class RunState:
    """What the loop carries from epoch to epoch besides the weights."""

    epoch: int = 0                             # epochs finished
    history: list[dict] = field(default_factory=list)
    float_accuracy: float | None = None        # held-out, at the end of the float phase


def model_kind(cfg: Config) -> ModelKind:
    if cfg.model.twin not in MODEL_KINDS:
        raise ConfigError(f"unknown model.twin '{cfg.model.twin}'; known: "
                          f"{', '.join(MODEL_KINDS)}")
    return MODEL_KINDS[cfg.model.twin]


def io_of(model: nn.Module) -> dict:
    """What it takes to rebuild the model without loading its data set."""
    return {"input_shape": list(model.input_shape), "num_classes": model.num_classes,
            "input_message_bits": model.input_message_bits}


def save_checkpoint(path: Path, cfg: Config, model: nn.Module, optimizer, schedule,
                    state: RunState) -> None:
    checkpoint = {
        "config": cfg.to_dict(), "io": io_of(model), "model": model.state_dict(),
        "quantized": model.quantized,
        "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
        "epoch": state.epoch, "history": state.history, "float_accuracy": state.float_accuracy,
    }
    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)


def read_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise SpikedeployError("no such checkpoint", path)
    try:
        # weights_only: a checkpoint is data; never unpickle arbitrary objects from it.
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # torch's own text advises weights_only=False, i.e. running the file's code: not ours.
        found = str(err).rpartition("WeightsUnpickler error:")[2].strip()[:120]
        raise SpikedeployError(f"not a readable checkpoint: it holds pickled Python objects, "
                               f"not only tensors and plain values ({found}); refused, "
                               "checkpoints are loaded as data only", path) from None
    except Exception as err:           # torch raises many types for a bad file
        first_line = (str(err).strip().splitlines() or [""])[0][:120]   # empty for b""
        raise SpikedeployError(f"not a readable checkpoint ({type(err).__name__}: "
                               f"{first_line})", path) from None
    if not isinstance(checkpoint, dict) or not {"config", "io", "model"} <= set(checkpoint):
        raise SpikedeployError("not a spikedeploy checkpoint (no config or model)", path)
    return checkpoint


def restore(checkpoint: dict, model: nn.Module, optimizer, schedule) -> RunState:
    """Load a read checkpoint into a freshly built model, optimizer and schedule."""
    model.load_state_dict(checkpoint["model"])
    model.set_quantized(checkpoint["quantized"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    schedule.load_state_dict(checkpoint["schedule"])
    return RunState(checkpoint["epoch"], checkpoint["history"], checkpoint["float_accuracy"])


def load_checkpoint(path: str | Path, allow_twin: bool = False) -> tuple[Config, nn.Module]:
    """The configuration and the trained model (in evaluation mode) stored in a checkpoint.

    The model is a SpikingNetwork; an ANN twin's checkpoint is refused unless `allow_twin`
    (a twin cannot be exported or deployed).
    """
    path = Path(path)
    checkpoint = read_checkpoint(path)
    cfg = from_dict(checkpoint["config"], str(path))
    kind = model_kind(cfg)
    if not (kind.spiking or allow_twin):
        raise SpikedeployError(f"this checkpoint holds an ANN twin (model.twin = "
                               f"'{cfg.model.twin}'), not a spiking network", path)
    io_ = checkpoint["io"]
    model = kind.make(build_model(cfg.model, tuple(io_["input_shape"]), io_["num_classes"],
                                  io_["input_message_bits"]), cfg.data.time_steps)
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as err:
        raise SpikedeployError(f"checkpoint does not match its own config "
                               f"({str(err).splitlines()[0]})", path) from None
    if kind.spiking:
        model.set_quantized(checkpoint.get("quantized", True))
    return cfg, model.eval()

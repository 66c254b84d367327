"""The training loop: float epochs, then quantization-aware epochs on the chip's weight grid.

A run folder holds everything a run produced: config.toml (resolved), metrics.json and
metrics.csv (one row per epoch), checkpoint.pt (written atomically after every epoch, so a killed
run resumes losing at most the epoch in progress).
"""

from __future__ import annotations

import csv
import io
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..atomic import atomic_path, write_text
from ..config import Config, from_dict, to_toml
from ..errors import SpikedeployError
from ..progress import bar
from .data import FrameDataset, ImageSet, load_splits, message_bits
from .network import SpikingNetwork
from .resnet import build_model

CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainResult:
    model: SpikingNetwork
    run_dir: Path
    float_accuracy: float          # held-out, float weights, end of the float phase
    quantized_accuracy: float      # held-out, chip-grid weights, end of training
    history: list[dict] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def model_for(cfg: Config, images: ImageSet) -> SpikingNetwork:
    return build_model(cfg.model, images.images.shape[1:], images.num_classes,
                       message_bits(cfg.data, images.levels))


def _io(model: SpikingNetwork) -> dict:
    """What it takes to rebuild the model without loading its data set."""
    return {"input_shape": list(model.input_shape), "num_classes": model.num_classes,
            "input_message_bits": model.input_message_bits}


@torch.no_grad()
def predict(model: SpikingNetwork, images: ImageSet, cfg: Config) -> np.ndarray:
    """Output spike counts (N, classes) of the model in evaluation mode."""
    was_training = model.training
    model.eval()
    loader = torch.utils.data.DataLoader(FrameDataset(images, cfg.data),
                                         batch_size=cfg.deploy.emulator_batch)
    counts = [model(x.to(cfg.train.device)).sum(-1).cpu() for x, _ in loader]
    model.train(was_training)
    return torch.cat(counts).numpy()


def accuracy(counts: np.ndarray, labels: np.ndarray) -> float:
    """Argmax of spike counts; ties go to the lowest class index, as in every stage."""
    return float((counts.argmax(1) == labels).mean())


def train(cfg: Config, run_dir: str | Path, progress: bool = True,
          resume: bool = False) -> TrainResult:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text(run_dir / "config.toml", to_toml(cfg))
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    seed_everything(cfg.train.seed)
    splits = load_splits(cfg.data)
    model = model_for(cfg, splits.train).to(cfg.train.device)
    total = cfg.train.float_epochs + cfg.train.qat_epochs
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr,
                                 weight_decay=cfg.train.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(total, 1))
    state = {"epoch": 0, "history": [], "float_accuracy": None}
    if resume and (run_dir / CHECKPOINT).exists():
        state = _restore(run_dir / CHECKPOINT, model, optimizer, schedule)
    generator = torch.Generator().manual_seed(cfg.train.seed)
    loader = torch.utils.data.DataLoader(FrameDataset(splits.train, cfg.data),
                                         batch_size=cfg.train.batch_size, shuffle=True,
                                         generator=generator)
    for epoch in range(state["epoch"], total):
        model.set_quantized(epoch >= cfg.train.float_epochs)
        generator.manual_seed(cfg.train.seed + epoch)      # same batches after a resume
        row = _train_epoch(model, loader, optimizer, cfg, epoch, total, progress)
        schedule.step()
        row["heldout_accuracy"] = accuracy(predict(model, splits.heldout, cfg),
                                           splits.heldout.labels)
        state["history"].append(row)
        if epoch + 1 == cfg.train.float_epochs:
            state["float_accuracy"] = row["heldout_accuracy"]
        state["epoch"] = epoch + 1
        _save(run_dir, cfg, model, optimizer, schedule, state)
    return _finish(cfg, model, splits, run_dir, state)


def _finish(cfg: Config, model: SpikingNetwork, splits, run_dir: Path, state) -> TrainResult:
    if state["float_accuracy"] is None:       # no float phase recorded: measure it now
        model.set_quantized(False)
        state["float_accuracy"] = accuracy(predict(model, splits.heldout, cfg),
                                           splits.heldout.labels)
    model.set_quantized(True)
    quantized = accuracy(predict(model, splits.heldout, cfg), splits.heldout.labels)
    return TrainResult(model, run_dir, state["float_accuracy"], quantized, state["history"])


def _train_epoch(model, loader, optimizer, cfg: Config, epoch: int, total: int,
                 progress: bool) -> dict:
    model.train()
    start, loss_sum, correct, seen = time.time(), 0.0, 0, 0
    phase = "qat" if model.quantized else "float"
    batches = bar(loader, progress, desc=f"epoch {epoch + 1}/{total} ({phase})", unit="batch")
    for x, y in batches:
        x, y = x.to(cfg.train.device), y.to(cfg.train.device)
        counts = model(x).sum(-1)
        loss = F.cross_entropy(counts, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(y)
        correct += int((counts.argmax(1) == y).sum())
        seen += len(y)
        batches.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
    return {"epoch": epoch + 1, "phase": phase, "loss": loss_sum / max(seen, 1),
            "train_accuracy": correct / max(seen, 1), "lr": optimizer.param_groups[0]["lr"],
            "seconds": round(time.time() - start, 2)}


def _save(run_dir: Path, cfg: Config, model, optimizer, schedule, state) -> None:
    checkpoint = {
        "config": cfg.to_dict(), "io": _io(model), "model": model.state_dict(),
        "quantized": model.quantized,
        "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
        "epoch": state["epoch"], "history": state["history"],
        "float_accuracy": state["float_accuracy"],
    }
    with atomic_path(run_dir / CHECKPOINT) as tmp:
        torch.save(checkpoint, tmp)
    write_text(run_dir / "metrics.json", json.dumps(state["history"], indent=2))
    write_text(run_dir / "metrics.csv", _csv(state["history"]))


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _read_checkpoint(path: Path) -> dict:
    if not path.is_file():
        raise SpikedeployError("no such checkpoint", path)
    try:
        # weights_only: a checkpoint is data; never unpickle arbitrary objects from it.
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:           # torch raises many types for a bad file
        raise SpikedeployError(f"not a readable checkpoint ({type(err).__name__}: "
                               f"{str(err).splitlines()[0][:120]})", path) from None
    if not isinstance(checkpoint, dict) or not {"config", "io", "model"} <= set(checkpoint):
        raise SpikedeployError("not a spikedeploy checkpoint (no config or model)", path)
    return checkpoint


def _restore(path: Path, model, optimizer, schedule) -> dict:
    checkpoint = _read_checkpoint(path)
    model.load_state_dict(checkpoint["model"])
    model.set_quantized(checkpoint["quantized"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    schedule.load_state_dict(checkpoint["schedule"])
    return {"epoch": checkpoint["epoch"], "history": checkpoint["history"],
            "float_accuracy": checkpoint["float_accuracy"]}


def load_checkpoint(path: str | Path) -> tuple[Config, SpikingNetwork]:
    """The configuration and the trained model (in evaluation mode) stored in a checkpoint."""
    path = Path(path)
    checkpoint = _read_checkpoint(path)
    cfg = from_dict(checkpoint["config"], str(path))
    io_ = checkpoint["io"]
    model = build_model(cfg.model, tuple(io_["input_shape"]), io_["num_classes"],
                        io_["input_message_bits"])
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as err:
        raise SpikedeployError(f"checkpoint does not match its own config "
                               f"({str(err).splitlines()[0]})", path) from None
    model.set_quantized(checkpoint.get("quantized", True))
    return cfg, model.eval()

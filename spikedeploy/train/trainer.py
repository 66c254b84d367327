"""The training loop: float epochs, then quantization-aware epochs on the chip's weight grid.

One loop for one process or many (DDP, see distributed.py), for the spiking network or its
float ANN twin (twin.py). After every epoch, callbacks run with the run and the epoch's metrics
row; the first ones (rank 0 only) write the run folder:

  config.toml          the resolved config (pass it to --config to repeat the run)
  checkpoint.pt        weights, optimizer, schedule, history: resume loses at most one epoch
  metrics.json / .csv  one row per epoch, gradient RMS per synapse included
  training_curve.png   loss and accuracies per epoch
  grad_rms.png         gradient RMS against depth, one line per epoch
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from lava.lib.dl.slayer.neuron import cuba
from torch import nn

from ..atomic import remove_leftovers, write_text
from ..config import Config, from_dict, to_toml
from ..errors import SpikedeployError
from ..progress import bar
from . import plots
from .checkpoint import CHECKPOINT, RunState, model_kind, read_checkpoint, restore, save_checkpoint
from .data import FrameDataset, ImageSet, Splits, load_splits, message_bits
from .device import check_slayer_kernels, resolve_device
from .diagnostics import GradientMonitor, gradient_warnings, surrogate_of
from .distributed import (
    SINGLE_PROCESS,
    ShardedBatches,
    World,
    process_group,
    share_from_main,
    sum_over_processes,
    sync_buffers,
    wrap,
)
from .metrics import write_metrics
from .network import SpikingNetwork
from .resnet import build_model
from .twin import ModelKind

log = logging.getLogger("spikedeploy.train")


@dataclass
class TrainResult:
    model: nn.Module                       # the SpikingNetwork (or its AnnTwin), unwrapped
    run_dir: Path
    float_accuracy: float                  # held-out, float weights, end of the float phase
    quantized_accuracy: float | None       # held-out, chip-grid weights, end; None for a twin
    history: list[dict] = field(default_factory=list)


@dataclass
class Run:
    """Everything one training process works with; callbacks receive it after every epoch."""

    cfg: Config
    run_dir: Path
    world: World
    device: torch.device
    kind: ModelKind
    splits: Splits
    model: nn.Module                       # what checkpoints store
    step_model: nn.Module                  # what the steps call: `model`, or DDP around it
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LRScheduler
    sampler: ShardedBatches
    monitor: GradientMonitor
    state: RunState

    @property
    def total_epochs(self) -> int:
        return self.cfg.train.float_epochs + self.cfg.train.qat_epochs

    @property
    def float_epochs(self) -> int:
        return self.cfg.train.float_epochs if self.kind.spiking else self.total_epochs


Callback = Callable[[Run, dict], None]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def model_for(cfg: Config, images: ImageSet) -> SpikingNetwork:
    return build_model(cfg.model, images.images.shape[1:], images.num_classes,
                       message_bits(cfg.data, images.levels))


def train(cfg: Config, run_dir: str | Path, progress: bool = True, resume: bool = False,
          world: World = SINGLE_PROCESS, callbacks: Sequence[Callback] = ()) -> TrainResult:
    """Train per `cfg` into `run_dir`; `world` says which of several DDP processes this is.

    `callbacks` run after every epoch, after the run folder is written (rank 0) and on every
    process.
    """
    device = resolve_device(cfg.train.device, world)
    with process_group(world, device):
        run = _prepare(cfg, Path(run_dir), world, device, resume)
        every_epoch = (*(_RUN_FOLDER if world.is_main else ()), *callbacks)
        for epoch in range(run.state.epoch, run.total_epochs):
            row = _run_epoch(run, epoch, progress)
            for callback in every_epoch:
                callback(run, row)
        result = _finish(run)
        del run                   # DDP holds the process group: release it before the group
    return result


def _prepare(cfg: Config, run_dir: Path, world: World, device: torch.device,
             resume: bool) -> Run:
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    kind = model_kind(cfg)
    if kind.spiking:
        check_slayer_kernels(device)
    seed_everything(cfg.train.seed)
    splits = load_splits(cfg.data)
    model = kind.make(model_for(cfg, splits.train), cfg.data.time_steps).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr,
                                 weight_decay=cfg.train.weight_decay)
    total = cfg.train.float_epochs + cfg.train.qat_epochs
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(total, 1))
    state = RunState()
    checkpoint = share_from_main(_resume_checkpoint(run_dir, cfg) if resume and world.is_main
                                 else None, world)
    if checkpoint is not None:
        state = restore(checkpoint, model, optimizer, schedule)
    # Only now, with the data read and a resumed checkpoint accepted: a run refused above
    # leaves no folder behind, and never a config.toml that disagrees with its checkpoint.
    if world.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        remove_leftovers(run_dir)       # of a run killed while it wrote (atomic.py)
        write_text(run_dir / "config.toml", to_toml(cfg))
    sampler = ShardedBatches(len(splits.train), cfg.train.batch_size, cfg.train.seed, world)
    if world.is_main and kind.spiking:
        _log_surrogate(model)
    return Run(cfg, run_dir, world, device, kind, splits, model, wrap(model, world, device),
               optimizer, schedule, sampler, GradientMonitor(model), state)


def _resume_checkpoint(run_dir: Path, cfg: Config) -> dict | None:
    path = run_dir / CHECKPOINT
    if not path.exists():
        return None
    checkpoint = read_checkpoint(path)
    before = from_dict(checkpoint["config"], str(path))
    for section in ("model", "data"):
        if getattr(before, section) != getattr(cfg, section):
            raise SpikedeployError(f"was trained with another [{section}] config; resume with "
                                   f"--config {run_dir / 'config.toml'}", path)
    return checkpoint


def _log_surrogate(model: nn.Module) -> None:
    neuron = next(m for m in model.layers.values() if isinstance(m, cuba.Neuron))
    shape = surrogate_of(neuron)
    log.info("surrogate spike derivative: peak %.3g, width %.3g (threshold %.3g)",
             shape.peak, shape.width, neuron.threshold)


def _run_epoch(run: Run, epoch: int, progress: bool) -> dict:
    run.model.set_quantized(epoch >= run.float_epochs)
    row = _train_epoch(run, epoch, progress)
    run.schedule.step()
    row["heldout_accuracy"] = heldout_accuracy(run)
    row["grad_rms"] = run.monitor.epoch_means()
    row["grad_warnings"] = gradient_warnings(row["grad_rms"], run.cfg.diagnostics)
    run.state.history.append(row)
    if epoch + 1 == run.float_epochs:
        run.state.float_accuracy = row["heldout_accuracy"]
    run.state.epoch = epoch + 1
    return row


def _train_epoch(run: Run, epoch: int, progress: bool) -> dict:
    run.step_model.train()
    run.sampler.set_epoch(epoch)
    # A generator of its own keeps the loader from drawing on the global random state.
    loader = torch.utils.data.DataLoader(FrameDataset(run.splits.train, run.cfg.data),
                                         batch_sampler=run.sampler, generator=torch.Generator())
    start, loss_sum, correct, seen = time.time(), 0.0, 0, 0
    phase = "qat" if run.model.quantized else "float"
    batches = bar(loader, progress and run.world.is_main, unit="batch",
                  desc=f"epoch {epoch + 1}/{run.total_epochs} ({phase})")
    for (x, y), global_count in zip(batches, run.sampler.global_sizes(), strict=True):
        x, y = x.to(run.device), y.to(run.device)
        counts = run.step_model(x).sum(-1)     # spike counts (the twin: logits)
        loss = F.cross_entropy(counts, y)
        run.optimizer.zero_grad()
        # DDP averages gradients over processes: weight this shard by its share of the batch.
        (loss * (len(y) * run.world.world_size / global_count)).backward()
        run.monitor.record()
        run.optimizer.step()
        loss_sum += loss.item() * len(y)
        correct += int((counts.argmax(1) == y).sum())
        seen += len(y)
        batches.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
    loss_sum, correct, seen = sum_over_processes([loss_sum, correct, seen], run.world,
                                                 run.device)
    return {"epoch": epoch + 1, "phase": phase, "loss": loss_sum / max(seen, 1),
            "train_accuracy": correct / max(seen, 1), "lr": run.optimizer.param_groups[0]["lr"],
            "seconds": round(time.time() - start, 2)}


def heldout_accuracy(run: Run) -> float:
    """Accuracy on the held-out split; each process scores every world_size-th sample."""
    sync_buffers(run.model, run.world)
    dataset = FrameDataset(run.splits.heldout, run.cfg.data)
    mine = torch.utils.data.Subset(dataset, range(run.world.rank, len(dataset),
                                                  run.world.world_size))
    loader = torch.utils.data.DataLoader(mine, batch_size=run.cfg.deploy.emulator_batch)
    was_training, correct = run.model.training, 0
    run.model.eval()
    with torch.no_grad():
        for x, y in loader:
            counts = run.model(x.to(run.device)).sum(-1).cpu()
            correct += int((counts.argmax(1) == y).sum())
    run.model.train(was_training)
    correct, count = sum_over_processes([correct, len(mine)], run.world, run.device)
    return correct / max(count, 1)


def _finish(run: Run) -> TrainResult:
    state = run.state
    if state.float_accuracy is None:       # no float phase recorded: measure it now
        run.model.set_quantized(False)
        state.float_accuracy = heldout_accuracy(run)
    quantized = None
    if run.kind.spiking:
        run.model.set_quantized(True)
        quantized = heldout_accuracy(run)
    return TrainResult(run.model, run.run_dir, state.float_accuracy, quantized, state.history)


# -- what rank 0 does after every epoch -----------------------------------------------------
def _save(run: Run, row: dict) -> None:
    save_checkpoint(run.run_dir / CHECKPOINT, run.cfg, run.model, run.optimizer, run.schedule,
                    run.state)
    write_metrics(run.run_dir, run.state.history)


def _plot(run: Run, row: dict) -> None:
    if run.cfg.diagnostics.plots:
        plots.plot_training_curve(run.state.history, run.run_dir / plots.TRAINING_CURVE)
        plots.plot_gradient_flow(run.state.history, run.run_dir / plots.GRAD_RMS,
                                 run.cfg.diagnostics)


def _log(run: Run, row: dict) -> None:
    log.info("epoch %d/%d (%s): loss %.4f, training accuracy %.4f, held-out %.4f, %.1f s",
             row["epoch"], run.total_epochs, row["phase"], row["loss"], row["train_accuracy"],
             row["heldout_accuracy"], row["seconds"])
    for warning in row["grad_warnings"]:
        log.warning("warning: epoch %d: %s", row["epoch"], warning)


_RUN_FOLDER: tuple[Callback, ...] = (_save, _plot, _log)


@torch.no_grad()
def predict(model: nn.Module, images: ImageSet, cfg: Config) -> np.ndarray:
    """Output spike counts (N, classes) of the model in evaluation mode, on the model's device."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    loader = torch.utils.data.DataLoader(FrameDataset(images, cfg.data),
                                         batch_size=cfg.deploy.emulator_batch)
    counts = [model(x.to(device)).sum(-1).cpu() for x, _ in loader]
    model.train(was_training)
    return torch.cat(counts).numpy()


def accuracy(counts: np.ndarray, labels: np.ndarray) -> float:
    """Argmax of spike counts; ties go to the lowest class index, as in every stage."""
    return float((counts.argmax(1) == labels).mean())

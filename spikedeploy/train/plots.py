"""PNG plots of a run, redrawn from its history after every epoch.

training_curve.png: loss and accuracies per epoch. grad_rms.png: each synapse's mean
weight-gradient RMS against its depth (computation order), one line per epoch, with the
diagnostics bounds. matplotlib's Figure is used without pyplot: no GUI backend, no global state.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from ..atomic import atomic_path
from ..config import DiagnosticsConfig

TRAINING_CURVE = "training_curve.png"
GRAD_RMS = "grad_rms.png"


def plot_training_curve(history: list[dict], path: Path) -> None:
    epochs = [row["epoch"] for row in history]
    fig = Figure(figsize=(9, 3.5), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, [row["loss"] for row in history], marker="o")
    loss_ax.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="loss",
               yscale="log")
    for key, label in (("train_accuracy", "training"), ("heldout_accuracy", "held-out")):
        acc_ax.plot(epochs, [row[key] for row in history], marker="o", label=label)
    acc_ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title="accuracy")
    _mark_quantized_epochs([loss_ax, acc_ax], history)
    acc_ax.legend(loc="lower right")
    _save(fig, path)


def _mark_quantized_epochs(axes, history: list[dict]) -> None:
    qat = [row["epoch"] for row in history if row.get("phase") == "qat"]
    if qat:
        for ax in axes:
            ax.axvspan(min(qat) - 0.5, max(qat) + 0.5, color="0.9", zorder=0,
                       label="quantization-aware")


def plot_gradient_flow(history: list[dict], path: Path, cfg: DiagnosticsConfig) -> None:
    rows = [row for row in history if row.get("grad_rms")]
    if not rows:
        return
    names = list(rows[-1]["grad_rms"])
    depth = range(1, len(names) + 1)
    fig = Figure(figsize=(max(6, 0.35 * len(names) + 2), 4.5), layout="constrained")
    ax = fig.subplots()
    colors = _epoch_colors(len(rows))
    for row, color in zip(rows, colors, strict=True):
        norms = [row["grad_rms"].get(name, float("nan")) for name in names]
        ax.plot(depth, norms, marker=".", color=color, label=f"epoch {row['epoch']}")
    for bound in (cfg.grad_rms_min, cfg.grad_rms_max):
        ax.axhline(bound, color="tab:red", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_xticks(list(depth), names, rotation=90, fontsize=7)
    ax.set(xlabel="synapse, in computation order (depth)",
           ylabel="mean RMS of d loss / d weight",
           title="gradient flow (dashed: diagnostics.grad_rms_min / max)")
    ax.legend(fontsize=7, ncol=max(1, len(rows) // 10))
    _save(fig, path)


def _epoch_colors(count: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(i / max(count - 1, 1)) for i in range(count)]


def _save(fig: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)

"""PNG plots of a profile: firing rate per layer, synaptic operations and energy per layer, and
SNN vs ANN energy per inference. matplotlib with the Agg backend (no display needed)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from ...atomic import atomic_path
from .profiler import Profile
from .report import firing_rate

PLOT_NAMES = ("firing_rate.png", "synaptic_ops.png", "energy_per_layer.png", "snn_vs_ann.png")


def _figure():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def _bars(ax, labels, series: dict[str, list[float]], log: bool = False) -> None:
    x = np.arange(len(labels))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        bars = ax.bar(x + i * width - 0.4 + width / 2, values, width, label=name)
        if len(series) == 1:
            ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], fontsize=8)
    ax.set_xticks(x, labels, rotation=45, ha="right")
    if log:                 # energies and op counts span orders of magnitude
        ax.set_yscale("log")
    if len(series) > 1:
        ax.legend(fontsize=8)


def write_plots(p: Profile, folder: str | os.PathLike) -> list[Path]:
    """Write the four plots into `folder`; returns their paths."""
    plt, folder = _figure(), Path(folder)
    neurons = list(p.graph.neuron_names)
    layers = list(p.layers)
    paths = [folder / name for name in PLOT_NAMES]
    figures = [
        ("firing rate (spikes per neuron and step)", neurons,
         {"firing rate": [firing_rate(p, n) for n in neurons]}, False),
        ("synaptic operations per inference", neurons,
         {f: [p.layers[n].get(f"synaptic_ops_{f}", 0.0) for n in neurons]
          for f in ("effective", "chip", "dense")}, True),
        ("dynamic energy per inference per layer (J)", layers,
         {m: e["per_layer_dynamic_J"].values() for m, e in p.energy.items()}, True),
        ("energy per inference (J), same architecture", list(p.energy),
         {"dynamic": [e["dynamic_J"] for e in p.energy.values()]}, True),
    ]
    for (title, labels, series, log), path in zip(figures, paths, strict=True):
        fig, ax = plt.subplots(figsize=(max(5.0, 0.6 * len(labels) + 2), 3.5))
        _bars(ax, labels, {k: list(v) for k, v in series.items()}, log)
        ax.set_title(title, fontsize=10)
        _save(fig, path)
        plt.close(fig)
    return paths

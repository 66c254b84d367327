"""The end-to-end demo: train -> export -> emulator on the whole held-out split -> Lava on a
sample of it, with spike-for-spike agreement between all three on every neuron layer.

Stages talk through files: the checkpoint and network.h5 in the run folder are what the later
stages read. The report is printed and written as summary.json.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from . import graph as graphio
from .atomic import write_text
from .config import Config
from .deploy import run_lava
from .export import export_model
from .report import agreement, agreement_counts, format_table, layer_table
from .sim.evaluate import evaluate
from .sim.profile import count, profile
from .sim.profile.counts import counts_equal
from .sim.profile.plots import write_plots
from .sim.profile.report import summary_lines, write_csv, write_json
from .train import load_checkpoint, train
from .train.data import frames, load_splits
from .train.network import SpikingNetwork


def run_demo(cfg: Config, run_dir: str | Path, log: Callable[[str], None] = print,
             progress: bool = True) -> dict:
    run_dir = Path(run_dir)
    started = time.time()
    log(f"[1/6] training {cfg.model.arch} on {cfg.data.name} "
        f"({cfg.train.float_epochs} float + {cfg.train.qat_epochs} quantized epochs)")
    result = train(cfg, run_dir, progress=progress)
    log(f"      float {result.float_accuracy:.4f}, quantized {result.quantized_accuracy:.4f}")

    log("[2/6] exporting the checkpoint to network.h5")
    _, model = load_checkpoint(run_dir / "checkpoint.pt")
    graphio.write(export_model(model, {"config": cfg.to_dict(), "source": "demo"}),
                  run_dir / "network.h5")
    graph = graphio.read(run_dir / "network.h5")

    heldout = load_splits(cfg.data).heldout
    inputs = frames(heldout, cfg.data)
    log(f"[3/6] emulator on the whole held-out split ({len(heldout)} samples)")
    lava_n = min(cfg.deploy.lava_samples, len(heldout))
    emulated = evaluate(graph, inputs, cfg.deploy.emulator_batch, keep=lava_n, progress=progress)

    log("[4/6] training forward pass on the held-out split, compared with the emulator")
    train_vs_emu = _compare_with_model(model, graph, inputs, cfg.deploy.emulator_batch)

    log(f"[5/6] Lava CPU simulator ({cfg.deploy.backend}) on {lava_n} held-out samples")
    lava = run_lava(graph, inputs[:lava_n], cfg.deploy.backend, progress=progress)
    lava_vs_emu, per_node = agreement(lava, emulated.recorded, graph.neuron_names)
    out = graph.output_names[0]
    lava_accuracy = float((lava[out].sum(-1).argmax(1) == heldout.labels[:lava_n]).mean())

    log("[6/6] profiling the held-out split: spikes, synaptic ops, energy, chip resources")
    profiled = _profile(graph, inputs, lava, run_dir, cfg.deploy.emulator_batch, progress)

    summary = {
        "float_accuracy": result.float_accuracy,
        "quantized_training_accuracy": result.quantized_accuracy,
        "heldout_accuracy_emulator": emulated.accuracy(heldout.labels),
        "heldout_samples": len(heldout),
        "lava_accuracy": lava_accuracy,
        "lava_samples": lava_n,
        "spike_agreement_lava_vs_emulator": lava_vs_emu,
        "spike_agreement_train_vs_emulator": train_vs_emu,
        "spike_agreement_per_layer_lava_vs_emulator": per_node,
        "time_steps": cfg.data.time_steps,
        "drain_steps": cfg.data.drain_steps,
        "spikes_per_sample": {n: emulated.spikes_per_node[n] / len(heldout)
                              for n in graph.neuron_names},
        "seconds": round(time.time() - started, 1),
        "network": str(run_dir / "network.h5"),
        "profile": profiled,
    }
    write_text(run_dir / "summary.json", json.dumps(summary, indent=2))
    log("\n" + _report(summary, graph, emulated))
    return summary


def _profile(graph, inputs: np.ndarray, lava: dict, run_dir: Path, batch: int,
             progress: bool) -> dict:
    """Profile the held-out split on the emulator, write the report, and check that the Lava
    run's counts equal the emulator's on the samples Lava ran."""
    result = profile(graph, inputs, batch=batch, progress=progress)
    folder = run_dir / "profile"
    write_json(result, folder / "profile.json")
    write_csv(result, folder / "layers.csv")
    write_plots(result, folder / "plots")
    lava_n = len(next(iter(lava.values())))
    t = result.totals
    return {
        "samples": result.counts.samples,
        "spikes_per_inference": t["spikes"],
        "synaptic_ops_per_inference": {f: t[f"synaptic_ops_{f}"]
                                       for f in ("effective", "chip", "dense")},
        "ann_macs_per_inference": t["macs"],
        **result.sparsity,
        "energy_per_inference_J": {name: {"dynamic": e["dynamic_J"], "static": e["static_J"]}
                                   for name, e in result.energy.items()},
        "loihi2_cores": sum(r["cores"] for r in result.resources.values()),
        "loihi2_chips": result.chips,
        "limit_warnings": len(result.warnings),
        "counts_agree_lava_vs_emulator": counts_equal(count(graph, inputs[:lava_n], lava),
                                                       count(graph, inputs[:lava_n])),
        "report": str(folder / "profile.json"),
        "headline": summary_lines(result),
    }


@torch.no_grad()
def _compare_with_model(model: SpikingNetwork, graph: graphio.Graph, inputs: np.ndarray,
                        batch: int) -> float:
    """Agreement of the trained model's quantized forward pass with the emulator, all neurons."""
    from .sim import Emulator

    emulator = Emulator(graph)
    model.eval()
    equal = total = 0
    for start in range(0, len(inputs), batch):
        chunk = inputs[start:start + batch]
        trained = model(torch.as_tensor(chunk, dtype=torch.float32), record=True)
        emulated = emulator.run(torch.as_tensor(chunk))
        counts = agreement_counts({n: trained[n].to(torch.uint8).numpy() for n in emulated},
                                  {n: v.numpy() for n, v in emulated.items()})
        equal += sum(e for e, _ in counts.values())
        total += sum(t for _, t in counts.values())
    return equal / total


def _report(summary: dict, graph, emulated) -> str:
    rows = [("measure", "value"),
            ("float accuracy (training, held-out)", f"{summary['float_accuracy']:.4f}"),
            ("quantized accuracy (training, held-out)",
             f"{summary['quantized_training_accuracy']:.4f}"),
            (f"emulator accuracy ({summary['heldout_samples']} held-out)",
             f"{summary['heldout_accuracy_emulator']:.4f}"),
            (f"Lava accuracy ({summary['lava_samples']} held-out)",
             f"{summary['lava_accuracy']:.4f}"),
            ("spike agreement, training vs emulator",
             f"{summary['spike_agreement_train_vs_emulator']:.6f}"),
            ("spike agreement, Lava vs emulator",
             f"{summary['spike_agreement_lava_vs_emulator']:.6f}"),
            ("time steps per sample (input + drain)",
             f"{summary['time_steps']} + {summary['drain_steps']}"),
            ("wall time", f"{summary['seconds']} s")]
    spikes = layer_table(graph, emulated.spikes_per_node, emulated.samples, emulated.steps)
    profiled = "\n".join(summary["profile"]["headline"])
    agree = summary["profile"]["counts_agree_lava_vs_emulator"]
    return (f"{format_table(rows)}\n\nspikes per layer (emulator, held-out split)\n{spikes}\n\n"
            f"profile (emulator, held-out split; full report in {summary['profile']['report']})\n"
            f"{profiled}\ncounts of the Lava run equal the emulator's: {agree}\n")

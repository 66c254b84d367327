"""The profile as a printed table, a JSON document and a per-layer CSV file."""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np

from ...atomic import write_text
from ...report import format_table
from .energy import LOIHI2_NOTE
from .profiler import Profile

CSV_COUNTS = ("neurons", "spikes", "firing_rate", "input_events", "synaptic_ops_effective",
              "synaptic_ops_chip", "synaptic_ops_dense", "neuron_updates_active",
              "neuron_updates_inactive", "spike_messages", "macs")


def firing_rate(p: Profile, layer: str) -> float:
    """Events (spikes, or non-zero input payloads) per neuron and step."""
    neurons = int(np.prod(p.graph.shapes[layer]))
    row = p.layers[layer]
    events = row.get("spikes", 0.0) or row.get("input_events", 0.0)
    return events / neurons / max(p.counts.steps, 1)


def layer_rows(p: Profile) -> list[dict]:
    """One dict per layer: counts per inference, resources and energy per model (J)."""
    rows = []
    for name, row in p.layers.items():
        out = {"layer": name, "type": p.graph.nodes[name].type_name,
               "neurons": int(np.prod(p.graph.shapes[name])), "firing_rate": firing_rate(p, name)}
        out.update({k: row.get(k, 0.0) for k in CSV_COUNTS if k not in out})
        out.update(p.resources.get(name, {}))
        out.update({f"energy_J[{m}]": e["per_layer_dynamic_J"][name] for m, e in p.energy.items()})
        rows.append(out)
    return rows


def to_dict(p: Profile) -> dict:
    c = p.counts
    per_step = {
        "events": {n: v.tolist() for n, v in c.events.items()},
        "synaptic_ops": {s: {f: v.tolist() for f, v in ops.items()}
                         for s, ops in c.synaptic_ops.items()},
        "neuron_updates_active": {n: v.tolist() for n, v in c.active_updates.items()},
        "neuron_updates": {n: v.tolist() for n, v in c.neuron_updates.items()},
        "spike_messages": {n: v.tolist() for n, v in c.messages.items()},
    }
    return {
        "source": p.source, "samples": c.samples, "steps": c.steps,
        "per_inference": p.totals, **p.sparsity,
        "layers": layer_rows(p),
        "per_step_totals_over_samples": per_step,
        "neuron_state": c.state,
        "energy": p.energy, "loihi2_energy": LOIHI2_NOTE,
        "chip": {"name": p.chip.name, "title": p.chip.title, "chips_needed": p.chips,
                 "cores_needed": sum(r["cores"] for r in p.resources.values()),
                 "limits": {k: {"value": v.value, "source": v.source}
                            for k, v in p.chip.limits.items()}},
        "warnings": p.warnings,
    }


def write_json(p: Profile, path: str | os.PathLike) -> None:
    write_text(path, json.dumps(to_dict(p), indent=2))


def write_csv(p: Profile, path: str | os.PathLike) -> None:
    rows = layer_rows(p)
    handle = io.StringIO()
    fields = list(dict.fromkeys(k for row in rows for k in row))   # the input has no resources
    writer = csv.DictWriter(handle, fieldnames=fields, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, handle.getvalue())


def _si(value: float, unit: str) -> str:
    for scale, prefix in ((1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p")):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"0 {unit}"


def counts_table(p: Profile) -> str:
    rows = [("layer", "neurons", "spikes", "rate", "syn ops eff", "syn ops chip", "syn ops dense",
             "active upd", "inactive upd", "messages")]
    for r in layer_rows(p):
        spikes = r["spikes"] or r["input_events"]
        rows.append((r["layer"], str(r["neurons"]), f"{spikes:.1f}", f"{r['firing_rate']:.4f}",
                     *(f"{r[k]:.4g}" for k in ("synaptic_ops_effective", "synaptic_ops_chip",
                                                "synaptic_ops_dense", "neuron_updates_active",
                                                "neuron_updates_inactive", "spike_messages"))))
    return format_table(rows)


def energy_table(p: Profile) -> str:
    names = list(p.energy)
    rows = [("layer", *names)]
    for layer in p.layers:
        rows.append((layer, *(_si(p.energy[m]["per_layer_dynamic_J"][layer], "J")
                              for m in names)))
    rows.append(("total dynamic", *(_si(p.energy[m]["dynamic_J"], "J") for m in names)))
    return format_table(rows)


def resources_table(p: Profile) -> str:
    rows = [("layer", "neurons", "synapses", "nonzero", "fan-in max", "syn mem KiB", "cores")]
    for name, r in p.resources.items():
        rows.append((name, str(r["neurons"]), str(r["synapses"]), str(r["nonzero_synapses"]),
                     str(r["fan_in_max"]), f"{r['synaptic_memory_bits'] / 8192:.1f}",
                     str(r["cores"])))
    return format_table(rows)


def summary_lines(p: Profile) -> list[str]:
    t, s = p.totals, p.sparsity
    lines = [f"per inference ({p.counts.samples} samples, {p.counts.steps} steps, {p.source}): "
             f"{t.get('spikes', 0):.1f} spikes, {t.get('synaptic_ops_effective', 0):.4g} "
             f"effective / {t.get('synaptic_ops_chip', 0):.4g} chip / "
             f"{t.get('synaptic_ops_dense', 0):.4g} dense synaptic ops, "
             f"{t.get('macs', 0):.4g} MACs as an ANN",
             f"activation sparsity {s['activation_sparsity']:.4f}, connection sparsity "
             f"{s['connection_sparsity']:.4f}", "energy per inference:"]
    for e in p.energy.values():
        static = (_si(e["static_J"], "J") + " static" if e["static_J"] is not None
                  else f"static not modelled ({e['static_note']})")
        lines.append(f"  [{e['name']}] {_si(e['dynamic_J'], 'J')} dynamic, {static}")
    lines.append(f"  [loihi2] {LOIHI2_NOTE}")
    memory_kib = {k: sum(r[k] for r in p.resources.values()) / 8192 for k in (
        "synaptic_memory_bits", "shared_weight_memory_bits", "neuron_memory_bits")}
    lines.append(f"memory at the chip's bit widths: {memory_kib['synaptic_memory_bits']:.1f} KiB "
                 f"of synapses ({memory_kib['shared_weight_memory_bits']:.1f} KiB with shared "
                 f"kernels), {memory_kib['neuron_memory_bits']:.1f} KiB of neuron state")
    lines.append(f"{p.chip.title}: {sum(r['cores'] for r in p.resources.values())} neuron "
                 f"cores, {p.chips} chip(s) (per-core figures are assumptions, see the JSON)")
    lines += [f"warning: {w['layer']}: {w['message']}" for w in p.warnings]
    return lines


def text_report(p: Profile) -> str:
    return "\n\n".join([
        "counts per inference\n" + counts_table(p),
        "dynamic energy per inference, per layer (model name in each column)\n" + energy_table(p),
        "chip resources\n" + resources_table(p),
        "\n".join(summary_lines(p))])

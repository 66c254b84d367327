"""Spike-for-spike agreement between recordings, and the per-layer tables users read."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .graph import Graph


def agreement_counts(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray],
                     nodes: list[str] | None = None) -> dict[str, tuple[int, int]]:
    """(equal entries, all entries) per node, entries being sample x neuron x step.

    A node missing from either side, or recorded with another shape, has no equal entries.
    """
    nodes = sorted(set(a) | set(b)) if nodes is None else nodes
    counts = {}
    for name in nodes:
        x, y = a.get(name), b.get(name)
        if x is None or y is None or np.shape(x) != np.shape(y):
            size = max(np.size(x) if x is not None else 0, np.size(y) if y is not None else 0)
            counts[name] = (0, max(size, 1))
        else:
            counts[name] = (int(np.count_nonzero(np.asarray(x) == np.asarray(y))), np.size(x))
    return counts


def agreement(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray],
              nodes: list[str] | None = None) -> tuple[float, dict[str, float]]:
    """Fraction of equal entries over all nodes together, and per node."""
    counts = agreement_counts(a, b, nodes)
    equal = sum(e for e, _ in counts.values())
    total = sum(t for _, t in counts.values())
    return (equal / total if total else 1.0), {n: e / t for n, (e, t) in counts.items()}


def layer_table(graph: Graph, spikes_per_node: Mapping[str, int], samples: int,
                steps: int) -> str:
    """Spikes per neuron layer: total per sample, and the rate per neuron and step."""
    rows = [("layer", "shape", "neurons", "spikes/sample", "rate")]
    for name in graph.neuron_names:
        neurons = int(np.prod(graph.shapes[name]))
        per_sample = spikes_per_node[name] / max(samples, 1)
        rows.append((name, "x".join(map(str, graph.shapes[name])), str(neurons),
                     f"{per_sample:.1f}", f"{per_sample / neurons / max(steps, 1):.4f}"))
    return format_table(rows)


def format_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(row, widths, strict=True))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

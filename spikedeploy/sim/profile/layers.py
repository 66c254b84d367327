"""Per-layer view of the counts: a layer is the input or a neuron node together with the
synapse nodes that feed it. Synaptic operations belong to the layer they feed (on Loihi the
synapses live in the destination neuron's core); spike messages belong to the layer that sends.
"""

from __future__ import annotations

import numpy as np

from ...graph import Graph
from .connectivity import Connectivity, destination
from .counts import Counts


def layer_names(graph: Graph, counts: Counts) -> list[str]:
    return [n for n in graph.order if n in counts.events]


def layer_counts(graph: Graph, counts: Counts, wiring: dict[str, Connectivity]
                 ) -> dict[str, dict[str, float]]:
    """{layer: {count name: per-inference value}}; synaptic counts also per synapse type, as
    'synaptic_ops_chip[conv]'. Names are energy.COUNT_NAMES."""
    per = 1.0 / max(counts.samples, 1)
    layers: dict[str, dict[str, float]] = {}
    for name in layer_names(graph, counts):
        row = {"spike_messages": counts.messages[name].sum() * per}
        events = counts.events[name].sum() * per
        if name in counts.neuron_updates:
            row.update(spikes=events, neuron_updates=counts.neuron_updates[name].sum() * per,
                       neuron_updates_active=counts.active_updates[name].sum() * per,
                       neuron_updates_inactive=counts.inactive_updates(name).sum() * per)
        else:
            row.update(spikes=0.0, input_events=events)
        layers[name] = row
    for syn, conn in wiring.items():
        row, kind = layers[destination(graph, syn)], graph.nodes[syn].type_name
        values = {f"synaptic_ops_{f}": v.sum() * per for f, v in counts.synaptic_ops[syn].items()}
        values["macs"] = float(conn.synapses)      # the ANN does every connection once
        for key, value in values.items():
            row[key] = row.get(key, 0.0) + value
            row[f"{key}[{kind}]"] = row.get(f"{key}[{kind}]", 0.0) + value
    return {n: {k: float(v) for k, v in row.items()} for n, row in layers.items()}


def totals(layers: dict[str, dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for row in layers.values() for k in row})
    return {k: float(sum(row.get(k, 0.0) for row in layers.values())) for k in keys}


def sparsity(graph: Graph, counts: Counts, wiring: dict[str, Connectivity]) -> dict[str, float]:
    """NeuroBench's ActivationSparsity (zero outputs over all outputs of every neuron layer,
    step and sample) and ConnectionSparsity (zero weights over all stored weights)."""
    outputs = sum(int(np.prod(graph.shapes[n])) for n in graph.neuron_names)
    spikes = sum(int(counts.events[n].sum()) for n in graph.neuron_names)
    slots = outputs * counts.steps * counts.samples
    weights = sum(int(c.weights.size) for c in wiring.values())
    zeros = sum(int((c.weights == 0).sum()) for c in wiring.values())
    # (slots - spikes) / slots, not 1 - spikes / slots: the same float NeuroBench computes
    return {"activation_sparsity": (slots - spikes) / slots if slots else 0.0,
            "connection_sparsity": zeros / weights if weights else 0.0}

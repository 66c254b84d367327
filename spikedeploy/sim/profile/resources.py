"""Chip resources per layer at the chip's bit widths, a core and chip estimate, and a warning for
every layer that breaks a limit. Limits come from a chip file (`chips/*.toml`, every value with
its source; per-core figures Intel does not publish are labelled assumptions there).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SpikedeployError
from ...graph import Graph
from .connectivity import Connectivity, destination
from .counts import Counts
from .energy import Constant, number_field, text_field, tomllib

CHIP_DIR = Path(__file__).resolve().parent / "chips"
CHIP_LIMITS = ("cores_per_chip", "neurons_per_chip", "synapses_per_chip", "neurons_per_core",
               "synapses_per_core", "fan_in_max", "weight_bits", "bias_mant_bits", "state_bits",
               "conv_groups_max")


@dataclass(frozen=True)
class ChipSpec:
    name: str
    title: str
    limits: dict[str, Constant]

    def __getitem__(self, key: str) -> int:
        return int(self.limits[key].value)


def load_chip(name_or_path: str | os.PathLike = "loihi2") -> ChipSpec:
    path = Path(name_or_path)
    if not path.suffix:
        path = CHIP_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise SpikedeployError("no such chip file", path)
    try:
        data = tomllib.loads(path.read_text())
        limits = {k: Constant(number_field(data[k], "value", k),
                              text_field(data[k], "source", k)) for k in CHIP_LIMITS}
        return ChipSpec(text_field(data, "name", "chip"), text_field(data, "title", "chip"), limits)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as err:
        raise SpikedeployError(f"bad chip file: {err}", path) from None


def _incoming(graph: Graph, wiring: dict[str, Connectivity]) -> dict[str, list[str]]:
    into = {n: [] for n in graph.neuron_names}
    for syn in wiring:
        into[destination(graph, syn)].append(syn)
    return into


def layer_resources(graph: Graph, wiring: dict[str, Connectivity], chip: ChipSpec
                    ) -> dict[str, dict[str, int]]:
    """Per neuron layer: neurons, synapses, memory in bits at the chip's widths, cores."""
    weight_bits = chip["weight_bits"]
    neuron_bits = 2 * chip["state_bits"] + chip["bias_mant_bits"]     # u, v and the bias
    rows = {}
    for layer, syns in _incoming(graph, wiring).items():
        neurons = int(np.prod(graph.shapes[layer]))
        synapses = sum(wiring[s].synapses for s in syns)
        fan_in = sum((wiring[s].fan_in_all for s in syns), np.zeros(neurons, np.int64))
        rows[layer] = {
            "neurons": neurons, "synapses": synapses,
            "nonzero_synapses": sum(wiring[s].nonzero_synapses for s in syns),
            "stored_weights": sum(wiring[s].stored_weights for s in syns),
            "fan_in_max": int(fan_in.max(initial=0)),
            "synaptic_memory_bits": synapses * weight_bits,
            "shared_weight_memory_bits": sum(wiring[s].stored_weights for s in syns) * weight_bits,
            "neuron_memory_bits": neurons * neuron_bits,
            "cores": max(1, math.ceil(neurons / chip["neurons_per_core"]),
                         math.ceil(synapses / chip["synapses_per_core"])),
        }
    return rows


def chips_needed(rows: dict[str, dict[str, int]], chip: ChipSpec) -> int:
    cores = sum(r["cores"] for r in rows.values())
    neurons = sum(r["neurons"] for r in rows.values())
    synapses = sum(r["synapses"] for r in rows.values())
    return max(1, math.ceil(cores / chip["cores_per_chip"]),
               math.ceil(neurons / chip["neurons_per_chip"]),
               math.ceil(synapses / chip["synapses_per_chip"]))


# -- limit checks: each returns a message, or "" when the layer is within the limit ----------
@dataclass(frozen=True)
class LayerFacts:
    graph: Graph
    layer: str
    synapses: list[str]
    wiring: dict[str, Connectivity]
    resources: dict[str, int]
    state: dict[str, int]
    chip: ChipSpec


def _fan_in(f: LayerFacts) -> str:
    limit = f.chip["fan_in_max"]
    return (f"fan-in {f.resources['fan_in_max']} exceeds {limit} "
            f"({f.chip.limits['fan_in_max'].source})" if f.resources["fan_in_max"] > limit else "")


def _weight_precision(f: LayerFacts) -> str:
    bits, changed = f.chip["weight_bits"], []
    for syn in f.synapses:
        node, used = f.graph.nodes[syn], f.wiring[syn].weights
        written = np.broadcast_to(np.asarray(node.weight), used.shape)
        fits = used.min() >= -(1 << bits) and used.max() < 1 << bits
        if not (fits and np.array_equal(written, used)):
            changed.append(syn)
    return (f"weights of {', '.join(changed)} do not fit {bits} bits as written (Lava keeps "
            "7 bits and the sign of mixed-sign weights: odd values lose their last bit)"
            if changed else "")


def _bias_range(f: LayerFacts) -> str:
    half = 1 << (f.chip["bias_mant_bits"] - 1)
    bias = f.graph.nodes[f.layer].bias_mant
    bad = int(((bias < -half) | (bias >= half)).sum())
    return f"{bad} bias values exceed {f.chip['bias_mant_bits']}-bit signed" if bad else ""


def _state_overflow(f: LayerFacts) -> str:
    wraps, clips = f.state.get("current_wraps", 0), f.state.get("voltage_clips", 0)
    if not (wraps or clips):
        return ""
    return (f"{f.chip['state_bits']}-bit state overflow seen: u wrapped {wraps} times "
            f"(max |u| wanted {f.state['max_abs_current']}), v clipped {clips} times "
            f"(max |v| wanted {f.state['max_abs_voltage']}); training does neither")


def _groups(f: LayerFacts) -> str:
    limit = f.chip["conv_groups_max"]
    wide = [s for s in f.synapses if f.wiring[s].weights.ndim == 4
            and f.graph.shapes[f.graph.predecessors(s)[0]][0] // f.wiring[s].weights.shape[1]
            > limit]
    return (f"{', '.join(wide)} need more than {limit} groups, which Lava's Conv cannot store"
            if wide else "")


def _replay(f: LayerFacts) -> str:
    bad = f.state.get("replay_mismatches", 0)
    return (f"the recording disagrees with the network in {bad} entries: counts of later "
            "layers follow the recording, neuron states follow the network" if bad else "")


LIMIT_CHECKS: dict[str, Callable[[LayerFacts], str]] = {
    "fan_in": _fan_in, "weight_precision": _weight_precision, "bias_range": _bias_range,
    "state_overflow": _state_overflow, "conv_groups": _groups, "recording": _replay,
}


def limit_warnings(graph: Graph, wiring: dict[str, Connectivity], rows: dict[str, dict],
                   counts: Counts, chip: ChipSpec) -> list[dict[str, str]]:
    warnings = []
    for layer, syns in _incoming(graph, wiring).items():
        facts = LayerFacts(graph, layer, syns, wiring, rows[layer], counts.state.get(layer, {}),
                           chip)
        for limit, check in LIMIT_CHECKS.items():
            message = check(facts)
            if message:
                warnings.append({"layer": layer, "limit": limit, "message": message})
    return warnings

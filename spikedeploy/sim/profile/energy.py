"""Energy per inference from pluggable energy models: small TOML files, one constant per term,
each with its source. A model is a list of terms `count x energy_pJ`, where `count` names one of
the per-layer counts in COUNT_NAMES, optionally restricted to some synapse types, plus an
optional static part (power x chips x steps x seconds per step).

Built-in models live in `models/`; `load_model` also takes the path of a user's file, which is
how measured Loihi 2 constants come in (Intel publishes no per-operation energies for Loihi 2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:          # Python 3.10
    import tomli as tomllib

from ...errors import SpikedeployError

MODEL_DIR = Path(__file__).resolve().parent / "models"
PJ = 1e-12                           # joules per picojoule
COUNT_NAMES = (
    "spikes", "input_events", "spike_messages",
    "synaptic_ops_effective", "synaptic_ops_chip", "synaptic_ops_dense",
    "neuron_updates", "neuron_updates_active", "neuron_updates_inactive", "macs",
)
SYNAPSE_COUNTS = ("synaptic_ops_effective", "synaptic_ops_chip", "synaptic_ops_dense", "macs")
KINDS = ("snn", "ann")
LOIHI2_NOTE = ("Loihi 2: Intel publishes no per-operation energies; pass a model file with your "
               "measured constants (docs/profiling.md shows the format)")


@dataclass(frozen=True)
class Term:
    count: str
    energy_pJ: float
    source: str
    synapse_types: tuple[str, ...] | None = None
    assumption: str = ""


@dataclass(frozen=True)
class Constant:
    value: float
    source: str


@dataclass(frozen=True)
class StaticPart:
    """Static energy per inference = power_W_per_chip x chips x steps x seconds_per_step."""

    power_W_per_chip: Constant
    seconds_per_step: Constant


@dataclass(frozen=True)
class EnergyModel:
    name: str
    title: str
    kind: str                        # "snn": counts of the spiking run; "ann": MACs once
    terms: tuple[Term, ...]
    static: StaticPart | None
    static_reason: str               # why there is no static part, when there is none
    note: str
    path: str


def builtin_models() -> list[str]:
    return sorted(p.stem for p in MODEL_DIR.glob("*.toml"))


def load_model(name_or_path: str | os.PathLike) -> EnergyModel:
    """A built-in model by name, or a TOML file by path. Problems raise one SpikedeployError."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = MODEL_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            raise SpikedeployError(f"no energy model '{name_or_path}'; built-in models: "
                                   f"{', '.join(builtin_models())}, or give a .toml file")
    if not path.is_file():
        raise SpikedeployError("no such energy model file", path)
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SpikedeployError(f"not a TOML energy model ({err})", path) from None
    try:
        return _parse(data, path)
    except (KeyError, TypeError, ValueError) as err:
        raise SpikedeployError(f"bad energy model: {err}", path) from None


def text_field(table: dict, key: str, what: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} needs a non-empty '{key}'")
    return value.strip()


def number_field(table: dict, key: str, what: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{what} needs a non-negative number '{key}', got {value!r}")
    return float(value)


def _parse_term(raw: dict, index: int) -> Term:
    what = f"term {index + 1}"
    count = text_field(raw, "count", what)
    if count not in COUNT_NAMES:
        raise ValueError(f"{what}: unknown count '{count}'; known: {', '.join(COUNT_NAMES)}")
    types = raw.get("synapse_types")
    if types is not None and (count not in SYNAPSE_COUNTS or not isinstance(types, list)):
        raise ValueError(f"{what}: synapse_types is a list, and only for {SYNAPSE_COUNTS}")
    unknown = set(raw) - {"count", "energy_pJ", "source", "synapse_types", "assumption"}
    if unknown:
        raise ValueError(f"{what}: unknown keys {sorted(unknown)}")
    return Term(count, number_field(raw, "energy_pJ", what), text_field(raw, "source", what),
                None if types is None else tuple(map(str, types)), raw.get("assumption", ""))


def _parse_static(raw: dict) -> tuple[StaticPart | None, str]:
    if not raw.get("modelled", True):
        return None, text_field(raw, "reason", "[static] with modelled = false")
    parts = {}
    for key in ("power_W_per_chip", "seconds_per_step"):
        table = raw.get(key)
        if not isinstance(table, dict):
            raise ValueError(f"[static] needs a table '{key}' with value and source")
        parts[key] = Constant(number_field(table, "value", f"static {key}"),
                              text_field(table, "source", f"static {key}"))
    return StaticPart(**parts), ""


def _parse(data: dict, path: Path) -> EnergyModel:
    kind = text_field(data, "kind", "the model")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got '{kind}'")
    terms = tuple(_parse_term(t, i) for i, t in enumerate(data.get("term", [])))
    if not terms:
        raise ValueError("the model has no [[term]]")
    static, reason = _parse_static(data.get("static", {"modelled": False,
                                                       "reason": "no [static] table"}))
    return EnergyModel(text_field(data, "name", "the model"),
                       text_field(data, "title", "the model"), kind, terms, static, reason,
                       data.get("note", "").strip(), str(path))


def term_count(term: Term, layer: dict[str, float]) -> float:
    """The count a term charges in one layer (per inference)."""
    if term.synapse_types is None:
        return layer.get(term.count, 0.0)
    return sum(layer.get(f"{term.count}[{t}]", 0.0) for t in term.synapse_types)


def dynamic_pJ(model: EnergyModel, layer: dict[str, float]) -> float:
    """Dynamic energy of one layer per inference, in picojoules."""
    return sum(term_count(t, layer) * t.energy_pJ for t in model.terms)


def static_J(model: EnergyModel, chips: int, steps: int) -> float | None:
    """Static energy per inference in joules, or None when the model has no static part."""
    if model.static is None:
        return None
    s = model.static
    return s.power_W_per_chip.value * chips * steps * s.seconds_per_step.value

"""Profile a network on a data set: run (or replay a recording) batch by batch, count, and turn
the counts into per-layer figures, energy per inference under each energy model, and chip
resources with limit warnings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ...errors import SpikedeployError
from ...graph import Graph
from ...progress import bar
from .activity import Replay
from .connectivity import Connectivity, wiring
from .counts import CountAccumulator, Counts
from .energy import PJ, EnergyModel, dynamic_pJ, load_model, static_J
from .layers import layer_counts, sparsity, totals
from .resources import ChipSpec, chips_needed, layer_resources, limit_warnings, load_chip

DEFAULT_MODELS = ("loihi-davies2018", "loihi-sanafe", "ann-horowitz2014-fp32",
                  "ann-horowitz2014-int8")


@dataclass
class Profile:
    """Everything `spikedeploy profile` reports; `to_dict` is the JSON file."""

    graph: Graph
    source: str
    counts: Counts
    wiring: dict[str, Connectivity]
    layers: dict[str, dict[str, float]]          # per inference
    chip: ChipSpec
    resources: dict[str, dict[str, int]]
    chips: int
    warnings: list[dict[str, str]]
    models: list[EnergyModel] = field(default_factory=list)
    energy: dict[str, dict] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, float]:
        return totals(self.layers)

    @property
    def sparsity(self) -> dict[str, float]:
        return sparsity(self.graph, self.counts, self.wiring)


def check_recording(graph: Graph, inputs: np.ndarray, recording: Mapping[str, np.ndarray]):
    """A recording fits `graph` and `inputs`: every neuron layer, (N, *shape, T) each."""
    for name in graph.neuron_names:
        if name not in recording:
            raise SpikedeployError(f"the recording has no layer '{name}'")
        expected = (len(inputs), *graph.shapes[name], inputs.shape[-1])
        if tuple(np.shape(recording[name])) != expected:
            raise SpikedeployError(f"recorded layer '{name}' has shape "
                                   f"{tuple(np.shape(recording[name]))}, expected {expected} "
                                   "(samples, shape, steps of the input)")


def count(graph: Graph, inputs: np.ndarray, recording: Mapping[str, np.ndarray] | None = None,
          batch: int = 256, device: str = "cpu", progress: bool = False,
          connectivity: dict[str, Connectivity] | None = None) -> Counts:
    """Counts over all `inputs` (N, *input_shape, T): emulated, or replayed from `recording`
    ({neuron node: spikes (N, *shape, T)}, from Lava, training or the emulator)."""
    if recording is not None:
        check_recording(graph, inputs, recording)
    replay = Replay(graph)
    accumulator = CountAccumulator(graph, connectivity or wiring(graph), int(inputs.shape[-1]))
    with torch.no_grad():
        for start in bar(range(0, len(inputs), batch), progress, desc="profile", unit="batch"):
            stop = start + batch
            x = torch.as_tensor(np.asarray(inputs[start:stop]), device=device).to(torch.int64)
            recorded = None if recording is None else {
                n: torch.as_tensor(np.asarray(recording[n][start:stop]))
                for n in graph.neuron_names}
            accumulator.add(replay.observe(x, recorded))
    return accumulator.counts


def energy_report(model: EnergyModel, layers: dict[str, dict[str, float]], chips: int,
                  steps: int) -> dict:
    per_layer = {name: dynamic_pJ(model, row) * PJ for name, row in layers.items()}
    dynamic = sum(per_layer.values())
    static = static_J(model, chips, steps)
    return {"name": model.name, "title": model.title, "kind": model.kind,
            "per_layer_dynamic_J": per_layer, "dynamic_J": dynamic, "static_J": static,
            "total_J": dynamic + (static or 0.0),
            "static_note": model.static_reason, "note": model.note, "file": model.path}


def profile(graph: Graph, inputs: np.ndarray, recording: Mapping[str, np.ndarray] | None = None,
            *, source: str = "emulator", models: Sequence[str] = DEFAULT_MODELS,
            chip: str = "loihi2", batch: int = 256, device: str = "cpu",
            progress: bool = False) -> Profile:
    """Counts, energy per inference under each of `models`, and resources on `chip`."""
    energy_models = [load_model(m) for m in models]        # fail on a bad file before running
    spec = load_chip(chip)
    connectivity = wiring(graph)
    counts = count(graph, inputs, recording, batch, device, progress, connectivity)
    layers = layer_counts(graph, counts, connectivity)
    resources = layer_resources(graph, connectivity, spec)
    chips = chips_needed(resources, spec)
    result = Profile(graph, source, counts, connectivity, layers, spec, resources, chips,
                     limit_warnings(graph, connectivity, resources, counts, spec), energy_models)
    result.energy = {m.name: energy_report(m, layers, chips, counts.steps) for m in energy_models}
    return result

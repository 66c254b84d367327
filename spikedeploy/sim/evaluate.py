"""Score a whole data set on the emulator, batch by batch, with a progress bar."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import SpikedeployError
from ..graph import LIF, Average, Graph
from ..progress import bar
from .emulator import Emulator


@dataclass
class Evaluation:
    """Output counts per sample, and spike totals per neuron node over all samples."""

    output_counts: np.ndarray                     # (N, K): the output summed over time
    spikes_per_node: dict[str, int]
    samples: int
    steps: int
    recorded: dict[str, np.ndarray] = field(default_factory=dict)   # first `keep` samples

    def accuracy(self, labels: np.ndarray) -> float:
        """Argmax of the output summed over time; ties go to the lowest class index."""
        return float((self.output_counts.argmax(1) == labels).mean())


def output_node(graph: Graph) -> str:
    """The node a network is scored on: its one output, a neuron layer or an average readout."""
    outputs = graph.output_names
    if len(outputs) != 1 or not isinstance(graph.nodes[outputs[0]], (LIF, Average)):
        raise SpikedeployError(f"the network must end in one neuron layer or average readout "
                               f"to be scored, it ends in {outputs}")
    return outputs[0]


def recorded_nodes(graph: Graph) -> list[str]:
    """What a recording holds: every neuron layer, then every average readout."""
    return graph.neuron_names + graph.nodes_of_type(Average)


def evaluate(graph: Graph, inputs: np.ndarray, batch: int = 256, device: str = "cpu",
             keep: int = 0, progress: bool = False, reset_interval: int | None = None
             ) -> Evaluation:
    """Run all `inputs` (N, *input_shape, T); keep every recorded node of the first `keep`.

    `reset_interval`: netx's per-layer reset (see Emulator).
    """
    out = output_node(graph)
    emulator = Emulator(graph, device, reset_interval)
    nodes = recorded_nodes(graph)
    totals = dict.fromkeys(graph.neuron_names, 0)
    counts, kept = [], {n: [] for n in nodes}
    starts = range(0, len(inputs), batch)
    for start in bar(starts, progress, desc="emulator", unit="batch"):
        chunk = torch.as_tensor(np.asarray(inputs[start:start + batch]))
        values = emulator.run(chunk, record=nodes)
        counts.append(values[out].sum(-1).cpu().numpy())
        for name in totals:
            totals[name] += int(values[name].sum())
        if start < keep:
            for name in nodes:
                kept[name].append(values[name][:keep - start].cpu().numpy())
    recorded = {n: np.concatenate(v) for n, v in kept.items() if v}
    return Evaluation(np.concatenate(counts) if counts else np.zeros((0, 0)), totals,
                      len(inputs), int(inputs.shape[-1]), recorded)

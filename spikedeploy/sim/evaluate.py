"""Score a whole data set on the emulator, batch by batch, with a progress bar."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import SpikedeployError
from ..graph import LIF, Graph
from ..progress import bar
from .emulator import Emulator


@dataclass
class Evaluation:
    """Output spike counts per sample, and spike totals per neuron node over all samples."""

    output_counts: np.ndarray                     # (N, K): output spikes summed over time
    spikes_per_node: dict[str, int]
    samples: int
    steps: int
    recorded: dict[str, np.ndarray] = field(default_factory=dict)   # first `keep` samples

    def accuracy(self, labels: np.ndarray) -> float:
        """Argmax of output spike counts; ties go to the lowest class index."""
        return float((self.output_counts.argmax(1) == labels).mean())


def output_node(graph: Graph) -> str:
    outputs = graph.output_names
    if len(outputs) != 1 or not isinstance(graph.nodes[outputs[0]], LIF):
        raise SpikedeployError(f"the network must end in one neuron layer to be scored, "
                               f"it ends in {outputs}")
    return outputs[0]


def evaluate(graph: Graph, inputs: np.ndarray, batch: int = 256, device: str = "cpu",
             keep: int = 0, progress: bool = False) -> Evaluation:
    """Run all `inputs` (N, *input_shape, T); keep every neuron's spikes of the first `keep`."""
    out = output_node(graph)
    emulator = Emulator(graph, device)
    totals = dict.fromkeys(graph.neuron_names, 0)
    counts, kept = [], {n: [] for n in graph.neuron_names}
    starts = range(0, len(inputs), batch)
    for start in bar(starts, progress, desc="emulator", unit="batch"):
        chunk = torch.as_tensor(np.asarray(inputs[start:start + batch]))
        spikes = emulator.run(chunk)
        counts.append(spikes[out].sum(-1).cpu().numpy())
        for name in totals:
            totals[name] += int(spikes[name].sum())
            if start < keep:
                kept[name].append(spikes[name][:keep - start].cpu().numpy())
    recorded = {n: np.concatenate(v) for n, v in kept.items() if v}
    return Evaluation(np.concatenate(counts) if counts else np.zeros((0, 0)), totals,
                      len(inputs), int(inputs.shape[-1]), recorded)

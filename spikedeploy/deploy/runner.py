"""Run a graph on Lava for a batch of samples and return every recorded neuron's spikes."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..graph import Graph
from ..progress import bar
from .backends import make_backend
from .network import LavaNetwork


def run_lava(graph: Graph, inputs: np.ndarray, backend: str = "sim",
             record: Iterable[str] | None = None, progress: bool = False,
             conv: str = "fast", reset_interval: int | None = None,
             timeout_s: float | None = None) -> dict[str, np.ndarray]:
    """inputs: (N, *input_shape, T) integers. Returns {neuron: (N, *shape, T) uint8}, plus
    readouts (average layers) by default.

    Each sample starts from zero state. `conv`: Lava Conv's process model on the simulator,
    "fast" (ours, deploy/procs/fastconv.py) or "stock" (Lava's); the spikes are the same.
    `reset_interval`: netx's per-layer reset (see LavaNetwork). The Lava runtime is always
    stopped before returning, also when a sample fails; `timeout_s` (wall clock for the whole
    batch) raises SpikedeployError when exceeded.
    """
    with LavaNetwork(graph, inputs, make_backend(backend, conv), record, reset_interval,
                     timeout_s) as net:
        for _ in bar(range(net.samples), progress, desc=f"lava {backend}", unit="sample"):
            net.run_sample()
        return net.read()

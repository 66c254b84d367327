"""Shared pieces of the benchmarks: the networks, their inputs, timing and peak memory.

Not part of the package: the scripts beside this file import it directly.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikedeploy.graph import LIF, Conv, Dense, Flatten, Graph, Input, SumPool

# Neuron parameters of the benchmark networks: SLAYER-like decays, threshold 1.25 (x 64).
THRESHOLD, CURRENT_DECAY, VOLTAGE_DECAY = 80, 1024, 512


def _conv(rng, c_out, c_in, kernel=3, gain=1.0, **kw) -> Conv:
    """Random even weights on the chip's grid, scaled so that roughly a tenth of the neurons fire
    in a step when about a tenth of the inputs do (calibrated by hand on these networks; the
    cost of either side does not depend on it)."""
    fan_in = c_in * kernel * kernel
    scale = gain * 40 / np.sqrt(fan_in)
    weight = np.clip(np.round(rng.normal(0, scale, (c_out, c_in, kernel, kernel)) / 2) * 2,
                     -256, 254)
    return Conv(weight.astype(np.int64), padding=kernel // 2, **kw)


def lif_layer(shape, rng) -> LIF:
    """A CUBA neuron layer with the benchmark parameters and small random biases."""
    return LIF(shape, THRESHOLD, CURRENT_DECAY, VOLTAGE_DECAY,
               bias_mant=rng.integers(-8, 9, shape[0]))


def resnet(width: int = 32, size: int = 32, seed: int = 0) -> Graph:
    """The benchmark conv ResNet: 2-channel binary events of size x size (as from an event
    camera, 10% of the pixels active per step); stem conv (width);
    a residual block (identity shortcut); 2x2 sum-pool; a residual block to 2 x width channels
    (1x1 projection shortcut); 2x2 sum-pool; dense classifier to 10. 8 conv synapses, 7 neuron
    layers; at 32x32 and width 32 about 34 M multiply-adds per sample and step."""
    rng = np.random.default_rng(seed)
    w, w2, half, quarter = width, 2 * width, size // 2, size // 4
    nodes = {
        "x": Input((2, size, size)),
        "stem": _conv(rng, w, 2, gain=2.0), "n0": lif_layer((w, size, size), rng),
        "b1a": _conv(rng, w, w), "n1a": lif_layer((w, size, size), rng),
        "b1b": _conv(rng, w, w), "b1id": Conv(np.full((w, 1, 1, 1), 64), groups=w),
        "n1b": lif_layer((w, size, size), rng),
        "p1": SumPool(2, 64), "np1": lif_layer((w, half, half), rng),
        "b2a": _conv(rng, w2, w), "n2a": lif_layer((w2, half, half), rng),
        "b2b": _conv(rng, w2, w2), "b2proj": _conv(rng, w2, w, kernel=1),
        "n2b": lif_layer((w2, half, half), rng),
        "p2": SumPool(2, 64), "np2": lif_layer((w2, quarter, quarter), rng),
        "flat": Flatten(),
        "fc": Dense(np.clip(rng.integers(-40, 41, (10, w2 * quarter * quarter)) * 2, -256, 254)),
        "out": lif_layer((10,), rng),
    }
    edges = [("x", "stem"), ("stem", "n0"), ("n0", "b1a"), ("b1a", "n1a"), ("n1a", "b1b"),
             ("b1b", "n1b"), ("n0", "b1id"), ("b1id", "n1b"), ("n1b", "p1"), ("p1", "np1"),
             ("np1", "b2a"), ("b2a", "n2a"), ("n2a", "b2b"), ("b2b", "n2b"), ("np1", "b2proj"),
             ("b2proj", "n2b"), ("n2b", "p2"), ("p2", "np2"), ("np2", "flat"), ("flat", "fc"),
             ("fc", "out")]
    return Graph(nodes, edges, {"benchmark": "resnet", "width": width, "size": size})


def conv_chain(depth: int, width: int, size: int = 32, seed: int = 0) -> Graph:
    """Binary input -> depth x (3x3 conv, width channels, size x size -> LIF)."""
    rng = np.random.default_rng(seed)
    nodes, edges, previous = {"x": Input((width, size, size))}, [], "x"
    for i in range(depth):
        nodes[f"c{i}"] = _conv(rng, width, width)
        nodes[f"n{i}"] = lif_layer((width, size, size), rng)
        edges += [(previous, f"c{i}"), (f"c{i}", f"n{i}")]
        previous = f"n{i}"
    return Graph(nodes, edges, {"benchmark": "conv_chain", "depth": depth, "width": width})


def image_inputs(graph: Graph, samples: int, steps: int, seed: int = 0) -> np.ndarray:
    """(N, C, H, W, T): 8-bit images shown every step (direct encoding), or binary spikes at a
    rate of 0.1 for a binary input."""
    rng = np.random.default_rng(seed)
    node = graph.nodes[graph.input_name]
    if node.message_bits:
        frames = rng.integers(0, 1 << node.message_bits, (samples, *node.shape, 1))
        return np.repeat(frames, steps, axis=-1)
    return (rng.random((samples, *node.shape, steps)) < 0.1).astype(np.int64)


def macs_per_step(graph: Graph) -> int:
    """Multiply-adds per sample and time step of all synapses (dense counting)."""
    total = 0
    for name in graph.order:
        node, out = graph.nodes[name], graph.shapes[name]
        if isinstance(node, Conv):
            total += int(np.prod(out)) * int(np.prod(node.weight.shape[1:]))
        elif isinstance(node, SumPool):
            total += int(np.prod(out)) * node.kernel[0] * node.kernel[1]
        elif isinstance(node, Dense):
            total += node.weight.size
    return total


# -- measuring ----------------------------------------------------------------------------------
def _tree_pss_bytes(pid: int) -> int:
    """Proportional resident memory (PSS) of a process and all its descendants (Linux /proc):
    pages shared between Lava's forked processes count once in total, not once per process."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        todo += [int(c) for c in children]
    return total


@dataclass
class Peak:
    """Peak memory (PSS) of this process tree while a block ran, and what it was before."""

    baseline: int = 0
    peak: int = 0
    samples: list = field(default_factory=list)

    @property
    def peak_mib(self) -> float:
        return self.peak / 2**20


@contextmanager
def peak_memory(interval_s: float = 0.05):
    """Sample the PSS of this process and its children (Lava's processes) every interval."""
    result, stop = Peak(), threading.Event()
    result.baseline = result.peak = _tree_pss_bytes(os.getpid())

    def sample():
        while not stop.is_set():
            result.peak = max(result.peak, _tree_pss_bytes(os.getpid()))
            stop.wait(interval_s)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result.peak = max(result.peak, _tree_pss_bytes(os.getpid()))


@contextmanager
def stopwatch():
    box = {}
    start = time.perf_counter()
    yield box
    box["s"] = time.perf_counter() - start


def best_seconds(run, repeats: int) -> float:
    """Call `run` once to warm up (JIT, allocator, caches), then return its fastest of
    `repeats` timed calls, in seconds."""
    run()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    import torch
    return (f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, torch "
            f"{torch.__version__} ({torch.get_num_threads()} threads), load average {load:.2f}")


def table(rows: list[tuple]) -> str:
    rows = [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w)
                       for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

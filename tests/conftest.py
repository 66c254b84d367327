"""Shared fixtures: small random graphs with every node type, seeded; where lava-dl keeps its
networks with ground truth; and a fixed, derandomized hypothesis profile for CI."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from spikedeploy.graph import LIF, Conv, Dense, Flatten, Graph, Input, SumPool

# Fixed examples in CI (same every run); HYPOTHESIS_PROFILE=dev explores new ones locally.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# lava-dl's wheel installs its own tests, with trained netx networks and recorded ground truth.
LAVA_DL_NETX = Path(sysconfig.get_paths()["purelib"]) / "tests" / "lava" / "lib" / "dl" / "netx"
needs_lava_dl_data = pytest.mark.skipif(not LAVA_DL_NETX.is_dir(),
                                        reason=f"lava-dl's test data not found at {LAVA_DL_NETX}")


def random_lif(rng: np.random.Generator, shape, bias: bool = True) -> LIF:
    return LIF(shape=shape, threshold_mant=int(rng.integers(16, 96)),
               current_decay_12bit=int(rng.integers(0, 4097)),
               voltage_decay_12bit=int(rng.integers(0, 4097)),
               bias_mant=rng.integers(-30, 30, shape[0]) if bias else None)


def grid_weights(rng: np.random.Generator, *shape, scale: int = 60) -> np.ndarray:
    """Even integers: the chip's 8-bit grid."""
    return rng.integers(-scale, scale, shape) * 2


def residual_graph(seed: int = 0, channels: int = 4, message_bits: int = 0,
                   size: int = 8) -> Graph:
    """input -> conv -> LIF -> [conv -> LIF (+ identity skip)] -> sum-pool -> LIF
    -> [conv -> LIF (+ 1x1 projection skip)] -> flatten -> dense -> LIF."""
    rng = np.random.default_rng(seed)
    c, wide, half = channels, channels + 2, size // 2
    nodes = {
        "x": Input((2, size, size), message_bits=message_bits),
        "c1": Conv(grid_weights(rng, c, 2, 3, 3), padding=1),
        "n1": random_lif(rng, (c, size, size)),
        "c2": Conv(grid_weights(rng, c, c, 3, 3), padding=1),
        "n2": random_lif(rng, (c, size, size)),
        "id": Conv(np.eye(c, dtype=np.int64).reshape(c, c, 1, 1) * 64),
        "pool": SumPool(kernel=2, weight=64), "np": random_lif(rng, (c, half, half)),
        "c3": Conv(grid_weights(rng, wide, c, 3, 3), padding=1),
        "n3": random_lif(rng, (wide, half, half)),
        "proj": Conv(grid_weights(rng, wide, c, 1, 1)),
        "flat": Flatten(), "fc": Dense(grid_weights(rng, 10, wide * half * half)),
        "out": random_lif(rng, (10,)),
    }
    edges = [("x", "c1"), ("c1", "n1"), ("n1", "c2"), ("c2", "n2"), ("n1", "id"), ("id", "n2"),
             ("n2", "pool"), ("pool", "np"), ("np", "c3"), ("c3", "n3"), ("np", "proj"),
             ("proj", "n3"), ("n3", "flat"), ("flat", "fc"), ("fc", "out")]
    return Graph(nodes, edges, {"seed": seed})


def random_inputs(graph: Graph, samples: int, steps: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    node = graph.nodes[graph.input_name]
    shape = (samples, *node.shape, steps)
    if node.message_bits:
        return rng.integers(0, 1 << node.message_bits, shape)
    return (rng.random(shape) < 0.3).astype(np.int64)


@pytest.fixture
def residual():
    return residual_graph()

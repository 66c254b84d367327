"""Benchmark 2: our process model for Lava's Conv against Lava's stock fixed-point model.

For each layer (3x3 convolutions, 32-64 channels, binary input spikes at a rate of 0.1) both
models run in this one process, in two ways:
  * in Lava: input -> Conv -> LIF, as our deploy builds it, one sample of --steps steps after a
    warm-up sample; ms per time step of the whole small network (runtime overhead included);
  * the model's computation alone, per step, as its run_spk calls it (best of --repeats).
The recorded spikes of both Lava runs are compared.

    python bench/lava_conv.py            # four layers, about 3 minutes
    python bench/lava_conv.py --quick    # a smoke test
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from benchlib import best_seconds, lif_layer, machine, table
from lava.proc.conv import utils
from threadpoolctl import threadpool_limits

from spikedeploy.deploy.backends import make_backend
from spikedeploy.deploy.builders import lava_conv_weight
from spikedeploy.deploy.network import LavaNetwork
from spikedeploy.deploy.procs.fastconv import conv_lava_exact
from spikedeploy.graph import Conv, Input, chain

LAYERS = [(32, 32, 32), (32, 64, 32), (64, 64, 16), (64, 64, 32)]   # (C_in, C_out, size)


def layer_graph(c_in: int, c_out: int, size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    weight = rng.integers(-20, 21, (c_out, c_in, 3, 3)) * 2
    return chain([("x", Input((c_in, size, size))), ("conv", Conv(weight, padding=1)),
                  ("n", lif_layer((c_out, size, size), rng))])


def lava_ms_per_step(graph, inputs: np.ndarray, conv: str) -> tuple[float, dict]:
    with LavaNetwork(graph, inputs, make_backend("sim", conv)) as net:
        net.run_sample()                                   # warm-up: compile, start processes
        started = time.perf_counter()
        net.run_sample()
        elapsed = time.perf_counter() - started
        return elapsed * 1e3 / inputs.shape[-1], net.read()


def compute_ms_per_step(graph, frame: np.ndarray, repeats: int) -> tuple[float, float]:
    """The two models' own work for one step: Lava's utils.conv + 24-bit clamp (the stock
    model) and conv_lava_exact (ours, one BLAS thread as in Lava)."""
    node = graph.nodes["conv"]
    weight = lava_conv_weight(node.weight)
    x = np.ascontiguousarray(frame.transpose(2, 1, 0)).astype(np.int32)   # Lava's (x, y, c)
    args = ((1, 1), (1, 1), (1, 1), 1)

    def stock():
        sums = utils.conv(x.astype(bool), weight, weight.shape[1:3], *args)
        return utils.signed_clamp(sums, bits=24)

    def ours():
        return conv_lava_exact(x, weight, *args)

    times = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for name, fn in (("stock", stock), ("fast", ours)):
            times[name] = best_seconds(fn, repeats) * 1e3
        assert np.array_equal(stock(), ours())
    return times["stock"], times["fast"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one small layer: a smoke test")
    args = parser.parse_args(argv)
    layers = [(8, 8, 16)] if args.quick else LAYERS
    steps = 4 if args.quick else args.steps
    print(f"machine: {machine()}")
    print(f"command: {' '.join(sys.argv)}\n")
    rows = [("layer (C_in->C_out, HxW)", "Lava stock ms/step", "Lava fast ms/step", "ratio",
             "stock compute ms", "fast compute ms", "ratio", "same spikes")]
    all_same = True
    for c_in, c_out, size in layers:
        graph = layer_graph(c_in, c_out, size)
        rng = np.random.default_rng(1)
        inputs = (rng.random((2, c_in, size, size, steps)) < 0.1).astype(np.int64)
        stock_ms, stock_spikes = lava_ms_per_step(graph, inputs, "stock")
        fast_ms, fast_spikes = lava_ms_per_step(graph, inputs, "fast")
        same = np.array_equal(stock_spikes["n"], fast_spikes["n"])
        all_same &= same
        stock_c, fast_c = compute_ms_per_step(graph, inputs[0, ..., 0], args.repeats)
        rows.append((f"{c_in}->{c_out}, {size}x{size}", f"{stock_ms:.1f}", f"{fast_ms:.2f}",
                     f"{stock_ms / fast_ms:.1f}x", f"{stock_c:.1f}", f"{fast_c:.2f}",
                     f"{stock_c / fast_c:.0f}x", str(same)))
    print(table(rows))
    print("\nLava ms/step: the whole input -> Conv -> LIF network per time step (Lava's runtime "
          "overhead included); compute: the model's convolution alone, per step.")
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())

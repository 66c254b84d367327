"""Benchmark 3: how the emulator's cost grows with network depth and width.

Chains of 3x3 convolutions (binary input, every layer width channels at size x size, each
followed by a CUBA neuron layer), run at one batch size; reported per sample and time step,
with the dense multiply-adds of the synapses and the rate they are done at. Everything runs in
this one process.

    python bench/emulator_scaling.py            # depth 1-16 at width 32, width 8-128 at depth 4
    python bench/emulator_scaling.py --quick    # a smoke test
"""

from __future__ import annotations

import argparse
import sys

import torch
from benchlib import best_seconds, conv_chain, image_inputs, machine, macs_per_step, table

from spikedeploy.sim import Emulator


def measure(graph, batch: int, steps: int, repeats: int) -> float:
    """Best seconds per sample and time step."""
    emulator = Emulator(graph)
    x = torch.as_tensor(image_inputs(graph, batch, steps))
    out = graph.output_names[-1]
    return best_seconds(lambda: emulator.run(x, record=[out]), repeats) / (batch * steps)


def sweep(name: str, configs, args) -> list[tuple]:
    print(f"growing the {name}:")
    rows = [("depth", "width", "M MAC/step", "us / sample-step", "us / layer", "GMAC/s",
             "samples x steps / s")]
    for depth, width in configs:
        graph = conv_chain(depth, width, args.size)
        seconds = measure(graph, args.batch, args.steps, args.repeats)
        macs = macs_per_step(graph)
        rows.append((depth, width, f"{macs / 1e6:.1f}", f"{seconds * 1e6:.0f}",
                     f"{seconds * 1e6 / depth:.0f}", f"{macs / seconds / 1e9:.1f}",
                     f"{1 / seconds:.0f}"))
        print(f"  {name}: depth {depth}, width {width} done", file=sys.stderr, flush=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch threads (default: one per core)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    args = parser.parse_args(argv)
    depths, widths = [1, 2, 4, 8, 16], [8, 16, 32, 64, 128]
    if args.quick:
        args.size, args.steps, args.repeats = 16, 8, 1
        depths, widths = [1, 2], [8, 16]
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {machine()}")
    print(f"command: {' '.join(sys.argv)}")
    print(f"conv chains at {args.size}x{args.size}, batch {args.batch}, {args.steps} steps\n")
    width, depth = (8, 2) if args.quick else (32, 4)
    print(table(sweep("depth", [(d, width) for d in depths], args)), flush=True)
    print()
    print(table(sweep("width", [(depth, w) for w in widths], args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

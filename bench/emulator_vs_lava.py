"""Benchmark 1: the emulator against the Lava CPU simulator on the same conv ResNet and inputs.

Both sides run in this one process (Lava's runtime starts its own processes) on the same
samples, and the spikes of every neuron layer are compared. Throughput is samples x time steps
per second; Lava's is measured after a first warm-up sample (compilation, process start-up),
the emulator's as the best of --repeats runs after a warm-up run. Peak memory is the highest
proportional resident memory (PSS: pages shared between processes counted once) of this process
and its children while a side runs, including this process's own baseline (Python, torch,
Lava imported), which is printed too. The emulator runs first, smallest batch first, so that
memory freed by an earlier measurement does not inflate a later one.

    python bench/emulator_vs_lava.py                 # 32x32 input, width 32/64 (~10 minutes)
    python bench/emulator_vs_lava.py --quick         # a smoke test, a minute
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch
from benchlib import best_seconds, image_inputs, machine, macs_per_step, peak_memory, resnet, table

from spikedeploy.deploy.backends import make_backend
from spikedeploy.deploy.network import LavaNetwork
from spikedeploy.sim import Emulator


def lava_throughput(graph, inputs: np.ndarray, conv: str) -> dict:
    """Run sample 0 as warm-up, then time the others; returns rates and the recorded spikes."""
    steps = inputs.shape[-1]
    with peak_memory() as memory:
        started = time.perf_counter()
        with LavaNetwork(graph, inputs, make_backend("sim", conv)) as net:
            net.run_sample()
            warm = time.perf_counter()
            for _ in range(1, net.samples):
                net.run_sample()
            timed = time.perf_counter() - warm
            spikes = net.read()
    rate = (len(inputs) - 1) * steps / timed
    return {"side": f"Lava simulator, {conv} Conv model", "rate": rate,
            "ms_per_step": 1e3 / rate, "startup_s": warm - started,
            "peak_mib": memory.peak_mib, "spikes": spikes}


def emulator_throughput(graph, inputs: np.ndarray, batch: int, threads: int, repeats: int
                        ) -> dict:
    torch.set_num_threads(threads)
    emulator, steps = Emulator(graph), inputs.shape[-1]
    x = torch.as_tensor(inputs[:batch])
    out = graph.output_names[-1]
    with peak_memory() as memory:
        best = best_seconds(lambda: emulator.run(x, record=[out]), repeats)
    rate = batch * steps / best
    return {"side": f"emulator, batch {batch}, {threads} thread(s)", "batch": batch,
            "threads": threads, "rate": rate,
            "ms_per_step": 1e3 / rate, "peak_mib": memory.peak_mib}


def compare_spikes(graph, inputs: np.ndarray, lava_spikes: dict) -> tuple[int, int]:
    """(differing entries, all entries) over every neuron layer, step and sample."""
    emulated = Emulator(graph).run(torch.as_tensor(inputs))
    differing = sum(int((lava_spikes[n] != emulated[n].numpy()).sum()) for n in graph.neuron_names)
    total = sum(lava_spikes[n].size for n in graph.neuron_names)
    return differing, total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--lava-samples", type=int, default=3,
                        help="samples through Lava, the first one a warm-up (default: 3)")
    parser.add_argument("--batches", default="1,2,4,8,16,32,64")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-fast-conv", action="store_true",
                        help="skip the extra Lava run with our fast Conv model")
    parser.add_argument("--threads", default=f"1,{torch.get_num_threads()}",
                        help="torch thread counts to run the emulator with (default: 1 and "
                             "torch's default, one per core; on a busy machine one thread can "
                             "be much faster)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.width, args.size, args.steps, args.lava_samples = 8, 16, 8, 2
        args.batches, args.repeats = "1,4", 1
    batches = [int(b) for b in args.batches.split(",")]
    threads = sorted({int(t) for t in args.threads.split(",")})
    graph = resnet(args.width, args.size)
    inputs = image_inputs(graph, max(batches + [args.lava_samples]), args.steps, seed=1)
    print(f"machine: {machine()}")
    print(f"command: {' '.join(sys.argv)}")
    print(f"network: conv ResNet, input {graph.shapes[graph.input_name]}, width {args.width}, "
          f"{macs_per_step(graph) / 1e6:.1f} M multiply-adds per sample and step, "
          f"{args.steps} steps per sample\n")

    with peak_memory() as baseline:
        pass
    print(f"baseline memory of this process (PSS): {baseline.peak_mib:.0f} MiB")
    emulator = [emulator_throughput(graph, inputs, b, t, args.repeats)
                for b in sorted(batches) for t in threads]
    at_batch_1 = max((r for r in emulator if r["batch"] == min(batches)), key=lambda r: r["rate"])
    lava = [lava_throughput(graph, inputs[:args.lava_samples], "stock")]
    if not args.no_fast_conv:
        lava.append(lava_throughput(graph, inputs[:args.lava_samples], "fast"))
    differing, total = compare_spikes(graph, inputs[:args.lava_samples], lava[0]["spikes"])
    fast_same = all(np.array_equal(lava[0]["spikes"][n], lava[-1]["spikes"][n])
                    for n in graph.neuron_names)

    stock = lava[0]["rate"]
    best = max(emulator, key=lambda r: r["rate"])
    rows = [("side", "samples x steps / s", "ms / step", "peak MiB (PSS)", "vs stock Lava")]
    for r in lava + emulator:
        rows.append((r["side"], f"{r['rate']:.2f}", f"{r['ms_per_step']:.3f}",
                     f"{r['peak_mib']:.0f}", f"{r['rate'] / stock:.1f}x"))
    print(table(rows))
    print("\nLava start-up (first sample, compile + processes): "
          + ", ".join(f"{r['side']}: {r['startup_s']:.1f} s" for r in lava))
    print(f"emulator vs stock Lava: {at_batch_1['rate'] / stock:.0f}x at batch "
          f"{at_batch_1['batch']} ({at_batch_1['threads']} thread(s)), {best['rate'] / stock:.0f}x "
          f"at the best batch ({best['batch']}, {best['threads']} thread(s))")
    print(f"spikes, Lava (stock) vs emulator: {differing} of {total} entries differ"
          f"{'' if differing else ' (identical)'}; Lava fast vs stock Conv identical: "
          f"{fast_same}")
    if args.json:
        results = {"machine": machine(), "argv": sys.argv, "differing": differing,
                   "total": total, "rows": [{k: v for k, v in r.items() if k != "spikes"}
                                            for r in lava + emulator]}
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)
    return 0 if differing == 0 and fast_same else 1


if __name__ == "__main__":
    sys.exit(main())

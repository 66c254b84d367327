"""Profiling a whole held-out split vs scoring it on the emulator, measured side by side.

    python bench/profile_vs_evaluate.py                       # demo architecture, digits
    python bench/profile_vs_evaluate.py runs/demo/network.h5  # a trained network file

Without a file it builds the demo preset's network with its initial (untrained) weights:
the emulator's cost does not depend on the weights. Each repeat times `evaluate` and then
`profile` on the same inputs, same batch size, same thread count; the ratio uses the fastest
of each. The target is profile <= 2x evaluate.
"""

from __future__ import annotations

import argparse
import time

import torch

from spikedeploy import graph as graphio
from spikedeploy.config import load
from spikedeploy.sim.evaluate import evaluate
from spikedeploy.sim.profile import profile
from spikedeploy.train.data import frames, load_splits, message_bits


def demo_network(cfg):
    from spikedeploy.export import export_model
    from spikedeploy.train.resnet import build_model

    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg.model, (1, 8, 8), 10, message_bits(cfg.data, 16))
    model.set_quantized(True)
    return export_model(model)


def fastest(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", nargs="?", help="network file (default: demo architecture)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load("demo")
    graph = graphio.read(args.network) if args.network else demo_network(cfg)
    inputs = frames(load_splits(cfg.data).heldout, cfg.data)
    evaluate(graph, inputs[:8], args.batch)                      # warm-up
    t_eval = fastest(lambda: evaluate(graph, inputs, args.batch), args.repeats)
    t_prof = fastest(lambda: profile(graph, inputs, batch=args.batch), args.repeats)
    print(f"{len(inputs)} samples x {inputs.shape[-1]} steps, batch {args.batch}, "
          f"{args.threads} threads, best of {args.repeats}")
    print(f"evaluate (emulator):       {t_eval:.3f} s")
    print(f"profile (counts + energy): {t_prof:.3f} s")
    print(f"ratio profile / evaluate:  {t_prof / t_eval:.2f}  (target <= 2)")


if __name__ == "__main__":
    main()

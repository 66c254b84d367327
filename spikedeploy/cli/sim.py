"""spikedeploy sim: run a network file on the bit-exact emulator (fast, batched, CPU or CUDA)."""

from __future__ import annotations

import time
from pathlib import Path

from .common import EXAMPLES, add_input_args, add_reset_arg, load_inputs

EPILOG = """examples:
  spikedeploy sim runs/demo/network.h5                       # whole held-out split
  spikedeploy sim net.h5 --input x.npy --labels y.npy --record rec.npz
  spikedeploy sim net.h5 --device cuda --batch 1024
  spikedeploy sim pilotnet.net --input image.npy --steps 24 --reset-interval 17 --record r.npz

Reads our files and lava-dl's netx files. Prints accuracy (when labels are known) and spikes
per layer; --record writes every neuron's spikes and every average readout (.npz, one array per
node, in --layout)."""


def register(sub) -> None:
    p = sub.add_parser("sim", help="run a network on the fixed-point emulator",
                       description=__doc__, epilog=EPILOG, formatter_class=EXAMPLES)
    p.add_argument("network", type=Path)
    add_input_args(p)
    p.add_argument("--record", type=Path,
                   help="write every neuron's spikes and average readout to this .npz")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument("--batch", type=int, default=256, help="samples per batch (default: 256)")
    p.add_argument("--threads", type=int,
                   help="CPU threads for torch (default: one per core; on a busy machine one "
                        "thread can be much faster)")
    add_reset_arg(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(load=lambda: run)


def run(args) -> int:
    from .. import graph as graphio
    from ..recording import save_recording
    from ..report import layer_table
    from ..sim.evaluate import evaluate

    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    graph = graphio.read(args.network)
    inputs, labels = load_inputs(graph, args)
    keep = len(inputs) if args.record else 0
    started = time.perf_counter()
    result = evaluate(graph, inputs, args.batch, args.device, keep=keep,
                      progress=not args.no_progress, reset_interval=args.reset_interval)
    elapsed_s = time.perf_counter() - started
    print(f"emulated {result.samples} samples x {result.steps} steps in {elapsed_s:.2f} s "
          f"({result.samples * result.steps / max(elapsed_s, 1e-9):.0f} sample-steps / s)")
    if labels is not None:
        print(f"accuracy: {result.accuracy(labels):.4f} on {len(inputs)} samples")
    print(layer_table(graph, result.spikes_per_node, result.samples, result.steps))
    if args.record:
        save_recording(args.record, result.recorded,
                       {"source": "emulator", "network": str(args.network)}, args.layout)
        print(f"wrote {args.record}")
    return 0

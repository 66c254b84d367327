"""spikedeploy deploy: run a network file as Lava processes (CPU simulator or Loihi 2)."""

from __future__ import annotations

from pathlib import Path

from .common import EXAMPLES, add_input_args, load_inputs

EPILOG = """examples:
  spikedeploy deploy runs/demo/network.h5 --limit 10         # Lava CPU simulator
  spikedeploy deploy net.h5 --limit 10 --compare             # and check against the emulator
  spikedeploy deploy net.h5 --backend loihi2                 # needs Intel's lava-loihi

Every sample starts from zero state; the Lava runtime is stopped also when something fails.
The CPU simulator takes 0.1-1 s per time step for a small conv net: use --limit."""


def register(sub) -> None:
    p = sub.add_parser("deploy", help="run a network on Lava (simulator or Loihi 2)",
                       description=__doc__, epilog=EPILOG, formatter_class=EXAMPLES)
    p.add_argument("network", type=Path)
    add_input_args(p)
    p.add_argument("--backend", choices=("sim", "loihi2"), default="sim")
    p.add_argument("--record", type=Path, help="write every neuron's spikes to this .npz")
    p.add_argument("--compare", action="store_true",
                   help="also run the emulator and report spike-for-spike agreement")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(load=lambda: run)


def run(args) -> int:
    from .. import graph as graphio
    from ..deploy import run_lava
    from ..recording import save_recording
    from ..report import agreement, layer_table
    from ..sim.evaluate import evaluate, output_node

    graph = graphio.read(args.network)
    inputs, labels = load_inputs(graph, args)
    spikes = run_lava(graph, inputs, args.backend, progress=not args.no_progress)
    out = output_node(graph)
    if labels is not None:
        correct = (spikes[out].sum(-1).argmax(1) == labels).mean()
        print(f"accuracy: {correct:.4f} on {len(inputs)} samples (Lava {args.backend})")
    totals = {n: int(v.sum()) for n, v in spikes.items()}
    print(layer_table(graph, totals, len(inputs), inputs.shape[-1]))
    if args.compare:
        emulated = evaluate(graph, inputs, keep=len(inputs)).recorded
        overall, per_node = agreement(spikes, emulated, graph.neuron_names)
        worst = min(per_node, key=per_node.get)
        print(f"spike agreement with the emulator: {overall:.6f} (lowest: {worst} "
              f"{per_node[worst]:.6f})")
    if args.record:
        save_recording(args.record, spikes, {"source": f"lava-{args.backend}",
                                             "network": str(args.network)}, args.layout)
        print(f"wrote {args.record}")
    return 0

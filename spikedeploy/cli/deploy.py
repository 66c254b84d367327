"""spikedeploy deploy: run a network file as Lava processes (CPU simulator or Loihi 2)."""

from __future__ import annotations

from pathlib import Path

from .common import EXAMPLES, add_input_args, add_reset_arg, load_inputs

EPILOG = """examples:
  spikedeploy deploy runs/demo/network.h5 --limit 10         # Lava CPU simulator
  spikedeploy deploy net.h5 --limit 10 --compare             # and check against the emulator
  spikedeploy deploy net.h5 --limit 2 --conv stock           # Lava's own (slow) Conv model
  spikedeploy deploy net.h5 --backend loihi2                 # needs Intel's lava-loihi
  spikedeploy deploy net.h5 --limit 100 --timeout 600        # stop Lava after 10 minutes

Every sample starts from zero state; the Lava runtime is stopped, and its processes end, also
when something fails, the timeout passes or you press Ctrl-C.
Reads our files and lava-dl's netx files. The simulator runs Lava's Conv process with our
bit-exact fast model by default (same spikes as Lava's, which takes 0.1-1 s per time step for a
small conv net); the rest is Lava's own and slow anyway: use --limit."""


def register(sub) -> None:
    p = sub.add_parser("deploy", help="run a network on Lava (simulator or Loihi 2)",
                       description=__doc__, epilog=EPILOG, formatter_class=EXAMPLES)
    p.add_argument("network", type=Path)
    add_input_args(p)
    p.add_argument("--backend", choices=("sim", "loihi2"), default="sim")
    p.add_argument("--conv", choices=("fast", "stock"), default="fast",
                   help="process model of Lava's Conv on the simulator: ours or Lava's own; "
                        "same spikes (default: fast)")
    add_reset_arg(p)
    p.add_argument("--record", type=Path,
                   help="write every neuron's spikes and average readout to this .npz")
    p.add_argument("--compare", action="store_true",
                   help="also run the emulator and report spike-for-spike agreement")
    p.add_argument("--timeout", type=float, metavar="S",
                   help="give up (and stop Lava) when the run takes longer than S seconds of "
                        "wall clock, compiling included (default: no limit)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(load=lambda: run)


def run(args) -> int:
    from .. import graph as graphio
    from ..deploy import run_lava
    from ..errors import SpikedeployError
    from ..recording import save_recording
    from ..report import agreement, layer_table
    from ..sim.evaluate import evaluate, output_node, recorded_nodes

    graph = graphio.read(args.network)
    inputs, labels = load_inputs(graph, args)
    try:
        spikes = run_lava(graph, inputs, args.backend, record=recorded_nodes(graph),
                          progress=not args.no_progress, conv=args.conv,
                          reset_interval=args.reset_interval, timeout_s=args.timeout)
    except SpikedeployError as err:     # a timeout: say which network's run it was
        raise SpikedeployError(err.message, err.path or args.network) from None
    out = output_node(graph)
    if labels is not None:
        correct = (spikes[out].sum(-1).argmax(1) == labels).mean()
        print(f"accuracy: {correct:.4f} on {len(inputs)} samples (Lava {args.backend})")
    totals = {n: int(spikes[n].sum()) for n in graph.neuron_names}
    print(layer_table(graph, totals, len(inputs), inputs.shape[-1]))
    if args.compare:
        emulated = evaluate(graph, inputs, keep=len(inputs),
                            reset_interval=args.reset_interval).recorded
        overall, per_node = agreement(spikes, emulated, recorded_nodes(graph))
        worst = min(per_node, key=per_node.get)
        print(f"spike agreement with the emulator: {overall:.6f} (lowest: {worst} "
              f"{per_node[worst]:.6f})")
    if args.record:
        save_recording(args.record, spikes, {"source": f"lava-{args.backend}",
                                             "network": str(args.network)}, args.layout)
        print(f"wrote {args.record}")
    return 0

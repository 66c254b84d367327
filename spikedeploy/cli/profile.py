"""spikedeploy profile: spikes, synaptic operations, energy per inference and chip resources of
a network on a data set, from the emulator or from a recording (Lava, training, emulator)."""

from __future__ import annotations

from pathlib import Path

from .common import EXAMPLES, add_input_args, load_inputs

EPILOG = """examples:
  spikedeploy profile runs/demo/network.h5                  # whole held-out split, emulator
  spikedeploy profile net.h5 --input x.npy --out prof/      # your own input
  spikedeploy deploy net.h5 --limit 10 --record lava.npz
  spikedeploy profile net.h5 --recording lava.npz           # counts of the Lava run
  spikedeploy profile net.h5 --energy-model loihi-sanafe --energy-model my-loihi2.toml

Writes profile.json, layers.csv and plots/*.png into --out (default: profile/ beside the
network). Built-in energy models: loihi-davies2018, loihi-sanafe, ann-horowitz2014-fp32,
ann-horowitz2014-int8; Loihi 2 has no published per-operation energies: pass your own file."""


def register(sub) -> None:
    p = sub.add_parser("profile", help="count spikes and synaptic ops, estimate energy and "
                       "chip resources", description=__doc__, epilog=EPILOG,
                       formatter_class=EXAMPLES)
    p.add_argument("network", type=Path)
    add_input_args(p)
    p.add_argument("--recording", type=Path,
                   help="profile this .npz recording (from sim/deploy --record) instead of "
                        "running the emulator; it must come from the first samples of the input")
    p.add_argument("--energy-model", action="append", metavar="NAME|FILE",
                   help="energy model to apply (repeatable; default: all built-in models)")
    p.add_argument("--chip", default="loihi2", help="chip limits: a name in "
                   "sim/profile/chips or a TOML file (default: loihi2)")
    p.add_argument("--out", type=Path, help="output folder (default: profile/ beside the network)")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument("--batch", type=int, default=256, help="samples per batch (default: 256)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(load=lambda: run)


def _recording(path: Path, graph, inputs):
    from ..errors import SpikedeployError
    from ..recording import load_recording
    from ..sim.profile.profiler import check_recording

    spikes, meta = load_recording(path)
    samples = {len(v) for v in spikes.values()}
    if len(samples) != 1 or next(iter(samples)) > len(inputs):
        raise SpikedeployError(f"the recording holds {sorted(samples)} samples, the input "
                               f"{len(inputs)}; record from the same input", path)
    inputs = inputs[:next(iter(samples))]
    try:
        check_recording(graph, inputs, spikes)
    except SpikedeployError as err:          # name the file the problem is in
        raise SpikedeployError(err.message, path) from None
    return spikes, inputs, str(meta.get("source", "recording"))


def run(args) -> int:
    from .. import graph as graphio
    from ..sim.profile import DEFAULT_MODELS, profile
    from ..sim.profile.plots import write_plots
    from ..sim.profile.report import text_report, write_csv, write_json

    graph = graphio.read(args.network)
    inputs, _ = load_inputs(graph, args)
    recording, source = None, "emulator"
    if args.recording:
        recording, inputs, source = _recording(args.recording, graph, inputs)
    result = profile(graph, inputs, recording, source=source,
                     models=args.energy_model or DEFAULT_MODELS, chip=args.chip,
                     batch=args.batch, device=args.device, progress=not args.no_progress)
    print(text_report(result))
    out = args.out or args.network.parent / "profile"
    write_json(result, out / "profile.json")
    write_csv(result, out / "layers.csv")
    written = [out / "profile.json", out / "layers.csv"]
    if not args.no_plots:
        written += write_plots(result, out / "plots")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0

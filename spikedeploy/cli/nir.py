"""spikedeploy nir: exchange networks with other frameworks through NIR (neuromorphs/NIR)."""

from __future__ import annotations

from pathlib import Path

from .common import EXAMPLES

EPILOG = """examples:
  spikedeploy nir export runs/demo/network.h5 net.nir       # to snnTorch, Norse, ...
  spikedeploy nir import net.nir net.h5 --report q.json     # quantize onto Loihi
  spikedeploy sim net.h5 --input x.npy                      # then run it as any network

Time constants are read for a step of --dt seconds (default: the file's own, else 1e-4 s, the
step snnTorch exports and imports with). Every synapse takes one step on Loihi, which NIR
does not model: see docs/nir.md for what that means for an imported network."""


def register(sub) -> None:
    p = sub.add_parser("nir", help="export to or import from NIR (other SNN frameworks)",
                       description=__doc__, epilog=EPILOG, formatter_class=EXAMPLES)
    nsub = p.add_subparsers(dest="nir_command", metavar="{export,import}", required=True)
    e = nsub.add_parser("export", help="network file -> .nir", epilog=EPILOG,
                        formatter_class=EXAMPLES)
    e.add_argument("network", type=Path)
    e.add_argument("out", type=Path, help=".nir file to write")
    e.add_argument("--dt", type=float, help="seconds per time step (default: 1e-4)")
    e.set_defaults(load=lambda: run_export)
    i = nsub.add_parser("import", help=".nir -> network file on Loihi's fixed point",
                        epilog=EPILOG, formatter_class=EXAMPLES)
    i.add_argument("nir_file", type=Path, metavar="in.nir")
    i.add_argument("out", type=Path, help="network file (.h5) to write")
    i.add_argument("--report", type=Path, help="also write the quantization report (JSON)")
    i.add_argument("--dt", type=float,
                   help="seconds per time step (default: the file's, else 1e-4)")
    i.set_defaults(load=lambda: run_import)


def run_export(args) -> int:
    from .. import graph as graphio
    from ..nir import to_nir, write_nir
    from ..nir.units import DEFAULT_DT_SECONDS

    graph = graphio.read(args.network)
    nir_graph = _with_path(args.network, lambda: to_nir(graph, args.dt or DEFAULT_DT_SECONDS))
    write_nir(nir_graph, args.out)
    print(f"wrote {args.out} ({len(nir_graph.nodes)} NIR nodes)")
    return 0


def run_import(args) -> int:
    from .. import graph as graphio
    from ..atomic import write_text
    from ..nir import from_nir, read_nir
    from .info import describe

    nir_graph = read_nir(args.nir_file)
    graph, report = _with_path(args.nir_file, lambda: from_nir(nir_graph, args.dt))
    graphio.write(graph, args.out)
    print(describe(graph))
    print(report.text())
    print(f"wrote {args.out}")
    if args.report:
        write_text(args.report, report.to_json() + "\n")
        print(f"wrote {args.report}")
    return 0


def _with_path(path: Path, convert):
    """Run `convert`, naming `path` in any error that does not name a file yet."""
    from ..errors import SpikedeployError

    try:
        return convert()
    except SpikedeployError as err:
        if err.path is not None:
            raise
        raise SpikedeployError(err.message, path) from None

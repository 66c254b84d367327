"""spikedeploy export: checkpoint -> network.h5 (netx layout, Loihi fixed point)."""

from __future__ import annotations

from pathlib import Path

from .common import EXAMPLES, default_out

EPILOG = """examples:
  spikedeploy export runs/demo/checkpoint.pt                # -> runs/demo/network.h5
  spikedeploy export runs/demo/checkpoint.pt -o net.h5

Weights land on the chip's 8-bit grid through the same quantizer training used; layers the
chip cannot run are refused. The file loads in lava-dl's netx when the network is a chain."""


def register(sub) -> None:
    p = sub.add_parser("export", help="export a checkpoint to an HDF5 network description",
                       description=__doc__, epilog=EPILOG, formatter_class=EXAMPLES)
    p.add_argument("checkpoint", type=Path)
    p.add_argument("-o", "--out", type=Path, help="network file (default: network.h5 beside "
                                                   "the checkpoint)")
    p.set_defaults(load=lambda: run, preload=("lava.lib.dl.slayer",))


def run(args) -> int:
    from .. import graph as graphio
    from ..export import export_model
    from ..train import load_checkpoint
    from .info import describe

    cfg, model = load_checkpoint(args.checkpoint)
    out = args.out or default_out(args.checkpoint, "network.h5")
    graph = export_model(model, {"config": cfg.to_dict(), "source": str(args.checkpoint)})
    graphio.write(graph, out)
    print(describe(graph))
    print(f"wrote {out}")
    return 0

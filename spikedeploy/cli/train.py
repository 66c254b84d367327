"""spikedeploy train: train a spiking network and write its run folder."""

from __future__ import annotations

from pathlib import Path

from .common import EXAMPLES, add_config_args

EPILOG = """examples:
  spikedeploy train                                   # configs/demo.toml into runs/demo
  spikedeploy train --config tiny --out runs/t1 train.qat_epochs=2
  spikedeploy train --out runs/t1 --resume            # continue a killed run

The run folder gets config.toml (resolved), metrics.json, metrics.csv and checkpoint.pt."""


def register(sub) -> None:
    p = sub.add_parser("train", help="train a spiking ResNet (float, then quantized)",
                       description=__doc__, epilog=EPILOG, formatter_class=EXAMPLES)
    add_config_args(p, "demo")
    p.add_argument("--out", type=Path, help="run folder (default: runs/<config name>)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the run folder's checkpoint, if there is one")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(load=lambda: run, preload=("lava.lib.dl.slayer",))


def run(args) -> int:
    from .. import config
    from ..train import train

    cfg = config.load(args.config, args.overrides)
    out = args.out or Path("runs") / cfg.name
    result = train(cfg, out, progress=not args.no_progress, resume=args.resume)
    print(f"held-out accuracy: float {result.float_accuracy:.4f}, "
          f"quantized {result.quantized_accuracy:.4f}")
    print(f"run folder: {out}")
    return 0

"""spikedeploy demo: train, export, emulate and deploy a spiking ResNet on digits, and check
that training, the emulator and the Lava simulator agree spike for spike."""

from __future__ import annotations

from pathlib import Path

from .common import EXAMPLES, add_config_args

EPILOG = """examples:
  spikedeploy demo                              # configs/demo.toml, run folder runs/demo
  spikedeploy demo --config tiny --out runs/t   # the fast preset the tests use
  spikedeploy demo deploy.lava_samples=50

Writes the run folder (config, metrics, checkpoint, network.h5) and summary.json."""


def register(sub) -> None:
    p = sub.add_parser("demo", help="the whole pipeline once, with a report",
                       description=__doc__, epilog=EPILOG, formatter_class=EXAMPLES)
    add_config_args(p, "demo")
    p.add_argument("--out", type=Path, help="run folder (default: runs/<config name>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(load=lambda: run, preload=("lava.lib.dl.slayer",))


def run(args) -> int:
    from .. import config
    from ..demo import run_demo

    cfg = config.load(args.config, args.overrides)
    out = args.out or Path("runs") / cfg.name
    summary = run_demo(cfg, out, progress=not args.no_progress)
    print(f"summary: {out / 'summary.json'}")
    exact = (summary["spike_agreement_lava_vs_emulator"] == 1.0
             and summary["spike_agreement_train_vs_emulator"] == 1.0)
    return 0 if exact else 1

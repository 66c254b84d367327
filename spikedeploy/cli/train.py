"""spikedeploy train: train a spiking network (or its float ANN twin) and write its run folder.

Under torchrun every process runs this command; torchrun tells each one who it is in RANK,
WORLD_SIZE and LOCAL_RANK, read here and nowhere else.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .common import EXAMPLES, add_config_args

EPILOG = """examples:
  spikedeploy train                                   # configs/demo.toml into runs/demo
  spikedeploy train --config tiny --out runs/t1 train.qat_epochs=2
  spikedeploy train --out runs/t1 --config runs/t1/config.toml --resume   # after a kill
  spikedeploy train --config demo --out runs/ann model.twin=ann   # the float ANN twin
  spikedeploy train --config demo train.device=cuda   # SLAYER's CUDA kernels
  torchrun --nproc_per_node 4 -m spikedeploy train --config demo train.device=cuda
  torchrun --nnodes 2 --nproc_per_node 8 --rdzv-backend c10d \\
      --rdzv-endpoint HOST:29400 --rdzv-id RUN -m spikedeploy train --config demo

The run folder gets config.toml (resolved), checkpoint.pt, metrics.json, metrics.csv,
training_curve.png and grad_rms.png (gradient RMS per synapse against depth), all rewritten
after every epoch. train.batch_size is the global batch, shared by all processes."""


def register(sub) -> None:
    p = sub.add_parser("train", help="train a spiking ResNet (float, then quantized)",
                       description=__doc__, epilog=EPILOG, formatter_class=EXAMPLES)
    add_config_args(p, "demo")
    p.add_argument("--out", type=Path, help="run folder (default: runs/<config name>)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the run folder's checkpoint, if there is one")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(load=lambda: run, preload=("lava.lib.dl.slayer",))


def world_from_environment(env=os.environ):
    """This process's place in a torchrun launch; one process alone without torchrun."""
    from ..errors import SpikedeployError
    from ..train import World

    if "WORLD_SIZE" not in env:
        return World()
    try:
        return World(rank=int(env["RANK"]), world_size=int(env["WORLD_SIZE"]),
                     local_rank=int(env.get("LOCAL_RANK", "0")))
    except (KeyError, ValueError) as err:
        raise SpikedeployError(f"torchrun's RANK / WORLD_SIZE / LOCAL_RANK are incomplete "
                               f"({err})") from None


def run(args) -> int:
    from .. import config
    from ..train import train

    cfg = config.load(args.config, args.overrides)
    world = world_from_environment()
    # Per-epoch lines and gradient warnings; only rank 0 logs them.
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = args.out or Path("runs") / cfg.name
    result = train(cfg, out, progress=not args.no_progress, resume=args.resume, world=world)
    if world.is_main:
        quantized = ("" if result.quantized_accuracy is None
                     else f", quantized {result.quantized_accuracy:.4f}")
        kind = " (ANN twin)" if cfg.model.twin != "none" else ""
        print(f"held-out accuracy{kind}: float {result.float_accuracy:.4f}{quantized}")
        print(f"run folder: {out}")
    return 0

"""Deployed accuracy of a spiking preset beside the same architecture trained as a float ANN.

Issue 4's digits target: the deployed (quantized, bit-exact) accuracy within 1 point of the ANN
twin's at T <= 8. For each seed this trains the preset twice through the trainer's own loop, as
configured and with `model.twin=ann` (docs/guide.md, "The float ANN twin"), and prints both
held-out accuracies and their difference. The spiking network's quantized held-out accuracy is
the deployed one: the emulator and Lava reproduce its spikes exactly (the demo checks this).

examples:
  PYTHONPATH=$PWD python bench/twin_accuracy.py --seeds 0 1 2 3          # the demo
  PYTHONPATH=$PWD python bench/twin_accuracy.py --preset tiny train.threads=1 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def heldout_accuracy(preset: str, overrides: list[str], run_dir: Path) -> tuple[float, int]:
    """(held-out accuracy of the final model, time steps per sample)."""
    from spikedeploy.config import load
    from spikedeploy.train import train

    cfg = load(preset, overrides)
    result = train(cfg, run_dir, progress=False)
    accuracy = result.quantized_accuracy if cfg.model.twin == "none" else result.float_accuracy
    return accuracy, cfg.data.time_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__[
        __doc__.index("examples:"):], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("overrides", nargs="*", metavar="SECTION.KEY=VALUE")
    args = parser.parse_args()
    print(f"{'seed':>4} {'T':>3} {'deployed SNN':>12} {'ANN twin':>9} {'difference':>11}")
    differences = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            common = [*args.overrides, f"train.seed={seed}"]
            snn, steps = heldout_accuracy(args.preset, common, Path(tmp) / f"snn{seed}")
            ann, _ = heldout_accuracy(args.preset, [*common, "model.twin=ann"],
                                      Path(tmp) / f"ann{seed}")
            differences.append(100 * (snn - ann))
            print(f"{seed:>4} {steps:>3} {snn:>12.4f} {ann:>9.4f} {differences[-1]:>+9.2f} pt")
    mean = sum(differences) / len(differences)
    print(f"mean difference over {len(differences)} seeds: {mean:+.2f} pt "
          f"(from {min(differences):+.2f} to {max(differences):+.2f})")


if __name__ == "__main__":
    main()

"""Gradient flow of the ResNet-50 CIFAR-100 preset over its first epochs on a small subset.

Issue 4's target: a spiking ResNet-50 at T = 10 trains without exploding or vanishing gradients,
every layer's diagnostics in range over the first epochs. This trains the preset as configured
(T = 10 input frames + 50 drain steps, batch norm, its surrogate gradient) through the trainer's
own loop and prints, per epoch, the range of the per-synapse gradient RMS, the stem's and the
classifier's, and the layers flagged (docs/guide.md, "Gradient-flow diagnostics").

With `--root` it reads the real CIFAR-100 (python version). Without, it writes a stand-in in
the same file format: 32x32 crops of scikit-learn's two sample photographs (natural-image
statistics, offline) with random labels, which is enough for gradients at the start of
training but says nothing about accuracy.

Memory: on CPU, training keeps every step's state for the backward pass, about 5.6 GB per
sample of batch at 32x32 and T + D = 60 (batch 4 ran out of 24 GB), hence batch 1 here.

examples:
  PYTHONPATH=$PWD python bench/resnet50_gradients.py                     # stand-in, CPU
  PYTHONPATH=$PWD python bench/resnet50_gradients.py --root ~/data/cifar-100-python \\
      --samples 1024 --epochs 3 train.device=cuda train.batch_size=64
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
from pathlib import Path

import numpy as np

CIFAR_SIDE = 32


def write_standin_cifar100(folder: Path, samples: int, seed: int = 0) -> Path:
    """`train` and `test` batches of the CIFAR-100 python format, cut from sample photos."""
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(seed)
    photos = load_sample_images().images            # two (427, 640, 3) uint8 photographs
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("train", "test"):
        crops = []
        for _ in range(samples):
            photo = photos[rng.integers(len(photos))]
            y = rng.integers(photo.shape[0] - CIFAR_SIDE)
            x = rng.integers(photo.shape[1] - CIFAR_SIDE)
            crops.append(photo[y:y + CIFAR_SIDE, x:x + CIFAR_SIDE].transpose(2, 0, 1))
        labels = rng.integers(0, 100, samples).tolist()
        batch = {b"data": np.stack(crops).reshape(samples, -1), b"fine_labels": labels,
                 b"coarse_labels": [label // 5 for label in labels]}
        with (folder / name).open("wb") as f:
            pickle.dump(batch, f, protocol=2)
    return folder


def report(history: list[dict]) -> None:
    for row in history:
        rms = row["grad_rms"]
        names = list(rms)
        values = np.array(list(rms.values()))
        print(f"epoch {row['epoch']}: loss {row['loss']:.3f}, {len(values)} synapses, grad RMS "
              f"{values.min():.2e} .. {values.max():.2e} (max/min {values.max() / values.min():.0f}"
              f"x), {names[0]} {rms[names[0]]:.2e}, {names[-1]} {rms[names[-1]]:.2e}, "
              f"flagged: {row['grad_warnings'] or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__[
        __doc__.index("examples:"):], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", help="CIFAR-100 python-version folder (default: stand-in)")
    parser.add_argument("--samples", type=int, default=4, help="training samples (data.limit)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("overrides", nargs="*", metavar="SECTION.KEY=VALUE")
    args = parser.parse_args()

    from spikedeploy.config import load
    from spikedeploy.train import train

    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or write_standin_cifar100(Path(tmp) / "cifar100", args.samples)
        cfg = load("resnet50_cifar100", [
            f"data.root={root}", f"data.limit={args.samples}", "train.batch_size=1",
            f"train.float_epochs={args.epochs}", "train.qat_epochs=0", "diagnostics.plots=false",
            *args.overrides])
        print(f"resnet50_cifar100: T = {cfg.data.time_steps} + D = {cfg.data.drain_steps}, "
              f"{args.samples} samples ({'CIFAR-100' if args.root else 'stand-in'}), batch "
              f"{cfg.train.batch_size}, {args.epochs} float epochs, device {cfg.train.device}")
        report(train(cfg, Path(tmp) / "run", progress=False).history)


if __name__ == "__main__":
    main()

"""Training throughput and peak memory per preset: the spiking network beside its float ANN twin.

Each measurement runs in a fresh process (so one model's memory peak cannot hide another's),
one after the other, in this one run:

  build the model (the trainer's own code), then `--warmup` training steps (untimed: first-call
  costs such as SLAYER's CUDA compile), then `--steps` timed steps. A step is what the training
  loop does: forward, cross-entropy on output spike counts (the twin: logits), backward, the
  gradient monitor, Adam. Input frames come from the preset's data set through the same loader.

  samples/s    steps x batch size / wall time of the timed steps (CUDA synchronised at the ends)
  peak memory  CPU: growth of the process's peak resident set (getrusage ru_maxrss) from just
               before the first step to the end, i.e. what training adds on top of the imports,
               the data and the model; CUDA: torch.cuda.max_memory_allocated over the steps

examples:
  PYTHONPATH=$PWD python bench/train_throughput.py                       # tiny and demo, CPU
  PYTHONPATH=$PWD python bench/train_throughput.py --presets demo --steps 20 --device cuda
  PYTHONPATH=$PWD python bench/train_throughput.py --presets tiny train.batch_size=8
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time

KINDS = {"SNN": "none", "ANN twin": "ann"}


def measure(preset: str, twin: str, overrides: list[str], steps: int, warmup: int) -> dict:
    """Runs in a child process: build, warm up, time `steps` training steps."""
    import torch
    import torch.nn.functional as F

    from spikedeploy.config import load
    from spikedeploy.train.checkpoint import model_kind
    from spikedeploy.train.data import FrameDataset, load_splits
    from spikedeploy.train.device import resolve_device
    from spikedeploy.train.diagnostics import GradientMonitor
    from spikedeploy.train.distributed import World
    from spikedeploy.train.trainer import model_for, seed_everything

    cfg = load(preset, [*overrides, f"model.twin={twin}"])
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    device = resolve_device(cfg.train.device, World())
    seed_everything(cfg.train.seed)
    splits = load_splits(cfg.data)
    model = model_kind(cfg).make(model_for(cfg, splits.train), cfg.data.time_steps)
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    monitor = GradientMonitor(model)
    loader = torch.utils.data.DataLoader(FrameDataset(splits.train, cfg.data),
                                         batch_size=cfg.train.batch_size, shuffle=True,
                                         drop_last=True)
    batches = _forever(loader)

    def step():
        x, y = next(batches)
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(model(x).sum(-1), y)
        optimizer.zero_grad()
        loss.backward()
        monitor.record()
        optimizer.step()

    rss_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(warmup):
        step()
    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    seconds = time.perf_counter() - start
    if device.type == "cuda":
        peak_mib = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before_kib) / 1024
    return {"samples_per_s": steps * cfg.train.batch_size / seconds, "peak_mib": peak_mib,
            "device": str(device), "batch": cfg.train.batch_size,
            "steps": cfg.data.time_steps + cfg.data.drain_steps,
            "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad)}


def _forever(loader):
    while True:
        yield from loader


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__[
        __doc__.index("examples:"):], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["tiny", "demo"])
    parser.add_argument("--steps", type=int, default=5, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--device", default="cpu", help="train.device: cpu, cuda, auto")
    parser.add_argument("overrides", nargs="*", metavar="SECTION.KEY=VALUE")
    args = parser.parse_args()
    overrides = [f"train.device={args.device}", *args.overrides]
    spawn = multiprocessing.get_context("spawn")
    memory = "peak MiB (CUDA allocated)" if args.device != "cpu" else "peak MiB (RSS growth)"
    print(f"{'preset':<8} {'model':<9} {'device':<7} {'batch':>5} {'T+D':>4} {'params':>9} "
          f"{'samples/s':>10} {memory:>26}")
    for preset in args.presets:
        rows = {}
        for label, twin in KINDS.items():
            with spawn.Pool(1) as pool:   # a fresh process per measurement
                rows[label] = pool.apply(measure, (preset, twin, overrides, args.steps,
                                                   args.warmup))
            r = rows[label]
            print(f"{preset:<8} {label:<9} {r['device']:<7} {r['batch']:>5} {r['steps']:>4} "
                  f"{r['parameters']:>9} {r['samples_per_s']:>10.1f} {r['peak_mib']:>26.1f}")
        snn, ann = rows["SNN"], rows["ANN twin"]
        memory_ratio = (f"{snn['peak_mib'] / ann['peak_mib']:.1f}x" if ann["peak_mib"] >= 1
                        else "n/a (the twin's is below 1 MiB)")
        print(f"{preset:<8} ratio     ANN twin / SNN throughput "
              f"{ann['samples_per_s'] / snn['samples_per_s']:.1f}x, SNN / ANN twin memory "
              f"{memory_ratio}")


if __name__ == "__main__":
    main()

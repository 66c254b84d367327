"""Data-parallel training: batch sharding, two gloo processes on CPU, and torchrun end to end."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from spikedeploy.cli.train import world_from_environment
from spikedeploy.config import load
from spikedeploy.errors import ConfigError, SpikedeployError
from spikedeploy.train import World, load_checkpoint, train
from spikedeploy.train.distributed import ShardedBatches

TINY = ["train.float_epochs=1", "train.qat_epochs=1", "data.limit=40", "train.batch_size=16"]


@pytest.mark.parametrize("count,batch,world_size", [(40, 16, 2), (41, 16, 3), (33, 8, 4)])
def test_shards_of_each_global_batch_are_the_single_process_batch(count, batch, world_size):
    single = ShardedBatches(count, batch, seed=5, world=World())
    shards = [ShardedBatches(count, batch, seed=5, world=World(r, world_size))
              for r in range(world_size)]
    for epoch in (0, 3):
        for sampler in (single, *shards):
            sampler.set_epoch(epoch)
        whole = list(single)
        kept = [b for b in whole if len(b) >= world_size]   # tails too small to share go
        per_rank = [list(s) for s in shards]
        assert all(len(p) == len(kept) for p in per_rank)
        for i, global_batch in enumerate(kept):
            assert sum((p[i] for p in per_rank), []) == global_batch
            assert max(len(p[i]) for p in per_rank) - min(len(p[i]) for p in per_rank) <= 1
        assert shards[0].global_sizes() == [len(b) for b in kept]
    single.set_epoch(0)
    first = list(single)
    assert sorted(sum(first, [])) == list(range(count))       # each sample once per epoch
    single.set_epoch(1)
    assert list(single) != first                               # a new order every epoch


def test_last_global_batch_too_small_to_share_is_dropped():
    sampler = ShardedBatches(33, 8, seed=0, world=World(0, 4))
    assert sampler.global_sizes() == [8, 8, 8, 8]              # 33 = 4 x 8 + 1
    with pytest.raises(ConfigError, match="global batch; it must be at least"):
        ShardedBatches(33, 2, seed=0, world=World(0, 4))


def test_world_comes_from_torchrun_variables():
    assert world_from_environment({}) == World()
    world = world_from_environment({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert (world.rank, world.world_size, world.local_rank, world.is_main) == (3, 4, 1, False)
    with pytest.raises(SpikedeployError, match="RANK / WORLD_SIZE / LOCAL_RANK"):
        world_from_environment({"WORLD_SIZE": "2"})


class _Killed(Exception):
    pass


def _kill_after_first_epoch(run, row):
    if row["epoch"] == 1:
        raise _Killed


def _worker(rank: int, port: int, out: str) -> None:
    """One of two gloo processes: two straight runs, one killed after epoch 1 and resumed, and
    one with batch norm.

    The process group is set up once here (train() uses a group it finds and leaves it alone):
    tearing one down and setting it up again on the same port races between the processes.
    """
    world = World(rank, 2, rank)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2)
    try:
        _runs(load("tiny", TINY), world, out)
    finally:
        dist.destroy_process_group()


def _runs(cfg, world: World, out: str) -> None:
    rank = world.rank
    for name in ("a", "b"):
        model = train(cfg, f"{out}/{name}", progress=False, world=world).model
        torch.save(model.state_dict(), f"{out}/{name}{rank}.pt")
    # Batch norm: per-process batch statistics, running statistics kept from rank 0. (Float
    # epochs only: quantization-aware training freezes the statistics.)
    bn = load("tiny_bottleneck", [*TINY, "train.float_epochs=2", "train.qat_epochs=0"])
    model = train(bn, f"{out}/bn", progress=False, world=world).model
    torch.save(model.state_dict(), f"{out}/bn{rank}.pt")
    try:      # both processes stop at the same point, as a kill of the whole job does
        train(cfg, f"{out}/c", progress=False, world=world, callbacks=[_kill_after_first_epoch])
    except _Killed:
        pass
    model = train(cfg, f"{out}/c", progress=False, world=world, resume=True).model
    torch.save(model.state_dict(), f"{out}/c{rank}.pt")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(_free_port(), str(out)), nprocs=2, join=True)
    return out


def test_two_processes_agree_repeat_and_resume_exactly(two_processes):
    out = two_processes
    weights = {name: torch.load(out / f"{name}.pt") for name in
               ("a0", "a1", "b0", "b1", "c0", "c1")}
    reference = weights["a0"]
    for name, state in weights.items():      # every rank, every run: bit for bit the same
        assert state.keys() == reference.keys()
        assert all(torch.equal(state[k], reference[k]) for k in reference), name
    _, model = load_checkpoint(out / "a" / "checkpoint.pt")   # one process reads it back
    assert all(torch.equal(model.state_dict()[k], reference[k]) for k in reference)
    bn0, bn1 = torch.load(out / "bn0.pt"), torch.load(out / "bn1.pt")
    assert any(k.endswith("running_var") for k in bn0)
    assert all(torch.equal(bn0[k], bn1[k]) for k in bn0)
    history = json.loads((out / "c" / "metrics.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]


def test_two_processes_compute_the_single_process_gradient(two_processes, tmp_path):
    """Same global batches, loss weighted by shard size: one process ends at the same weights
    up to float summation order (and spikes that a rounding difference can flip)."""
    single = train(load("tiny", TINY), tmp_path, progress=False)
    ddp = json.loads((two_processes / "a" / "metrics.json").read_text())
    assert [row["phase"] for row in ddp] == [row["phase"] for row in single.history]
    for ours, theirs in zip(ddp, single.history, strict=True):
        assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-5)
        assert ours["train_accuracy"] == theirs["train_accuracy"]
        for name, rms in theirs["grad_rms"].items():
            assert ours["grad_rms"][name] == pytest.approx(rms, rel=1e-3), name
    # Measured: the weights differ by at most 5e-8 after two epochs.
    ddp_weights = torch.load(two_processes / "a0.pt")
    for key, value in single.model.state_dict().items():
        assert torch.allclose(ddp_weights[key], value, rtol=0, atol=1e-5), key


def test_torchrun_launches_the_cli_on_two_processes(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "spikedeploy", "train", "--config", "tiny", "--out", str(tmp_path / "run"),
         "--no-progress", *TINY],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("held-out accuracy: float") == 1         # rank 0 only
    assert {p.name for p in (tmp_path / "run").iterdir()} == {
        "checkpoint.pt", "config.toml", "metrics.csv", "metrics.json", "grad_rms.png",
        "training_curve.png"}
    cfg, model = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert model.quantized and cfg.train.batch_size == 16
    assert not any(k.startswith("module.") for k in model.state_dict())
    assert np.isfinite(json.loads((tmp_path / "run" / "metrics.json").read_text())[-1]["loss"])

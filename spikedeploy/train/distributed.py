"""Data-parallel training over processes (PyTorch DDP): who we are, how batches are shared.

One process per device. `torchrun` starts them and says who each one is (RANK, WORLD_SIZE,
LOCAL_RANK); the CLI reads that and passes a `World` in, so nothing below reads the environment.
Joining the process group with init_method "env://" lets torch itself read torchrun's rendezvous
(MASTER_ADDR, MASTER_PORT).

Batches: `train.batch_size` is the global batch. Every process draws the same permutation of the
training set, cuts it into the same global batches a single process would use, and takes its own
contiguous slice of each. Each process scales its mean loss by (local / global samples) * world,
so that DDP's gradient average over processes is the mean over the global batch: the gradient of
one process with batch B, up to the order of float summation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ..errors import ConfigError

# Gloo runs collectives on CPU tensors; NCCL on CUDA tensors (one GPU per process).
BACKENDS = {"cpu": "gloo", "cuda": "nccl"}


@dataclass(frozen=True)
class World:
    """This process's place among `world_size` training processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0            # index of this process on its own machine: its GPU
    init_method: str = "env://"    # torchrun's rendezvous; tests pass tcp://127.0.0.1:<port>

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes files, logs and shows progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


SINGLE_PROCESS = World()


@contextlib.contextmanager
def process_group(world: World, device: torch.device) -> Iterator[None]:
    """Join the process group for the run (if there is more than one process), leave it after.

    A group the caller already set up is used as it is and left alone. Release everything that
    holds the group (DDP) inside the block, so that it ends here.
    """
    if not world.distributed or dist.is_initialized():
        yield
        return
    dist.init_process_group(BACKENDS[device.type], init_method=world.init_method,
                            rank=world.rank, world_size=world.world_size)
    try:
        yield
    finally:
        dist.destroy_process_group()


def wrap(model: nn.Module, world: World, device: torch.device) -> nn.Module:
    """The module the training steps call: DDP around `model` when there are several processes.

    Checkpoints always store `model` itself, so single-process resume and export read them.
    """
    if not world.distributed:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


class ShardedBatches(torch.utils.data.Sampler):
    """This process's slice of each global batch of a seeded per-epoch permutation.

    With one process this yields exactly the batches of a DataLoader with shuffle=True and a
    generator seeded with `seed + epoch`. A trailing global batch smaller than the number of
    processes is dropped (a process cannot step on zero samples).
    """

    def __init__(self, count: int, batch_size: int, seed: int, world: World):
        if batch_size < world.world_size:
            raise ConfigError(f"train.batch_size ({batch_size}) is the global batch; it must be "
                              f"at least the number of processes ({world.world_size})")
        self.count, self.batch_size, self.seed, self.world = count, batch_size, seed, world
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def global_batches(self) -> list[np.ndarray]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.count, generator=generator).numpy()
        batches = [order[i:i + self.batch_size] for i in range(0, self.count, self.batch_size)]
        return [b for b in batches if len(b) >= self.world.world_size]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.global_batches():
            yield np.array_split(batch, self.world.world_size)[self.world.rank].tolist()

    def __len__(self) -> int:
        return len(self.global_batches())

    def global_sizes(self) -> list[int]:
        """Samples in each global batch, in order: the denominator of each step's mean loss."""
        return [len(b) for b in self.global_batches()]


# All-reduce buffers, one per (device, length), kept for the life of the process. torch 2.3's
# Gloo worker thread drops its reference to a finished operation's tensors a moment after the
# caller sees it finish. Were that the last reference to a tensor made in Python, it would need
# the GIL, while ~ProcessGroupGloo holds the GIL and joins that thread: a deadlock when the
# group is destroyed right after (seen at the end of runs, py-spy showing both stacks).
_REDUCE_BUFFERS: dict[tuple[str, int], torch.Tensor] = {}


def sum_over_processes(values: list[float], world: World, device: torch.device) -> list[float]:
    """Element-wise sum of `values` over all processes (the values themselves with one)."""
    if not world.distributed:
        return list(values)
    key = (str(device), len(values))
    if key not in _REDUCE_BUFFERS:
        _REDUCE_BUFFERS[key] = torch.zeros(len(values), dtype=torch.float64, device=device)
    buffer = _REDUCE_BUFFERS[key]
    buffer.copy_(torch.tensor(values, dtype=torch.float64))
    dist.all_reduce(buffer)
    return buffer.tolist()


def share_from_main(obj, world: World):
    """Rank 0's `obj` on every process (pickled between our own processes only)."""
    if not world.distributed:
        return obj
    box = [obj if world.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


@torch.no_grad()
def sync_buffers(model: nn.Module, world: World) -> None:
    """Give every process rank 0's buffers (running means of batch norms).

    DDP broadcasts them at the start of each training forward, so after the last step each
    process still holds its own update; evaluation and the final weights must not differ.
    """
    if world.distributed:
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)

"""Where training runs: `train.device` is "cpu", "cuda" or "auto" (CUDA when present).

On CUDA, SLAYER runs its neuron dynamics in CUDA kernels that it compiles the first time they
are used (torch.utils.cpp_extension: needs nvcc and ninja at run time). A failed compile would
otherwise surface deep inside the first forward pass, so it is tried once up front.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError, SpikedeployError
from .distributed import World


def _cpu(world: World) -> torch.device:
    return torch.device("cpu")


def _cuda(world: World) -> torch.device:
    if not torch.cuda.is_available():
        raise ConfigError(f"train.device is 'cuda' but torch sees no CUDA device (torch "
                          f"{torch.__version__}, built for CUDA {torch.version.cuda})")
    if world.local_rank >= torch.cuda.device_count():
        raise ConfigError(f"process {world.local_rank} on this machine has no GPU of its own "
                          f"({torch.cuda.device_count()} visible); start at most that many")
    torch.cuda.set_device(world.local_rank)
    # Same seed, same result: cuDNN may otherwise pick non-deterministic algorithms.
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return torch.device("cuda", world.local_rank)


def _auto(world: World) -> torch.device:
    return _cuda(world) if torch.cuda.is_available() else _cpu(world)


DEVICES = {"cpu": _cpu, "cuda": _cuda, "auto": _auto}


def resolve_device(name: str, world: World) -> torch.device:
    """The torch device this process trains on (its own GPU under DDP)."""
    if name not in DEVICES:
        raise ConfigError(f"unknown train.device '{name}'; known: {', '.join(DEVICES)}")
    return DEVICES[name](world)


def check_slayer_kernels(device: torch.device) -> None:
    """Run one tiny SLAYER neuron on `device`, so that a failed CUDA compile is one clear line."""
    if device.type != "cuda":
        return
    from lava.lib.dl.slayer.neuron import cuba

    neuron = cuba.Neuron(threshold=1.0, current_decay=0.5, voltage_decay=0.5).to(device)
    try:
        neuron(torch.ones(1, 1, 2, device=device))
    except Exception as err:          # torch's JIT compiler raises several types
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
        raise SpikedeployError(f"SLAYER could not build its CUDA kernels ({type(err).__name__}: "
                               f"{first}); they are compiled at first use and need nvcc and "
                               "ninja on the PATH") from None

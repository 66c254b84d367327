"""Loihi's CUBA LIF neuron in integer arithmetic, step for step as Lava's bit-accurate model.

Reference: lava-nc 0.10 `lava/proc/lif/models.py`, `AbstractPyLifModelFixed.subthr_dynamics`
(shared/LAVA_NOTES.md section 2). `lif_step` is the readable reference and runs on CUDA; on CPU
`lif_run_steps` hands the whole time loop to a compiled kernel (lif_kernel.py) with the same
arithmetic. Where Lava computes in int32 and could overflow, the same wrap is applied explicitly,
so that even pathological inputs agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..graph.nodes import LIF

DECAY_UNITY = 1 << 12       # decays are 12-bit fractions of 4096
ACT_SHIFT = 6               # synaptic input and threshold are MSB-aligned by 6 bits
STATE_HALF = 1 << 23        # u and v are 24-bit signed


@dataclass(frozen=True)
class LIFParams:
    """Per-neuron constants in state units (already shifted), broadcastable to (N, *shape)."""

    current_factor: int      # 4096 - current decay
    voltage_factor: int      # 4096 - voltage decay
    threshold: int           # threshold_mant << 6
    bias: torch.Tensor       # bias_mant << 6, shaped (C, 1, 1) or (C,)

    @classmethod
    def from_node(cls, node: LIF, device: torch.device | str = "cpu") -> LIFParams:
        bias = torch.as_tensor(node.bias_mant, dtype=torch.int64, device=device) << ACT_SHIFT
        bias = bias.reshape(-1, *([1] * (len(node.shape) - 1)))
        return cls(DECAY_UNITY - node.current_decay_12bit, DECAY_UNITY - node.voltage_decay_12bit,
                   node.threshold_mant << ACT_SHIFT, bias)


@dataclass
class LIFState:
    current: torch.Tensor    # u
    voltage: torch.Tensor    # v

    @classmethod
    def zeros(cls, shape, device) -> LIFState:
        return cls(torch.zeros(shape, dtype=torch.int64, device=device),
                   torch.zeros(shape, dtype=torch.int64, device=device))


def wrap_int32(x: torch.Tensor) -> torch.Tensor:
    """What an int32 numpy array holds after an overflowing add or shift."""
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def decay(x: torch.Tensor, factor: int) -> torch.Tensor:
    """x * factor / 4096 rounded toward zero (Lava: sign(p) * (|p| >> 12))."""
    return torch.div(x * factor, DECAY_UNITY, rounding_mode="trunc")


def lif_step(activation: torch.Tensor, state: LIFState, params: LIFParams
             ) -> tuple[torch.Tensor, LIFState]:
    """One time step. activation: summed synaptic input in file units (int64)."""
    current = wrap_int32(decay(state.current, params.current_factor)
                         + wrap_int32(activation << ACT_SHIFT))
    # Lava wraps u once (not modulo): above 2^23 subtract 2^24, at or below -2^23 add 2^24.
    wrapped = torch.where(current > STATE_HALF, current - 2 * STATE_HALF, current)
    current = torch.where(wrapped <= -STATE_HALF, current + 2 * STATE_HALF, wrapped)
    voltage = decay(state.voltage, params.voltage_factor) + current + params.bias
    voltage = voltage.clamp(-STATE_HALF + 1, STATE_HALF - 1)
    spikes = voltage > params.threshold
    voltage = torch.where(spikes, torch.zeros_like(voltage), voltage)
    return spikes, LIFState(current, voltage)


def reset_schedule(steps: int, interval: int | None, offset: int) -> np.ndarray:
    """Steps (0-based) before which u and v are zeroed: Lava's LIFReset zeroes them at the start
    of time step t + 1 (Lava counts from 1) when (t + 1) % interval == offset % interval."""
    schedule = np.zeros(steps, dtype=bool)
    if interval:
        schedule[(np.arange(steps) + 1) % interval == offset % interval] = True
    return schedule


def lif_run_steps(activation: torch.Tensor, params: LIFParams, reset: np.ndarray | None = None,
                  return_state: bool = False, use_kernel: bool | None = None):
    """Run a neuron population over time from zero state. activation: (T, N, *shape) integers.

    Returns spikes (T, N, *shape) as uint8, and with return_state also u and v (int64).
    `reset`: (T,) bool, zero the state before those steps. `use_kernel`: force the compiled CPU
    kernel (True) or the torch reference (False); by default the kernel runs on CPU tensors.
    """
    buffer, *state = lif_spike_buffer(activation, params, reset, return_state, use_kernel,
                                      torch.uint8)
    return (buffer[1:], *state) if return_state else buffer[1:]


def lif_spike_buffer(activation: torch.Tensor, params: LIFParams,
                     reset: np.ndarray | None = None, return_state: bool = False,
                     use_kernel: bool | None = None, dtype: torch.dtype = torch.float32):
    """Like lif_run_steps, but the spikes come as (T + 1, N, *shape) `dtype` with an empty
    frame 0: frames 0..T-1 are what a synapse reads one step later, ready for its float sums
    without another pass over memory. Returns a tuple: (spikes, [u, v])."""
    reset = np.zeros(activation.shape[0], bool) if reset is None else np.asarray(reset, bool)
    if use_kernel if use_kernel is not None else activation.device.type == "cpu":
        return _run_kernel(activation, params, reset, return_state, dtype)
    state = LIFState.zeros(activation.shape[1:], activation.device)
    spikes = torch.zeros((activation.shape[0] + 1, *activation.shape[1:]), dtype=dtype,
                         device=activation.device)
    traces = ([], [])
    for t in range(activation.shape[0]):
        if reset[t]:
            state = LIFState.zeros(activation.shape[1:], activation.device)
        s, state = lif_step(activation[t].to(torch.int64), state, params)
        spikes[t + 1] = s
        if return_state:
            traces[0].append(state.current)
            traces[1].append(state.voltage)
    if not return_state:
        return (spikes,)
    return spikes, torch.stack(traces[0]), torch.stack(traces[1])


def _run_kernel(activation: torch.Tensor, params: LIFParams, reset: np.ndarray,
                return_state: bool, dtype: torch.dtype):
    from .lif_kernel import lif_kernel

    steps, *shape = activation.shape
    if activation.dtype != torch.float32:
        # Lava's neuron receives the summed input as int32; the cast wraps as Lava's sum does
        activation = activation.to(torch.int32)
    # The kernel is elementwise: it works on memory in whatever order the input has, so a
    # channels-last conv output (T, N, H, W, C in memory) stays that way, no copy.
    order = memory_order(activation)
    physical = activation.permute(order).contiguous()
    bias = frame_in_memory_order(params.bias.cpu().expand(*shape), order)
    numpy_dtype = {torch.float32: np.float32, torch.uint8: np.uint8}[dtype]
    result = lif_kernel(physical.reshape(steps, -1).numpy(), bias.reshape(-1).numpy(), reset,
                        (params.current_factor, params.voltage_factor), params.threshold,
                        return_state, numpy_dtype)
    arrays = result if return_state else (result,)
    logical = [in_logical_order(torch.from_numpy(a).reshape(a.shape[0], *physical.shape[1:]),
                                order) for a in arrays]
    return tuple(logical)


def memory_order(x: torch.Tensor) -> list[int]:
    """Dimension order in which x is laid out in memory: (T, N, H, W, C) for channels-last
    images, else the logical order."""
    if x.dim() == 5 and x.permute(0, 1, 3, 4, 2).is_contiguous():
        return [0, 1, 3, 4, 2]
    return list(range(x.dim()))


def frame_in_memory_order(frame: torch.Tensor, order: list[int]) -> torch.Tensor:
    """One frame (N, *shape), e.g. the bias, permuted as `order` lays out (T, N, *shape)."""
    return frame.permute([d - 1 for d in order[1:]])


def in_logical_order(physical: torch.Tensor, order: list[int]) -> torch.Tensor:
    """Undo `x.permute(order)`: a view with the logical dimension order again."""
    return physical.permute(list(np.argsort(order)))


def lif_run(activation: torch.Tensor, params: LIFParams, return_state: bool = False,
            reset: np.ndarray | None = None, use_kernel: bool | None = None):
    """lif_run_steps for a sample-major activation (N, *shape, T); results come back the same way.
    """
    result = lif_run_steps(activation.movedim(-1, 0).contiguous(), params, reset, return_state,
                           use_kernel)
    if not return_state:
        return result.movedim(0, -1)
    return tuple(r.movedim(0, -1) for r in result)

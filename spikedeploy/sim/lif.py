"""Loihi's CUBA LIF neuron in integer arithmetic, step for step as Lava's bit-accurate model.

Reference: lava-nc 0.10 `lava/proc/lif/models.py`, `AbstractPyLifModelFixed.subthr_dynamics`
(shared/LAVA_NOTES.md section 2). All state is int64 here; where Lava computes in int32 and could
overflow, the same wrap is applied explicitly so that even pathological inputs agree.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def lif_run(activation: torch.Tensor, params: LIFParams, return_state: bool = False):
    """Run a neuron population over time. activation: (N, *shape, T) int64, zero initial state.

    Returns spikes (N, *shape, T) as uint8, and with return_state also u and v traces.
    """
    steps = activation.shape[-1]
    state = LIFState.zeros(activation.shape[:-1], activation.device)
    spikes = torch.empty(activation.shape, dtype=torch.uint8, device=activation.device)
    traces = ([], []) if return_state else None
    for t in range(steps):
        s, state = lif_step(activation[..., t], state, params)
        spikes[..., t] = s
        if traces is not None:
            traces[0].append(state.current)
            traces[1].append(state.voltage)
    if traces is None:
        return spikes
    return spikes, torch.stack(traces[0], -1), torch.stack(traces[1], -1)

"""The CUBA LIF recursion over time as one compiled CPU loop (numba), for speed.

Same integer arithmetic as `lif.lif_step`, the readable reference that also runs on CUDA;
tests/sim/test_lif.py checks that the two agree bit for bit. The loop keeps a block of neurons'
state in cache for all time steps and numba vectorises the inner loop (its branches compile to
selects): about 0.7 ns per neuron and step on one core here. It runs on one thread on purpose:
numba's thread pool spins beside torch's OpenMP threads, and on a busy 2-core machine that made
the whole emulator 2-5x slower than one thread (measured); torch's convolutions keep the cores.
Imported only when a CPU run needs it: numba's import and the first compilation take a few
seconds (the compiled code is cached on disk).
"""

from __future__ import annotations

import numba
import numpy as np

BLOCK = 4096                    # neurons per block: u, v and a step's input stay in L1/L2
DECAY_SHIFT = 12                # decays are fractions of 4096
DECAY_MASK = (1 << DECAY_SHIFT) - 1
ACT_SHIFT = 6                   # synaptic input is MSB-aligned by 6 bits
HALF = 1 << 23                  # u and v are 24-bit signed
INT32_HALF = 1 << 31
INT32_MASK = (1 << 32) - 1


@numba.njit(inline="always")
def _rtz_decay(x, factor):
    """x * factor / 4096 rounded toward zero: Lava's sign(p) * (|p| >> 12)."""
    p = x * factor
    return (p + ((p >> 63) & DECAY_MASK)) >> DECAY_SHIFT


@numba.njit(inline="always")
def _wrap_int32(x):
    return ((x + INT32_HALF) & INT32_MASK) - INT32_HALF


@numba.njit(cache=True, error_model="numpy", boundscheck=False)
def _step(act, bias, u, v, current_factor, voltage_factor, threshold, spikes):
    for j in range(act.shape[0]):
        # Lava keeps u in int32: the shifted input and the sum wrap at 32 bits, then u wraps
        # once at 24 bits (lava/proc/lif/models.py, AbstractPyLifModelFixed.subthr_dynamics)
        uu = _wrap_int32(_rtz_decay(u[j], current_factor)
                         + _wrap_int32(np.int64(act[j]) << ACT_SHIFT))
        uu = uu - 2 * HALF if uu > HALF else uu
        uu = uu + 2 * HALF if uu <= -HALF else uu
        vv = _rtz_decay(v[j], voltage_factor) + uu + bias[j]
        vv = min(max(vv, -HALF + 1), HALF - 1)
        fired = vv > threshold
        spikes[j] = fired
        v[j] = 0 if fired else vv
        u[j] = uu


@numba.njit(cache=True, error_model="numpy", boundscheck=False)
def _run(act, bias, reset, current_factor, voltage_factor, threshold, spikes, u_trace, v_trace):
    steps, size = act.shape
    record = u_trace.shape[0] > 0
    for block in range((size + BLOCK - 1) // BLOCK):
        lo = block * BLOCK
        hi = min(size, lo + BLOCK)
        u = np.zeros(hi - lo, np.int64)
        v = np.zeros(hi - lo, np.int64)
        for t in range(steps):
            if reset[t]:
                u[:] = 0
                v[:] = 0
            _step(act[t, lo:hi], bias[lo:hi], u, v, current_factor, voltage_factor, threshold,
                  spikes[t + 1, lo:hi])
            if record:
                u_trace[t, lo:hi] = u
                v_trace[t, lo:hi] = v


def lif_kernel(act: np.ndarray, bias: np.ndarray, reset: np.ndarray, factors: tuple[int, int],
               threshold: int, return_state: bool = False, spike_dtype=np.bool_):
    """act: (T, M) summed input, int32 or float32 holding integers; bias: (M,) int64 in state
    units; reset: (T,) bool, zero u and v before that step.

    Returns spikes (T + 1, M) of `spike_dtype` with an empty first row, so that rows 0..T-1 are
    what a synapse reads one step later [, u, v (T, M) int64].
    """
    steps, size = act.shape
    spikes = np.empty((steps + 1, size), spike_dtype)
    spikes[0] = 0
    shape = (steps, size) if return_state else (0, 0)
    u_trace, v_trace = np.empty(shape, np.int64), np.empty(shape, np.int64)
    _run(np.ascontiguousarray(act), np.ascontiguousarray(bias, np.int64),
         np.ascontiguousarray(reset, np.bool_), int(factors[0]), int(factors[1]),
         int(threshold), spikes, u_trace, v_trace)
    return (spikes, u_trace, v_trace) if return_state else spikes


# -- the same recursion, observed (for profiling) ------------------------------------------------
ACTIVE, WRAPS, CLIPS, MAX_U, MAX_V = range(5)       # slots of the per-run statistics


@numba.njit(cache=True, error_model="numpy", boundscheck=False)
def _step_observed(act, bias, u, v, current_factor, voltage_factor, threshold, spikes):
    """_step, plus: active updates (non-zero u, v, input or bias before the step), u that had
    to wrap, v that had to clip, and the largest |u| and |v| the recursion asked for.

    The statistics are local scalars, returned at the end: stores into an array inside the
    loop would keep LLVM from keeping them in registers (the observed run was 2x slower)."""
    active = wraps = clips = max_u = max_v = 0
    for j in range(act.shape[0]):
        a = np.int64(act[j])
        active += (u[j] != 0) | (v[j] != 0) | (a != 0) | (bias[j] != 0)
        decayed_u = _rtz_decay(u[j], current_factor)
        wanted_u = decayed_u + (a << ACT_SHIFT)
        uu = _wrap_int32(decayed_u + _wrap_int32(a << ACT_SHIFT))
        uu = uu - 2 * HALF if uu > HALF else uu
        uu = uu + 2 * HALF if uu <= -HALF else uu
        wanted_v = _rtz_decay(v[j], voltage_factor) + uu + bias[j]
        wraps += wanted_u != uu
        clips += abs(wanted_v) > HALF - 1
        max_u = max(max_u, abs(wanted_u))
        max_v = max(max_v, abs(wanted_v))
        vv = min(max(wanted_v, -HALF + 1), HALF - 1)
        fired = vv > threshold
        spikes[j] = fired
        v[j] = 0 if fired else vv
        u[j] = uu
    return active, wraps, clips, max_u, max_v


@numba.njit(cache=True, error_model="numpy", boundscheck=False)
def _run_observed(act, bias, current_factor, voltage_factor, threshold, spikes, active, stats):
    steps, size = act.shape
    for block in range((size + BLOCK - 1) // BLOCK):
        lo = block * BLOCK
        hi = min(size, lo + BLOCK)
        u = np.zeros(hi - lo, np.int64)
        v = np.zeros(hi - lo, np.int64)
        for t in range(steps):
            n_active, wraps, clips, max_u, max_v = _step_observed(
                act[t, lo:hi], bias[lo:hi], u, v, current_factor, voltage_factor, threshold,
                spikes[t + 1, lo:hi])
            active[t] += n_active
            stats[WRAPS] += wraps
            stats[CLIPS] += clips
            stats[MAX_U] = max(stats[MAX_U], max_u)
            stats[MAX_V] = max(stats[MAX_V], max_v)


def lif_observe_kernel(act: np.ndarray, bias: np.ndarray, factors: tuple[int, int],
                       threshold: int, spike_dtype=np.float32):
    """lif_kernel without resets, also returning active updates per step (T,) and the totals
    (wraps, clips, max |u| asked for, max |v| asked for) for the whole run."""
    steps, size = act.shape
    spikes = np.empty((steps + 1, size), spike_dtype)
    spikes[0] = 0
    active, stats = np.zeros(steps, np.int64), np.zeros(5, np.int64)
    _run_observed(np.ascontiguousarray(act), np.ascontiguousarray(bias, np.int64),
                  int(factors[0]), int(factors[1]), int(threshold), spikes, active, stats)
    return spikes, active, (int(stats[WRAPS]), int(stats[CLIPS]), int(stats[MAX_U]),
                            int(stats[MAX_V]))

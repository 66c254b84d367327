"""One integer-exact operation per node type: (node, context) -> function(list of inputs).

Tensors are time-major, (T, N, *shape): step t of every sample is one contiguous block, which
the neuron loop reads step by step and a convolution treats as T*N frames. A synapse's output
at step t is computed from its input at t-1 (Lava's Dense and Conv send what they computed in
the previous step): synapses read their input one step later (frame 0 empty).

Exactness: convolutions and dense products run in floating point for speed (exact.py says when
that is exact and keeps the backends exact); results are the integers Lava computes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..graph.netx import fit_weight_bits
from ..graph.nodes import LIF, Average, Conv, Dense, Flatten, Input, Node, SumPool
from .exact import (
    NotExactError,
    Spikes,
    conv_frames,
    dense_frames,
    lava_conv_output,
    lava_dense_weights,
    max_abs,
    spike_dtype,
    sumpool_frames,
)
from .lif import LIFParams, lif_spike_buffer, reset_schedule, wrap_int32

Op = Callable[[list[torch.Tensor]], torch.Tensor]


@dataclass(frozen=True)
class OpContext:
    """What an operation needs beyond its node."""

    neuron_index: int = 0               # position among the neuron layers, in graph order
    reset_interval: int | None = None   # netx's reset_interval (see Emulator)


def _delivered_later(y: torch.Tensor, steps: int, delay: int = 1) -> torch.Tensor:
    """y holds what was computed at steps 0..len(y)-1; return the (steps, ...) series in which
    it arrives `delay` steps later, zeros before."""
    out = torch.zeros((steps, *y.shape[1:]), dtype=y.dtype, device=y.device)
    if delay < steps:
        out[delay:] = y[:steps - delay]
    return out


def conv_op(node: Conv, ctx: OpContext) -> Op:
    def run(inputs):
        (x,) = inputs
        return lava_conv_output(conv_frames(x, node.weight, node.stride, node.padding,
                                            node.dilation, node.groups))
    return run


def sumpool_op(node: SumPool, ctx: OpContext) -> Op:
    def run(inputs):
        (x,) = inputs
        return lava_conv_output(sumpool_frames(x, node.kernel, node.weight, node.stride,
                                               node.padding))
    return run


def dense_op(node: Dense, ctx: OpContext) -> Op:
    """Lava's Dense (or DelayDense): its weights after clipping and truncation, an int32 sum,
    then the weight exponent as an arithmetic shift, per delay (DelayDense shifts each delay's
    partial sum on its own before adding it to its buffer)."""
    if node.netx_weight_fit:
        fitted = fit_weight_bits(node.weight)
        weight = lava_dense_weights(fitted.weight, fitted.num_weight_bits)
        weight_exp = fitted.weight_exp
    else:
        weight, weight_exp = lava_dense_weights(node.weight), node.weight_exp
    delays = np.zeros_like(weight) if node.delay is None else node.delay
    parts = [(int(d), np.where(delays == d, weight, 0)) for d in np.unique(delays)]
    largest_weight = int(np.abs(weight).max(initial=0))

    def run(inputs):
        (x,) = inputs
        if node.delay is not None and weight_exp < 0 and \
                largest_weight * max_abs(x) >= 1 << 31:
            # DelayDense multiplies graded input and weights in int32, wrapping each product,
            # then sums in int64 and shifts right: not a function of the exact sum any more
            raise NotExactError("graded input times weights can pass int32 in a dense synapse "
                                "with delays and a negative weight exponent; Lava's DelayDense "
                                "then wraps each product, which the emulator does not follow")
        steps, out = x.shape[0], None
        for delay, part in parts:
            y = wrap_int32(dense_frames(x, part, shift=delay == 0))
            y = y << weight_exp if weight_exp >= 0 else y >> -weight_exp
            if delay:
                y = _delivered_later(y, steps, 1 + delay)
            out = y if out is None else out + y
        return out.to(torch.int32)           # Lava's a_out is int32: the cast wraps the same
    return run


def lif_op(node: LIF, ctx: OpContext) -> Op:
    params = {}

    def run(inputs):
        activation = summed(inputs)
        device = activation.device
        if device not in params:
            params[device] = LIFParams.from_node(node, device)
        # netx gives the k-th neuron layer reset_offset k + 1 (netx/hdf5.py, _create)
        reset = reset_schedule(activation.shape[0], ctx.reset_interval, ctx.neuron_index + 1)
        (spikes,) = lif_spike_buffer(activation, params[device], reset, dtype=spike_dtype(device))
        return Spikes(spikes)
    return run


def summed(inputs: list[torch.Tensor]) -> torch.Tensor:
    """Several synapses into one neuron add up, as Lava adds them: in int32, wrapping. Two
    float32 inputs below 2^23 each (lava_conv_output) add exactly in float32."""
    if len(inputs) == 1:
        return inputs[0]
    if len(inputs) == 2 and all(i.dtype == torch.float32 for i in inputs):
        return inputs[0] + inputs[1]
    total = inputs[0].to(torch.int32)
    for more in inputs[1:]:
        total = total + more.to(torch.int32)
    return total


def flatten_op(node: Flatten, ctx: OpContext) -> Op:
    return lambda inputs: inputs[0].reshape(*inputs[0].shape[:2], -1)


def average_op(node: Average, ctx: OpContext) -> Op:
    def run(inputs):
        (x,) = inputs
        x = x.now if isinstance(x, Spikes) else x
        return x.reshape(*x.shape[:2], node.outputs, -1).to(torch.float64).mean(-1)
    return run


def input_op(node: Input, ctx: OpContext) -> Op:
    raise TypeError("the input node is fed with data, not computed")


OPS: dict[type[Node], Callable[[Node, OpContext], Op]] = {
    Input: input_op, Conv: conv_op, SumPool: sumpool_op, Dense: dense_op, LIF: lif_op,
    Flatten: flatten_op, Average: average_op,
}

"""One Lava process builder per node type, using Lava's stock processes only.

Lava's layout differs from ours: images are (W, H, C) (x, y, channel), convolution is a true
convolution with kernels (C_out, kW, kH, C_in), and kernel parameters come as (x, y) pairs.
The conversions live here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from lava.proc.conv.process import Conv as LavaConv
from lava.proc.dense.process import DelayDense as LavaDelayDense
from lava.proc.dense.process import Dense as LavaDense
from lava.proc.io.source import RingBuffer as Source
from lava.proc.lif.process import LIF as LavaLIF
from lava.proc.lif.process import LIFReset as LavaLIFReset

from ..graph.fields import BIAS_EXP
from ..graph.netx import fit_weight_bits
from ..graph.nodes import LIF, Average, Conv, Dense, Flatten, Input, Node, SumPool


@dataclass
class Built:
    """What the network wiring needs to know about one node once it is a Lava process."""

    in_port: object | None = None            # where predecessors connect
    out_port: object | None = None           # what successors connect from (may be virtual)
    process: object | None = None
    state_vars: list = field(default_factory=list)   # zeroed between samples
    # a readout computed on the host from its predecessors' recorded spikes (no process)
    readout: Callable[[list[np.ndarray]], np.ndarray] | None = None


@dataclass
class Context:
    """Facts a builder needs beyond its own node."""

    input_shape: tuple[int, ...]             # (C, H, W) or (N,) of the node's first input
    input_message_bits: int                  # > 0 when the node reads graded input data
    predecessor_ports: list                  # out ports of the predecessors
    stimulus: np.ndarray | None = None       # input data in Lava layout, (*lava_shape, steps)
    # (interval, offset): the neuron zeroes u and v itself (LIFReset) at the start of every
    # time step t with t % interval == offset % interval (Lava counts steps from 1)
    neuron_reset: tuple[int, int] | None = None


def lava_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """(C, H, W) -> (W, H, C); vectors unchanged."""
    return tuple(reversed(shape))


def to_lava_layout(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W, T) or (N, F, T) -> (W, H, C, N*T) or (F, N*T): samples one after another."""
    n, *shape, steps = x.shape
    dims = len(shape)
    axes = (*range(dims, 0, -1), 0, dims + 1)        # shape axes reversed, then N, then T
    return x.transpose(axes).reshape(*lava_shape(tuple(shape)), n * steps)


def from_lava_layout(data: np.ndarray, samples: int) -> np.ndarray:
    """Inverse of to_lava_layout: (W, H, C, N*T) -> (N, C, H, W, T)."""
    *shape, total = data.shape
    dims = len(shape)
    x = data.reshape(*shape, samples, total // samples)
    return x.transpose(dims, *range(dims - 1, -1, -1), dims + 1)


def lava_conv_weight(weight: np.ndarray) -> np.ndarray:
    """Our (C_out, C_in, kH, kW) cross-correlation kernel as Lava's (C_out, kW, kH, C_in)
    convolution kernel: flip both spatial axes, then reorder (as netx does)."""
    return np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(0, 3, 2, 1)).astype(np.int32)


def _xy(pair: tuple[int, int]) -> tuple[int, int]:
    return pair[1], pair[0]


def _conv_process(weight, ctx: Context, stride, padding, dilation, groups) -> Built:
    proc = LavaConv(weight=lava_conv_weight(weight), input_shape=lava_shape(ctx.input_shape),
                    stride=_xy(stride), padding=_xy(padding), dilation=_xy(dilation),
                    groups=groups, num_message_bits=ctx.input_message_bits)
    return Built(proc.s_in, proc.a_out, proc, [proc.a_buf])


def build_conv(node: Conv, ctx: Context) -> Built:
    return _conv_process(node.weight, ctx, node.stride, node.padding, node.dilation, node.groups)


def build_sumpool(node: SumPool, ctx: Context) -> Built:
    channels = ctx.input_shape[0]
    weight = np.full((channels, 1, *node.kernel), node.weight, dtype=np.int64)
    return _conv_process(weight, ctx, node.stride, node.padding, (1, 1), channels)


def build_dense(node: Dense, ctx: Context) -> Built:
    """Lava's Dense, or DelayDense when the synapses have delays. With netx's weight fit the
    process gets exactly what netx would pass it (graph/netx.py)."""
    weights, params = node.weight, {"weight_exp": node.weight_exp}
    if node.netx_weight_fit:
        fitted = fit_weight_bits(node.weight)
        weights = fitted.weight
        params = {"weight_exp": fitted.weight_exp, "num_weight_bits": fitted.num_weight_bits}
    params["num_message_bits"] = ctx.input_message_bits
    if node.delay is None:
        proc = LavaDense(weights=weights.astype(np.int32), **params)
    else:       # the buffer only needs to reach the longest delay
        proc = LavaDelayDense(weights=weights.astype(np.int32), delays=node.delay.astype(int),
                              max_delay=int(node.delay.max()), **params)
    return Built(proc.s_in, proc.a_out, proc, [proc.a_buff])


def build_lif(node: LIF, ctx: Context) -> Built:
    shape = lava_shape(node.shape)
    bias = np.broadcast_to(node.bias_mant, shape).astype(np.int32)   # channel is Lava's last axis
    # Lava's model decays u by (4096 - (du + 1)): du = current_decay - 1, exactly as netx does.
    params = dict(shape=shape, du=node.current_decay_12bit - 1, dv=node.voltage_decay_12bit,
                  vth=node.threshold_mant, bias_mant=bias, bias_exp=BIAS_EXP)
    if ctx.neuron_reset is None:
        proc = LavaLIF(**params)
    else:
        interval, offset = ctx.neuron_reset
        proc = LavaLIFReset(**params, reset_interval=interval, reset_offset=offset)
    return Built(proc.a_in, proc.s_out, proc, [proc.u, proc.v])


def build_flatten(node: Flatten, ctx: Context) -> Built:
    (port,) = ctx.predecessor_ports
    if len(ctx.input_shape) == 3:       # Lava (W, H, C) -> our (C, H, W) order, then flatten
        port = port.transpose([2, 1, 0])
    return Built(out_port=port.flatten())


def build_average(node: Average, ctx: Context) -> Built:
    """A readout, not part of the chip's network: computed on the host after the run."""
    return Built(readout=lambda inputs: node.apply(inputs[0]))


def build_input(node: Input, ctx: Context) -> Built:
    proc = Source(data=ctx.stimulus.astype(np.int32))
    return Built(out_port=proc.s_out, process=proc)


BUILDERS: dict[type[Node], Callable[[Node, Context], Built]] = {
    Input: build_input, Conv: build_conv, SumPool: build_sumpool, Dense: build_dense,
    LIF: build_lif, Flatten: build_flatten, Average: build_average,
}

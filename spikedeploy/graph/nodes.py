"""Node types of the network graph, with Loihi's fixed-point encoding in their field names.

Time semantics, shared by training, the emulator and Lava (see docs/format.md):

* `Input`   emits frame x[t] at step t (Lava's RingBuffer sends data[..., t]).
* synapses  (`Conv`, `Dense`, `SumPool`) take one step: out[t] = f(in[t-1]), out[0] = 0.
  This is Lava's Dense/Conv process model, which sends what it computed in the previous step.
* `LIF`     integrates, in the same step, the sum of everything arriving on its input:
  several edges into one LIF are added, exactly as Lava adds several OutPorts on one InPort.
* `Flatten` reshapes in the same step (a port reshape in Lava, no process).
* `Average` reads a neuron layer's spikes in the same step and is a readout only: nothing reads
  from it (SLAYER's Average block; on Lava it is computed on the host from recorded spikes).
* A `Dense` with `delay` holds synapse (o, i)'s contribution back by delay[o, i] more steps:
  out[t] = sum_i w[o, i] * in[t - 1 - delay[o, i]] (Lava's DelayDense).

Shapes follow SLAYER and the netx file: (C, H, W) for images, (N,) for vectors.
Weights are integers in the file's units: a float weight w of SLAYER is stored as w * 64.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..errors import GraphError
from .fields import (
    BIAS_MANT_MAX,
    BIAS_MANT_MIN,
    DECAY_MAX,
    DELAY_MAX,
    MESSAGE_BITS_MAX,
    THRESHOLD_MANT_MAX,
    WEIGHT_MAX,
    WEIGHT_MIN,
    Shape,
    as_int_array,
    as_pair,
    as_shape,
)


def _conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


class Node:
    """Common behaviour: type name for the registry, one-step latency flag, array-aware equality."""

    type_name: ClassVar[str]
    latency_steps: ClassVar[int] = 0     # 1 for synapses: Lava delivers their output a step later
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        raise NotImplementedError

    def __eq__(self, other) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name))
            for f in dataclasses.fields(self)
        )

    __hash__ = None


def _single_input(input_shapes: list[Shape]) -> Shape:
    (shape,) = input_shapes
    return shape


@dataclass(eq=False)
class Input(Node):
    """The data entering the network: binary spikes (message_bits = 0) or graded integers."""

    shape: Shape
    message_bits: int = 0

    type_name: ClassVar[str] = "input"
    min_inputs: ClassVar[int] = 0
    max_inputs: ClassVar[int | None] = 0

    def __post_init__(self):
        self.shape = as_shape(self.shape, "input shape")
        if not 0 <= int(self.message_bits) <= MESSAGE_BITS_MAX:
            raise GraphError(f"message_bits must lie in [0, {MESSAGE_BITS_MAX}]")
        self.message_bits = int(self.message_bits)

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        return self.shape


@dataclass(eq=False)
class Conv(Node):
    """2-D cross-correlation, as torch computes it. weight: (C_out, C_in / groups, kH, kW).

    Lava's CPU Conv model wraps its output to signed 24 bits and ignores any weight exponent,
    so the graph has none for convolutions.
    """

    weight: np.ndarray
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    type_name: ClassVar[str] = "conv"
    latency_steps: ClassVar[int] = 1

    def __post_init__(self):
        self.weight = as_int_array(self.weight, "conv weight", WEIGHT_MIN, WEIGHT_MAX)
        if self.weight.ndim != 4:
            raise GraphError(f"conv weight must be 4-D (C_out, C_in/groups, kH, kW), "
                             f"got shape {self.weight.shape}")
        self.stride = as_pair(self.stride, "conv stride")
        self.padding = as_pair(self.padding, "conv padding")
        self.dilation = as_pair(self.dilation, "conv dilation")
        if min(self.stride) < 1 or min(self.dilation) < 1:
            raise GraphError("conv stride and dilation must be at least 1")
        self.groups = int(self.groups)
        if self.groups < 1 or self.weight.shape[0] % self.groups:
            raise GraphError(f"conv groups={self.groups} must divide C_out={self.weight.shape[0]}")

    @property
    def kernel(self) -> tuple[int, int]:
        return int(self.weight.shape[2]), int(self.weight.shape[3])

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = _single_input(input_shapes)
        if len(shape) != 3:
            raise GraphError(f"conv needs a (C, H, W) input, got {shape}")
        channels_in = self.weight.shape[1] * self.groups
        if shape[0] != channels_in:
            raise GraphError(f"conv expects {channels_in} input channels "
                             f"(weight {self.weight.shape}, groups {self.groups}), got {shape[0]}")
        h, w = (_conv_out(shape[1 + i], self.kernel[i], self.stride[i], self.padding[i],
                          self.dilation[i]) for i in range(2))
        if h < 1 or w < 1:
            raise GraphError(f"conv output would be empty for input {shape}")
        return (int(self.weight.shape[0]), h, w)


@dataclass(eq=False)
class Dense(Node):
    """Fully connected synapse. weight: (out, in); result shifted by weight_exp (floor).

    On the input side `in` indexes the flattened (C, H, W) input in C order, as SLAYER flattens.
    `delay` (out, in), optional: extra steps before each synapse's contribution arrives (Lava's
    DelayDense; netx's axonal delays). `netx_weight_fit`: the weights reach Lava as netx passes
    them, refitted into Loihi's synapse format (graph/netx.py: fit_weight_bits); plain netx
    files get it, and then `weight_exp` must be 0 because netx ignores it.
    """

    weight: np.ndarray
    weight_exp: int = 0
    delay: np.ndarray | None = None
    netx_weight_fit: bool = False

    type_name: ClassVar[str] = "dense"
    latency_steps: ClassVar[int] = 1

    def __post_init__(self):
        self.weight = as_int_array(self.weight, "dense weight", WEIGHT_MIN, WEIGHT_MAX)
        if self.weight.ndim != 2:
            raise GraphError(f"dense weight must be 2-D (out, in), got shape {self.weight.shape}")
        if not -8 <= int(self.weight_exp) <= 7:
            raise GraphError(f"dense weight_exp must lie in [-8, 7], got {self.weight_exp}")
        self.weight_exp = int(self.weight_exp)
        self.netx_weight_fit = bool(self.netx_weight_fit)
        if self.netx_weight_fit and self.weight_exp:
            raise GraphError("a dense synapse with netx's weight fit cannot also have a "
                             "weight_exp (netx ignores it)")
        if self.delay is not None:
            self.delay = as_int_array(self.delay, "dense delay", 0, DELAY_MAX)
            if self.delay.shape != self.weight.shape:
                raise GraphError(f"dense delay must have the weight's shape {self.weight.shape}, "
                                 f"got {self.delay.shape}")

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = _single_input(input_shapes)
        if len(shape) != 1 or shape[0] != self.weight.shape[1]:
            raise GraphError(f"dense expects a flat input of {self.weight.shape[1]} features, "
                             f"got {shape}")
        return (int(self.weight.shape[0]),)


@dataclass(eq=False)
class SumPool(Node):
    """Sum over each window times one weight, per channel (SLAYER's Pool synapse).

    Deployed as a depthwise Conv (groups = C) whose kernel is `weight` everywhere.
    """

    kernel: tuple[int, int]
    weight: int
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] = (0, 0)

    type_name: ClassVar[str] = "sumpool"
    latency_steps: ClassVar[int] = 1

    def __post_init__(self):
        self.kernel = as_pair(self.kernel, "pool kernel")
        self.stride = self.kernel if self.stride is None else as_pair(self.stride, "pool stride")
        self.padding = as_pair(self.padding, "pool padding")
        if min(self.kernel) < 1 or min(self.stride) < 1:
            raise GraphError("pool kernel and stride must be at least 1")
        self.weight = int(as_int_array(self.weight, "pool weight", WEIGHT_MIN, WEIGHT_MAX))

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = _single_input(input_shapes)
        if len(shape) != 3:
            raise GraphError(f"sum-pool needs a (C, H, W) input, got {shape}")
        h, w = (_conv_out(shape[1 + i], self.kernel[i], self.stride[i], self.padding[i], 1)
                for i in range(2))
        if h < 1 or w < 1:
            raise GraphError(f"sum-pool output would be empty for input {shape}")
        return (shape[0], h, w)


@dataclass(eq=False)
class Flatten(Node):
    """(C, H, W) -> (C*H*W,) in C order, within the same step."""

    type_name: ClassVar[str] = "flatten"

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        return (int(np.prod(_single_input(input_shapes))),)


@dataclass(eq=False)
class Average(Node):
    """Population readout, SLAYER's Average block: the input's neurons, flattened in C order, form
    `outputs` consecutive groups of equal size; the output is each group's mean spike, per step.
    """

    outputs: int

    type_name: ClassVar[str] = "average"

    def __post_init__(self):
        self.outputs = int(self.outputs)
        if self.outputs < 1:
            raise GraphError(f"average needs at least one output, got {self.outputs}")

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        size = int(np.prod(_single_input(input_shapes)))
        if size % self.outputs:
            raise GraphError(f"average cannot split {size} neurons into {self.outputs} "
                             "equal groups")
        return (self.outputs,)

    def apply(self, spikes: np.ndarray) -> np.ndarray:
        """(N, *shape, T) spikes -> (N, outputs, T) group means (float64)."""
        n, steps = spikes.shape[0], spikes.shape[-1]
        grouped = np.asarray(spikes, dtype=np.float64).reshape(n, self.outputs, -1, steps)
        return grouped.mean(axis=2)


@dataclass(eq=False)
class LIF(Node):
    """Loihi's current-based leaky integrate-and-fire neuron (Lava's bit-accurate LIF).

    Per step, with a the summed input (file units), u and v 24-bit state, rtz = round toward 0:
        u = wrap24( rtz(u * (4096 - current_decay_12bit) / 4096) + (a << 6) )
        v = clip24( rtz(v * (4096 - voltage_decay_12bit) / 4096) + u + (bias_mant << 6) )
        s = v > (threshold_mant << 6);   v = 0 where s
    bias_mant has one value per channel (the first axis of `shape`).
    """

    shape: Shape
    threshold_mant: int
    current_decay_12bit: int
    voltage_decay_12bit: int
    bias_mant: np.ndarray = field(default=None)

    type_name: ClassVar[str] = "lif"
    max_inputs: ClassVar[int | None] = None

    def __post_init__(self):
        self.shape = as_shape(self.shape, "neuron shape")
        self.threshold_mant = int(as_int_array(self.threshold_mant, "threshold_mant", 0,
                                               THRESHOLD_MANT_MAX))
        self.current_decay_12bit = int(as_int_array(self.current_decay_12bit,
                                                    "current_decay_12bit", 0, DECAY_MAX))
        self.voltage_decay_12bit = int(as_int_array(self.voltage_decay_12bit,
                                                    "voltage_decay_12bit", 0, DECAY_MAX))
        bias = np.zeros(self.shape[0], np.int64) if self.bias_mant is None else self.bias_mant
        self.bias_mant = as_int_array(bias, "bias_mant", BIAS_MANT_MIN, BIAS_MANT_MAX)
        if self.bias_mant.shape != (self.shape[0],):
            raise GraphError(f"bias_mant must have one value per channel ({self.shape[0]}), "
                             f"got shape {self.bias_mant.shape}")

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        for shape in input_shapes:
            if tuple(shape) != self.shape:
                raise GraphError(f"neuron of shape {self.shape} receives input of shape {shape}")
        return self.shape


NODE_TYPES: dict[str, type[Node]] = {
    cls.type_name: cls for cls in (Input, Conv, Dense, SumPool, Flatten, Average, LIF)
}
SYNAPSE_TYPES = tuple(cls for cls in NODE_TYPES.values() if cls.latency_steps == 1)

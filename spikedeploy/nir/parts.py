"""NIR nodes -> float parts: one converter per NIR node type, before any quantization.

A part is what one NIR node means on Loihi, still in NIR's float units. Nodes that have no
exact meaning on Loihi raise `Unmappable` with the reason; docs/nir.md lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import nir
import numpy as np

from ..graph import Flatten, Input
from .units import NODE_TYPE_KEY


class Unmappable(Exception):
    """This NIR node has no exact equivalent on Loihi; the message says why."""


@dataclass
class Synapse:
    """Conv, dense or sum-pool in float units; `bias` (per output channel) enters the current."""

    kind: str                        # "conv", "dense" or "sumpool"
    weight: np.ndarray               # conv (O, I/g, kH, kW); dense (O, I); sumpool a scalar
    params: dict = field(default_factory=dict)   # stride, padding, ... as our nodes name them
    bias: np.ndarray | None = None
    weight_exp: int = 0              # dense: our weight_exp (from our own files)


@dataclass
class Neuron:
    """A CUBA LIF in Euler form: u = (1-du) u + gain * a;  v = (1-dv) v + u + bias."""

    shape: tuple[int, ...]
    du: float                        # dt / tau_syn, a fraction of the current lost per step
    dv: float                        # dt / tau_mem
    gain: np.ndarray                 # per neuron: (dt/tau_syn) w_in (dt/tau_mem) r
    threshold: float
    bias: np.ndarray                 # per channel, added to v every step: (dt/tau_mem) v_leak


@dataclass
class Readout:
    """SLAYER's Average block, as we export it (an Affine with weights 1/group)."""

    outputs: int


Part = Synapse | Neuron | Readout | Input | Flatten | None    # None: dropped (Output)
Converter = Callable[[nir.NIRNode, float], Part]


def uniform(values, what: str) -> float:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size and not np.allclose(arr, arr.flat[0], rtol=1e-6, atol=0):
        raise Unmappable(f"{what} differs between neurons, Loihi has one per layer")
    return float(arr.flat[0])


def per_channel(values, shape, what: str) -> np.ndarray:
    """(C,) from values over the whole (C, ...) layer, which must not vary within a channel."""
    arr = np.broadcast_to(np.asarray(values, dtype=np.float64), shape).reshape(shape[0], -1)
    if not np.allclose(arr, arr[:, :1], rtol=1e-6, atol=1e-12):
        raise Unmappable(f"{what} differs within a channel, Loihi has one per channel")
    return arr[:, 0].copy()


def _fraction(value: float, what: str) -> float:
    if not 0.0 <= value <= 1.0 + 1e-6:     # float32 time constants are off by ~1e-7
        raise Unmappable(f"dt/{what} = {value:.6g} lies outside [0, 1] (forward Euler at this "
                         "dt would overshoot; pass a smaller --dt)")
    return min(value, 1.0)


def _no_reset_offset(node) -> None:
    if node.v_reset is not None and np.any(np.asarray(node.v_reset) != 0):
        raise Unmappable("v_reset is not 0; Loihi resets the voltage to 0")


def _neuron(node, du, dv, gain, v_leak) -> Neuron:
    shape = tuple(int(s) for s in np.shape(node.v_threshold)) or (1,)
    _no_reset_offset(node)
    if np.any(np.asarray(node.v_threshold) < 0):
        raise Unmappable("v_threshold is negative; Loihi's threshold is unsigned")
    return Neuron(shape=shape, du=du, dv=dv,
                  gain=np.broadcast_to(np.asarray(gain, np.float64), shape).copy(),
                  threshold=uniform(node.v_threshold, "v_threshold"),
                  bias=per_channel(dv * np.asarray(v_leak, np.float64), shape, "v_leak"))


def _cuba_lif(node: nir.CubaLIF, dt: float) -> Part:
    du = _fraction(uniform(dt / np.asarray(node.tau_syn, np.float64), "tau_syn"), "tau_syn")
    dv = _fraction(uniform(dt / np.asarray(node.tau_mem, np.float64), "tau_mem"), "tau_mem")
    gain = du * np.asarray(node.w_in) * dv * np.asarray(node.r)
    return _neuron(node, du, dv, gain, node.v_leak)


def _lif(node: nir.LIF, dt: float) -> Part:
    """No synaptic current: Loihi's current that forgets everything each step (du = 1)."""
    dv = _fraction(uniform(dt / np.asarray(node.tau, np.float64), "tau"), "tau")
    return _neuron(node, 1.0, dv, dv * np.asarray(node.r), node.v_leak)


def _if(node: nir.IF, dt: float) -> Part:
    """dv/dt = R I, Euler: v += dt R I; no leak (dv = 0), no synaptic current (du = 1)."""
    return _neuron(node, 1.0, 0.0, dt * np.asarray(node.r), np.zeros(np.shape(node.r)))


def _pair(value) -> tuple[int, int]:
    arr = np.atleast_1d(np.asarray(value)).astype(np.int64)
    return (int(arr[0]), int(arr[-1]))


def _conv_padding(node: nir.Conv2d) -> tuple[int, int]:
    if isinstance(node.padding, str):
        if node.padding == "valid":
            return (0, 0)
        kernel, dilation = np.array(node.weight.shape[2:]), np.array(_pair(node.dilation))
        if _pair(node.stride) != (1, 1) or np.any(kernel % 2 == 0):
            raise Unmappable("padding 'same' is only exact with stride 1 and odd kernels")
        return _pair(dilation * (kernel - 1) // 2)
    return _pair(node.padding)


def _conv2d(node: nir.Conv2d, dt: float) -> Part:
    weight = np.asarray(node.weight, np.float64)
    if node.metadata.get(NODE_TYPE_KEY) == "sumpool":     # how we export a weighted sum-pool
        return Synapse("sumpool", np.float64(weight[0, 0, 0, 0]),
                       {"kernel": weight.shape[2:], "stride": _pair(node.stride),
                        "padding": _conv_padding(node)})
    return Synapse("conv", weight, {"stride": _pair(node.stride), "padding": _conv_padding(node),
                                    "dilation": _pair(node.dilation),
                                    "groups": int(node.groups)},
                   bias=np.asarray(node.bias, np.float64))


def _pool(average: bool) -> Converter:
    """SumPool2d: a sum-pool of weight 1. AvgPool2d: weight 1 / (kH kW), exact up to the
    rounding of that weight (the same sums, scaled)."""
    def convert(node, dt: float) -> Part:
        kernel = _pair(node.kernel_size)
        weight = 1.0 / (kernel[0] * kernel[1]) if average else 1.0
        return Synapse("sumpool", np.float64(weight),
                       {"kernel": kernel, "stride": _pair(node.stride),
                        "padding": _pair(node.padding)})
    return convert


def _linear(node: nir.Linear, dt: float) -> Part:
    weight = np.asarray(node.weight, np.float64)
    if weight.ndim != 2:
        raise Unmappable(f"weight of {weight.ndim} dimensions; Loihi's dense synapse is 2-D")
    return Synapse("dense", weight, weight_exp=int(node.metadata.get("weight_exp", 0)),
                   params={"netx_weight_fit": bool(node.metadata.get("netx_weight_fit", 0)),
                           "delay": node.metadata.get("delay")})


def _affine(node: nir.Affine, dt: float) -> Part:
    if node.metadata.get(NODE_TYPE_KEY) == "average":
        return Readout(int(node.metadata["outputs"]))
    part = _linear(node, dt)
    part.bias = np.asarray(node.bias, np.float64)
    return part


def _input(node: nir.Input, dt: float) -> Part:
    shape = tuple(int(s) for s in np.atleast_1d(node.input_type["input"]))
    return Input(shape, int(node.metadata.get("message_bits", 0)))


def _flatten(node: nir.Flatten, dt: float) -> Part:
    out = node.output_type.get("output")
    if out is not None and np.size(out) != 1:
        raise Unmappable(f"flattens to {np.asarray(out).tolist()}; spikedeploy flattens (C, H, "
                         "W) to one axis")
    return Flatten()


def _refuse(reason: str) -> Converter:
    def convert(node, dt: float) -> Part:
        raise Unmappable(reason)
    return convert


_NO_SPIKES = ("a non-spiking integrator: Loihi's neurons spike, and spikedeploy reads "
              "networks out through spikes")

CONVERTERS: dict[type, Converter] = {
    nir.Input: _input,
    nir.Output: lambda node, dt: None,
    nir.Affine: _affine,
    nir.Linear: _linear,
    nir.Conv2d: _conv2d,
    nir.SumPool2d: _pool(average=False),
    nir.AvgPool2d: _pool(average=True),
    nir.Flatten: _flatten,
    nir.CubaLIF: _cuba_lif,
    nir.LIF: _lif,
    nir.IF: _if,
    nir.CubaLI: _refuse(_NO_SPIKES),
    nir.LI: _refuse(_NO_SPIKES),
    nir.I: _refuse(_NO_SPIKES),
    nir.Threshold: _refuse("a bare threshold (Heaviside) without neuron state has no Loihi "
                           "equivalent"),
    nir.Scale: _refuse("an elementwise scale between layers has no Loihi process; fold it "
                       "into the weights before exporting"),
    nir.Delay: _refuse("explicit delays are not mapped (spikedeploy's synapses already take "
                       "one step, see docs/nir.md)"),
    nir.Conv1d: _refuse("1-D convolutions are not supported; spikedeploy's convolutions are "
                        "2-D"),
    nir.NIRGraph: _refuse("nested graphs (such as snnTorch's recurrent layers) are not "
                          "supported"),
}

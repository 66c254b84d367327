"""A fast, bit-exact process model for Lava's own Conv process (lava.proc.conv.process.Conv).

Lava's fixed-point model (`PyConvModelFixed`, lava/proc/conv/models.py) convolves every pair of
input and output channels with its own scipy call, every time step: Cout x Cin / groups Python
calls per layer and step. This model computes the same sums as one im2col matrix product per
group, in BLAS, and rounds them exactly as the stock model does.

Why the results are identical: the stock model sums integer products in float64 (scipy's
convolve2d of float64 weights), casts the sums to int32 (`astype(weight.dtype)`) and wraps them
to signed 24 bits (`utils.signed_clamp`). While |weight| * |input| * fan_in < 2^53 every partial
sum is an integer held exactly in float64, in any order of addition, so both models hold the
exact integer sums; we then apply the same numpy cast and the same Lava `signed_clamp`. Below
2^24 float32 is exact by the same argument and twice as fast. Beyond 2^53 the stock model's own
rounding depends on its summation order, so this model calls Lava's `utils.conv` itself.

Select it through Lava's run configuration, nothing of Lava's is patched:
    Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map={Conv: PyFastConvModel})
Unlike the stock model it keeps `groups` (and the other parameters) in 32 bits, so a depthwise
convolution over more than 127 channels works (the stock model's int8 Var overflows).

Lava imports this module standalone when it scans this directory: no relative imports here.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.conv import utils
from lava.proc.conv.process import Conv
from numpy.lib.stride_tricks import as_strided

OUTPUT_BITS = 24                # the stock fixed-point model wraps its output to 24 bits
FLOAT32_EXACT, FLOAT64_EXACT = 2**24, 2**53


def conv_lava_exact(x: np.ndarray, weight: np.ndarray, stride, padding, dilation,
                    groups: int) -> np.ndarray:
    """What Lava's fixed-point Conv model computes from input `x` (X, Y, C), int32 (X', Y', K).

    weight: Lava's (K, kX, kY, C / groups) kernel of a true convolution; stride, padding and
    dilation are (x, y) pairs, as the Conv process stores them.
    """
    fan_in = int(np.prod(weight.shape[1:]))
    bound = int(np.abs(weight).max(initial=0)) * int(np.abs(x).max(initial=0)) * fan_in
    if bound >= FLOAT64_EXACT:      # the stock model's own rounding: let it do the sums
        sums = utils.conv(x, weight, weight.shape[1:3], stride, padding, dilation, groups)
        return utils.signed_clamp(sums, bits=OUTPUT_BITS)
    dtype = np.float32 if bound < FLOAT32_EXACT else np.float64
    patches = _patches(x.astype(dtype), weight.shape[1:3], stride, padding, dilation)
    out_x, out_y = patches.shape[:2]
    k_total, k_group = weight.shape[0], weight.shape[0] // groups
    c_group = weight.shape[3]
    # a true convolution is a correlation with the kernel flipped in x and y
    flipped = weight[:, ::-1, ::-1, :].astype(dtype)
    cols = patches.reshape(out_x * out_y, *weight.shape[1:3], groups, c_group)
    cols = cols.transpose(3, 0, 1, 2, 4).reshape(groups, out_x * out_y, fan_in)
    kernels = flipped.reshape(groups, k_group, fan_in).transpose(0, 2, 1)
    sums = np.matmul(cols, kernels)                                  # (G, P, K / G)
    sums = sums.transpose(1, 0, 2).reshape(out_x, out_y, k_total)
    # the stock model's cast: float64 -> int32 (exact below 2^31, numpy's cast above)
    with np.errstate(invalid="ignore"):
        sums = sums.astype(np.float64).astype(np.int32)
    return utils.signed_clamp(sums, bits=OUTPUT_BITS)


def _patches(x: np.ndarray, kernel, stride, padding, dilation) -> np.ndarray:
    """(X', Y', kX, kY, C) view of the zero-padded input: every output's receptive field."""
    padded = np.pad(x, ((padding[0], padding[0]), (padding[1], padding[1]), (0, 0)))
    out_x, out_y = (
        (padded.shape[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2))
    sx, sy, sc = padded.strides
    return as_strided(padded, shape=(out_x, out_y, kernel[0], kernel[1], x.shape[2]),
                      strides=(sx * stride[0], sy * stride[1], sx * dilation[0],
                               sy * dilation[1], sc), writeable=False)


@implements(proc=Conv, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyFastConvModel(PyLoihiProcessModel):
    """Lava's fixed-point Conv, vectorised: same spikes as `PyConvModelFixed`, one BLAS call per
    group and step. Each Lava process runs it single-threaded (many run side by side)."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    a_buf: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    weight: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    kernel_size: np.ndarray = LavaPyType(np.ndarray, np.int32)
    stride: np.ndarray = LavaPyType(np.ndarray, np.int32)
    padding: np.ndarray = LavaPyType(np.ndarray, np.int32)
    dilation: np.ndarray = LavaPyType(np.ndarray, np.int32)
    groups: np.ndarray = LavaPyType(np.ndarray, np.int32)
    num_message_bits: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=5)
    weight_exp: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    num_weight_bits: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=5)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        from threadpoolctl import threadpool_limits
        # one BLAS thread per Lava process: the processes already run side by side
        self._blas_limit = threadpool_limits(limits=1, user_api="blas")

    def run_spk(self) -> None:
        self.a_out.send(self.a_buf)
        s_in = self.s_in.recv()
        if self.num_message_bits.item() == 0:     # binary spikes: as the stock model's bool cast
            s_in = (s_in != 0).astype(np.int32)
        self.a_buf = conv_lava_exact(s_in, self.weight, tuple(self.stride),
                                     tuple(self.padding), tuple(self.dilation),
                                     int(self.groups.item()))

"""Where a deployed network runs: Lava's CPU simulator, or Loihi 2 through lava-loihi.

The simulator runs Lava's bit-accurate fixed-point process models (`select_tag='fixed_pt'`).
Loihi 2 needs Intel's proprietary lava-loihi extension (INRC members); without it there is no
hardware path, and asking for one is a clear error rather than Lava's `NameError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.conv.process import Conv as LavaConv

from ..errors import SpikedeployError
from .procs.fastconv import PyFastConvModel

BACKENDS = ("sim", "loihi2")
# Process models for Lava's Conv on the simulator: ours (same spikes, no per-channel Python
# loop) or Lava's own. Chosen through Lava's run configuration, nothing of Lava's is patched.
CONV_MODELS = {"fast": PyFastConvModel, "stock": None}


def loihi_available() -> bool:
    """True when lava-loihi is importable (Lava's own check)."""
    from lava.utils import loihi
    return bool(loihi.is_installed())


@dataclass
class Backend:
    """Run configuration, how host processes (data in, probes out) connect to the network, and
    how state is reset between samples."""

    name: str
    run_cfg: object
    adapters: object = None           # lava-loihi's embedded_io.spike module on hardware
    # True: Lava Reset processes zero neuron and synapse state after every sample (exact).
    # False: neurons are LIFReset (what runs on the chip); synapse buffers are not reset, so
    # the previous sample's last step can reach the first step of the next.
    exact_reset: bool = True

    def connect(self, out_port, in_port, host_to_chip: bool = False,
                chip_to_host: bool = False) -> None:
        if self.adapters is not None and (host_to_chip or chip_to_host):
            adapter_cls = (self.adapters.PyToNxAdapter if host_to_chip
                           else self.adapters.NxToPyAdapter)
            adapter = adapter_cls(shape=out_port.shape)
            out_port.connect(adapter.inp)
            adapter.out.connect(in_port)
        else:
            out_port.connect(in_port)


def make_backend(name: str, conv: str = "fast") -> Backend:
    """`conv` picks the simulator's Conv model (CONV_MODELS); hardware runs lava-loihi's own."""
    if conv not in CONV_MODELS:
        raise SpikedeployError(f"unknown conv model '{conv}'; choose one of "
                               f"{', '.join(CONV_MODELS)}")
    if name == "sim":
        model = CONV_MODELS[conv]
        exceptions = {LavaConv: model} if model is not None else None
        return Backend("sim", Loihi2SimCfg(select_tag="fixed_pt",
                                           exception_proc_model_map=exceptions))
    if name == "loihi2":
        if not loihi_available():
            raise SpikedeployError(
                "the loihi2 backend needs Intel's lava-loihi extension, which is not installed "
                "here (it comes with INRC membership); use --backend sim for the bit-accurate "
                "CPU simulator")
        from lava.magma.core.run_configs import Loihi2HwCfg
        from lava.proc.embedded_io import spike as adapters
        return Backend("loihi2", Loihi2HwCfg(), adapters, exact_reset=False)
    raise SpikedeployError(f"unknown backend '{name}'; choose one of {', '.join(BACKENDS)}")

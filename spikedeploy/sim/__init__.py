"""Bit-exact fixed-point emulator of the graph (torch, CPU or CUDA). Imports no Lava."""

from .emulator import Emulator
from .lif import LIFParams, LIFState, lif_run, lif_step

__all__ = ["Emulator", "LIFParams", "LIFState", "lif_run", "lif_step"]

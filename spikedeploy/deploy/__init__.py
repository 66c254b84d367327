"""Graph -> Lava processes; run on the Lava CPU simulator or on Loihi 2 with lava-loihi."""

from .backends import BACKENDS, CONV_MODELS, loihi_available, make_backend
from .network import LavaNetwork
from .runner import run_lava

__all__ = ["BACKENDS", "CONV_MODELS", "LavaNetwork", "loihi_available", "make_backend", "run_lava"]

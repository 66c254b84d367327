"""Profiling of recorded activity: spike and synaptic-operation counts, energy per inference
from pluggable energy models, and chip resources. Reads spikes from any source (the emulator,
a Lava run, the training model); imports no Lava."""

from .energy import builtin_models, load_model
from .profiler import DEFAULT_MODELS, Profile, count, profile
from .resources import load_chip

__all__ = ["DEFAULT_MODELS", "Profile", "builtin_models", "count", "load_chip", "load_model",
           "profile"]

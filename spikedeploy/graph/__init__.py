"""The shared network description: node types, the graph, and its HDF5 file. numpy + h5py only."""

from .graph import Graph, chain
from .hdf5 import FORMAT_VERSION, read, write
from .nodes import (
    LIF,
    NODE_TYPES,
    SYNAPSE_TYPES,
    Average,
    Conv,
    Dense,
    Flatten,
    Input,
    Node,
    SumPool,
)

__all__ = [
    "FORMAT_VERSION", "Average", "Graph", "LIF", "NODE_TYPES", "SYNAPSE_TYPES", "Conv", "Dense",
    "Flatten", "Input", "Node", "SumPool", "chain", "read", "write",
]

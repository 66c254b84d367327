"""The network graph: named nodes and directed edges, validated once on construction.

Several edges into one node are summed (Lava adds several OutPorts connected to one InPort);
that is how a residual shortcut lands on a neuron. The graph is a DAG with exactly one `Input`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import GraphError
from .fields import Shape
from .nodes import LIF, SYNAPSE_TYPES, Average, Flatten, Input, Node

# Which node types may feed which: synapses read spikes or data, neurons read currents.
_ALLOWED_SOURCES: dict[type, tuple[type, ...]] = {
    LIF: (*SYNAPSE_TYPES, Input),
    Flatten: (LIF, Input),
    Average: (LIF,),          # a readout: nothing lists it as a source, so nothing reads it
    **{syn: (LIF, Input, Flatten) for syn in SYNAPSE_TYPES},
}


@dataclass
class Graph:
    """Named nodes plus (source, destination) edges. Treat as immutable once built."""

    nodes: dict[str, Node]
    edges: list[tuple[str, str]]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.nodes = dict(self.nodes)
        self.edges = [(str(a), str(b)) for a, b in self.edges]
        self._preds: dict[str, list[str]] = {name: [] for name in self.nodes}
        self._succs: dict[str, list[str]] = {name: [] for name in self.nodes}
        self._check_edges()
        self.order: list[str] = self._topological_order()
        self._check_structure()
        self.shapes: dict[str, Shape] = self._infer_shapes()

    # -- queries ---------------------------------------------------------------------------
    def predecessors(self, name: str) -> list[str]:
        return self._preds[name]

    def successors(self, name: str) -> list[str]:
        return self._succs[name]

    @property
    def input_name(self) -> str:
        return next(n for n in self.order if isinstance(self.nodes[n], Input))

    @property
    def output_names(self) -> list[str]:
        """Nodes nothing reads from, in topological order: the network's readout."""
        return [n for n in self.order if not self._succs[n]]

    @property
    def neuron_names(self) -> list[str]:
        return [n for n in self.order if isinstance(self.nodes[n], LIF)]

    def nodes_of_type(self, node_type: type) -> list[str]:
        return [n for n in self.order if isinstance(self.nodes[n], node_type)]

    def __eq__(self, other) -> bool:
        if not isinstance(other, Graph):
            return NotImplemented
        return (set(self.nodes) == set(other.nodes)
                and all(self.nodes[n] == other.nodes[n] for n in self.nodes)
                and sorted(self.edges) == sorted(other.edges))

    # -- validation ------------------------------------------------------------------------
    def _check_edges(self) -> None:
        seen = set()
        for src, dst in self.edges:
            for end in (src, dst):
                if end not in self.nodes:
                    raise GraphError(f"edge {src} -> {dst} refers to missing node '{end}'")
            if src == dst:
                raise GraphError(f"edge {src} -> {dst} is a self-loop")
            if (src, dst) in seen:
                raise GraphError(f"edge {src} -> {dst} appears twice")
            seen.add((src, dst))
            self._preds[dst].append(src)
            self._succs[src].append(dst)

    def _topological_order(self) -> list[str]:
        """Kahn's algorithm, stable in node insertion order."""
        remaining = {n: len(p) for n, p in self._preds.items()}
        ready = [n for n in self.nodes if remaining[n] == 0]
        order = []
        while ready:
            name = ready.pop(0)
            order.append(name)
            for succ in self._succs[name]:
                remaining[succ] -= 1
                if remaining[succ] == 0:
                    ready.append(succ)
        if len(order) != len(self.nodes):
            stuck = sorted(n for n in self.nodes if n not in set(order))
            raise GraphError(f"the graph has a cycle through nodes {', '.join(stuck)}")
        return order

    def _check_structure(self) -> None:
        inputs = self.nodes_of_type(Input)
        if len(inputs) != 1:
            raise GraphError(f"the graph needs exactly one input node, found {len(inputs)}")
        for name in self.order:
            node, preds = self.nodes[name], self._preds[name]
            self._check_arity(name, node, preds)
            allowed = _ALLOWED_SOURCES.get(type(node), ())
            for pred in preds:
                if not isinstance(self.nodes[pred], allowed):
                    raise GraphError(f"node '{name}' ({node.type_name}) cannot read from "
                                     f"'{pred}' ({self.nodes[pred].type_name})")
            if isinstance(node, SYNAPSE_TYPES):
                succs = self._succs[name]
                if len(succs) != 1 or not isinstance(self.nodes[succs[0]], LIF):
                    raise GraphError(f"synapse '{name}' must feed exactly one neuron, "
                                     f"feeds {succs or 'nothing'}")

    @staticmethod
    def _check_arity(name: str, node: Node, preds: list[str]) -> None:
        low, high = node.min_inputs, node.max_inputs
        if len(preds) < low or (high is not None and len(preds) > high):
            expected = f"{low}" if low == high else f"at least {low}" if high is None \
                else f"{low} to {high}"
            raise GraphError(f"node '{name}' ({node.type_name}) needs {expected} input edge(s), "
                             f"has {len(preds)}")

    def _infer_shapes(self) -> dict[str, Shape]:
        shapes: dict[str, Shape] = {}
        for name in self.order:
            try:
                shapes[name] = self.nodes[name].output_shape([shapes[p] for p in self._preds[name]])
            except GraphError as err:
                raise GraphError(f"node '{name}': {err.message}") from None
        return shapes


def chain(named_nodes: Iterable[tuple[str, Node]], metadata: dict | None = None) -> Graph:
    """A graph whose nodes are connected one after the other, in the given order."""
    named = list(named_nodes)
    edges = [(a, b) for (a, _), (b, _) in zip(named, named[1:], strict=False)]
    return Graph(dict(named), edges, metadata or {})

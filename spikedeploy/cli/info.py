"""spikedeploy info: what a network file holds, layer by layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import EXAMPLES

EPILOG = """examples:
  spikedeploy info runs/demo/network.h5"""


def register(sub) -> None:
    p = sub.add_parser("info", help="describe a network file", description=__doc__,
                       epilog=EPILOG, formatter_class=EXAMPLES)
    p.add_argument("network", type=Path)
    p.set_defaults(load=lambda: run)


def describe(graph) -> str:
    from ..graph import LIF, SYNAPSE_TYPES
    from ..report import format_table

    rows = [("node", "type", "inputs", "shape", "weights", "neuron")]
    for name in graph.order:
        node = graph.nodes[name]
        weights = str(np.size(node.weight)) if isinstance(node, SYNAPSE_TYPES) else ""
        neuron = (f"vth={node.threshold_mant} du={node.current_decay_12bit} "
                  f"dv={node.voltage_decay_12bit}" if isinstance(node, LIF) else "")
        rows.append((name, node.type_name, ",".join(graph.predecessors(name)),
                     "x".join(map(str, graph.shapes[name])), weights, neuron))
    return format_table(rows)


def run(args) -> int:
    from .. import graph as graphio

    graph = graphio.read(args.network)
    print(describe(graph))
    source = graph.metadata.get("source")
    if source:
        print(f"exported from: {source}")
    return 0

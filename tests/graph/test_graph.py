"""Graph invariants: every malformed graph is refused with a message naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

from spikedeploy.errors import GraphError
from spikedeploy.graph import LIF, Conv, Dense, Flatten, Graph, Input, SumPool, chain


def lif(shape):
    return LIF(shape=shape, threshold_mant=64, current_decay_12bit=1024, voltage_decay_12bit=128)


def small_chain():
    return chain([("x", Input((1, 4, 4))), ("c", Conv(np.ones((2, 1, 3, 3)) * 2, padding=1)),
                  ("n", lif((2, 4, 4))), ("f", Flatten()), ("d", Dense(np.ones((3, 32)) * 2)),
                  ("o", lif((3,)))])


def test_shapes_are_inferred_along_the_graph():
    g = small_chain()
    assert g.shapes == {"x": (1, 4, 4), "c": (2, 4, 4), "n": (2, 4, 4), "f": (32,),
                        "d": (3,), "o": (3,)}
    assert g.output_names == ["o"] and g.input_name == "x"
    assert g.neuron_names == ["n", "o"]


def test_conv_output_shape_with_stride_padding_dilation():
    node = Conv(np.zeros((5, 3, 3, 3)), stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    # H: (9 + 2 - 2 - 1) // 2 + 1 = 5 ; W: (9 + 0 - 4 - 1) // 1 + 1 = 5
    assert node.output_shape([(3, 9, 9)]) == (5, 5, 5)


def test_sumpool_output_shape():
    assert SumPool(kernel=2, weight=64).output_shape([(4, 8, 6)]) == (4, 4, 3)


@pytest.mark.parametrize("edges,message", [
    ([("x", "c"), ("c", "n"), ("n", "zz")], "missing node 'zz'"),
    ([("x", "c"), ("c", "n"), ("x", "c")], "appears twice"),
    ([("x", "c"), ("c", "n"), ("n", "n")], "self-loop"),
])
def test_bad_edges(edges, message):
    nodes = {"x": Input((1, 4, 4)), "c": Conv(np.ones((1, 1, 1, 1)) * 2), "n": lif((1, 4, 4))}
    with pytest.raises(GraphError, match=message):
        Graph(nodes, edges)


def test_cycle_is_refused():
    nodes = {"x": Input((2,)), "a": Dense(np.ones((2, 2)) * 2), "n": lif((2,)),
             "b": Dense(np.ones((2, 2)) * 2), "m": lif((2,))}
    with pytest.raises(GraphError, match="cycle through nodes"):
        Graph(nodes, [("x", "a"), ("a", "n"), ("n", "b"), ("b", "m"), ("m", "a")])


def test_shape_mismatch_names_the_node():
    nodes = {"x": Input((1, 4, 4)), "c": Conv(np.ones((2, 3, 3, 3)) * 2), "n": lif((2, 2, 2))}
    with pytest.raises(GraphError, match="node 'c': conv expects 3 input channels"):
        Graph(nodes, [("x", "c"), ("c", "n")])


def test_neuron_shape_must_match_its_synapses():
    nodes = {"x": Input((2,)), "d": Dense(np.ones((3, 2)) * 2), "n": lif((4,))}
    with pytest.raises(GraphError, match="neuron of shape"):
        Graph(nodes, [("x", "d"), ("d", "n")])


def test_synapse_must_feed_exactly_one_neuron():
    nodes = {"x": Input((2,)), "d": Dense(np.ones((2, 2)) * 2), "n": lif((2,)), "m": lif((2,))}
    with pytest.raises(GraphError, match="must feed exactly one neuron"):
        Graph(nodes, [("x", "d"), ("d", "n"), ("d", "m")])


def test_synapse_cannot_read_a_synapse():
    nodes = {"x": Input((2,)), "a": Dense(np.ones((2, 2)) * 2), "b": Dense(np.ones((2, 2)) * 2),
             "n": lif((2,))}
    with pytest.raises(GraphError, match=r"synapse 'a' must feed exactly one neuron"):
        Graph(nodes, [("x", "a"), ("a", "b"), ("b", "n")])


def test_exactly_one_input():
    with pytest.raises(GraphError, match="exactly one input"):
        Graph({"n": lif((2,))}, [])


@pytest.mark.parametrize("make,message", [
    (lambda: Dense(np.array([[1.5, 2.0]])), "must hold integers"),
    (lambda: Dense(np.array([[np.nan, 2.0]])), "NaN"),
    (lambda: Dense(np.array([[300, 2]])), r"must lie in \[-256, 255\]"),
    (lambda: Conv(np.ones((2, 2, 2))), "must be 4-D"),
    (lambda: Conv(np.ones((3, 1, 1, 1)), groups=2), "must divide C_out"),
    (lambda: LIF((2,), 64, 5000, 0), "current_decay_12bit"),
    (lambda: LIF((2,), 64, 0, 0, bias_mant=np.array([1, 2, 3])), "one value per channel"),
    (lambda: LIF((2,), 64, 0, 0, bias_mant=np.array([5000, 0])), "bias_mant"),
    (lambda: Input((2, 3)), "must be"),
])
def test_node_invariants(make, message):
    with pytest.raises(GraphError, match=message):
        make()

"""Plain netx files, as lava-dl writes them, read the way lava-dl's netx builds them."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from spikedeploy.errors import SpikedeployError
from spikedeploy.graph import LIF, Average, Conv, Dense, Flatten, Graph, Input, read, write
from spikedeploy.graph.netx import expand_delay, fit_weight_bits
from tests.conftest import LAVA_DL_NETX, needs_lava_dl_data


def strip_version(path):
    """Make one of our files a plain netx file: what lava-dl would have written."""
    with h5py.File(path, "r+") as f:
        del f.attrs["spikedeploy_format_version"]


@needs_lava_dl_data
def test_pilotnet_lif_reads_as_netx_builds_it():
    graph = read(LAVA_DL_NETX / "gts/pilotnet_lif/network.net")
    assert [graph.nodes[n].type_name for n in graph.order][:4] == ["input", "lif", "conv", "lif"]
    assert graph.shapes["input"] == (3, 66, 200)
    assert graph.shapes["layer5"] == (64, 2, 20) and isinstance(graph.nodes["layer6"], Flatten)
    assert graph.shapes["layer7"] == (100,)                  # dense shape (100, 1, 1) flattened
    conv = graph.nodes["layer4_synapse"]
    assert conv.stride == (2, 1) and conv.padding == (1, 0)  # (H, W), as SLAYER writes them
    assert graph.nodes["layer10_synapse"].weight.shape == (1, 10)   # a 1-D weight, reshaped
    assert all(graph.nodes[n].netx_weight_fit for n in graph.nodes_of_type(Dense))
    # the input block's weight and bias are netx's caller-side transform, not a neuron bias
    assert graph.metadata["netx_input_transform"] == {"weight": 40.0, "bias": 36.0}
    assert not graph.nodes["layer0"].bias_mant.any()


@needs_lava_dl_data
def test_ntidigits_delays_and_average_readout():
    graph = read(LAVA_DL_NETX / "gts/ntidigits/ntidigits.net")
    assert graph.nodes["input"].shape == (64,)     # (1, 1, 64) + flatten: netx sees a vector
    first = graph.nodes["layer2_synapse"]
    with h5py.File(LAVA_DL_NETX / "gts/ntidigits/ntidigits.net") as f:
        per_output = f["layer/2/delay"][()]
    assert first.delay.shape == (256, 64)
    np.testing.assert_array_equal(first.delay, np.repeat(per_output[:, None], 64, axis=1))
    assert isinstance(graph.nodes["layer5"], Average) and graph.shapes["layer5"] == (11,)
    assert graph.output_names == ["layer5"]


@needs_lava_dl_data
def test_dense_block_without_neuron_gets_netx_default_integrator():
    graph = read(LAVA_DL_NETX / "mnist.net")
    last = graph.nodes["layer3"]
    assert (last.threshold_mant, last.current_decay_12bit, last.voltage_decay_12bit) == (
        1 << 17, 0, 4096)


@needs_lava_dl_data
def test_sdnn_networks_are_refused_clearly():
    with pytest.raises(SpikedeployError, match="SDNN .* not supported") as err:
        read(LAVA_DL_NETX / "gts/pilotnet_sdnn/network.net")
    assert "network.net: layer 0" in str(err.value)


def test_netx_weight_fit_by_hand():
    # mixed signs, max 30 / min -38: scale min(127/30, 128/38) = 3.37 -> 2 bits (+1 for the
    # sign) = 2; all weights even, so one low zero bit, minus the sign bit: 8 - 2 - 0 = 6 bits
    fitted = fit_weight_bits(np.array([[30, -38], [2, 4]]))
    assert fitted.weight.tolist() == [[120, -152], [8, 16]]
    assert (fitted.num_weight_bits, fitted.weight_exp) == (6, -2)
    # excitatory up to 255 and odd: nothing to shift, all 8 bits
    fitted = fit_weight_bits(np.array([[255, 1]]))
    assert (fitted.weight.tolist(), fitted.num_weight_bits, fitted.weight_exp) == ([[255, 1]], 8, 0)
    # all zero: netx itself divides by zero; we pass the zeros through
    assert fit_weight_bits(np.zeros((2, 2), int)).weight.tolist() == [[0, 0], [0, 0]]


def test_delay_expansion_follows_netx():
    assert expand_delay(np.array([1, 2]), (2, 3)).tolist() == [[1, 1, 1], [2, 2, 2]]   # outputs
    assert expand_delay(np.array([1, 2, 3]), (2, 3)).tolist() == [[1, 2, 3], [1, 2, 3]]
    assert expand_delay(np.array([4, 5]), (2, 2)).tolist() == [[4, 4], [5, 5]]   # outputs win
    assert expand_delay(np.array(7), (1, 2)).tolist() == [[7, 7]]
    with pytest.raises(SpikedeployError, match="fits neither"):
        expand_delay(np.array([1, 2, 3, 4]), (2, 3))


def delay_graph(seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    nodes = {"x": Input((6,)), "d": Dense(rng.integers(-9, 9, (8, 6)), netx_weight_fit=True,
                                          delay=rng.integers(0, 5, (8, 6))),
             "n": LIF((8,), 3, 1024, 512), "avg": Average(2)}
    return Graph(nodes, [("x", "d"), ("d", "n"), ("n", "avg")])


def test_delays_fit_and_average_round_trip(tmp_path):
    graph = delay_graph()
    write(graph, tmp_path / "d.h5")
    assert read(tmp_path / "d.h5") == graph
    strip_version(tmp_path / "d.h5")         # as plain netx: the same, since netx always fits
    assert read(tmp_path / "d.h5") == graph


def test_bad_delays_and_refused_blocks(tmp_path):
    with pytest.raises(SpikedeployError, match=r"delay must lie in \[0, 62\]"):
        Dense(np.ones((1, 1)), delay=np.array([[63]]))
    with pytest.raises(SpikedeployError, match="cannot also have a weight_exp"):
        Dense(np.ones((1, 1)), weight_exp=1, netx_weight_fit=True)
    graph = Graph({"x": Input((1, 4, 4)), "c": Conv(np.ones((2, 1, 1, 1)) * 2),
                   "n": LIF((2, 4, 4), 5, 0, 0)}, [("x", "c"), ("c", "n")])
    write(graph, tmp_path / "c.h5")
    with h5py.File(tmp_path / "c.h5", "r+") as f:
        f["layer/1"].create_dataset("delay", data=np.ones(2))
    with pytest.raises(SpikedeployError, match="axonal delays on a conv block"):
        read(tmp_path / "c.h5")
    with h5py.File(tmp_path / "c.h5", "r+") as f:
        f["layer/0/type"][0] = b"concat"
    with pytest.raises(SpikedeployError, match="'concat' blocks .* are not supported"):
        read(tmp_path / "c.h5")

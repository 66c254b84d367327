"""lava-dl's own networks with recorded ground truth, in our emulator and through our deploy.

Each network is fed as lava-dl's tests feed it (lava/lib/dl/netx tests: test_hdf5.py,
test_hdf5_nx.py). Its arrays are in Lava's layout, (x, y, channel, time) or (neuron, time),
except tinynet's, which are SLAYER's (sample, channel, y, x, time). The recordings come from
runs whose time axis can be offset from Lava's by a step (they were made with SLAYER's timing);
each test states the offset, which is the one lava-dl's tests use or, where those compare less,
the only one that matches.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikedeploy.deploy import run_lava
from spikedeploy.graph import LIF, Dense, Input, chain, read
from spikedeploy.recording import from_internal, to_internal
from spikedeploy.sim import Emulator
from tests.conftest import LAVA_DL_NETX, needs_lava_dl_data

pytestmark = [pytest.mark.lava, needs_lava_dl_data]

PILOTNET = LAVA_DL_NETX / "gts" / "pilotnet_lif"
PILOTNET_LAYERS = ["input"] + [f"conv-{i}" for i in range(5)] + [f"fc-{i}" for i in range(4)]


def static_input(graph, frame: np.ndarray, steps: int) -> np.ndarray:
    """An (x, y, c) image shown for `steps` steps, as (1, C, H, W, T)."""
    x = np.repeat(frame[..., None], steps, axis=-1).astype(np.int64)
    return to_internal(x, graph.shapes[graph.input_name], "lava")


def test_pilotnet_lif_every_layer_every_step():
    """lava-dl sets the input neurons' bias to the image (image.npy); the recordings were made
    with netx's reset_interval=17 (found by matching: 16, lava-dl's hardware test's value, holds
    only up to step 16). Our input drives the input neurons' current, which equals their bias
    here: their current decays fully each step (iDecay = 4096)."""
    graph = read(PILOTNET / "network.net")
    assert graph.nodes["layer0"].current_decay_12bit == 4096
    x = static_input(graph, np.load(PILOTNET / "image.npy"), steps=24)
    emulated = Emulator(graph, reset_interval=17).run(torch.as_tensor(x))
    lava = run_lava(graph, x, reset_interval=17)
    for recording, node in zip(PILOTNET_LAYERS, graph.neuron_names, strict=True):
        file = "fc-3-s.npy" if recording == "fc-3" else f"{recording}.npy"
        truth = np.load(PILOTNET / file)[..., :24]
        np.testing.assert_array_equal(from_internal(emulated[node].numpy(), "lava")[0], truth,
                                      err_msg=f"emulator {node}")
        np.testing.assert_array_equal(from_internal(lava[node], "lava")[0], truth,
                                      err_msg=f"lava {node}")
    assert np.load(PILOTNET / "conv-4.npy").sum() > 1000        # not a test of silence


def test_tinynet_output_with_lava_dls_alignment():
    """lava-dl's test_tinynet: bias = input_bias.npy, resets every 17 steps staggered by layer,
    and compares output steps 2..16 with the recording's steps 1..15. The first layer matches
    the recording at the same step from step 1 (in step 0 it sees only its bias, which netx's
    reset before step 1 wipes), the input layer one step earlier."""
    root = LAVA_DL_NETX / "gts" / "tinynet"
    graph = read(LAVA_DL_NETX / "tiny.net")
    x = static_input(graph, np.load(root / "input_bias.npy"), steps=20)
    emulated = {k: v.numpy()[0] for k, v in
                Emulator(graph, reset_interval=17).run(torch.as_tensor(x)).items()}
    lava = {k: v[0] for k, v in run_lava(graph, x, reset_interval=17).items()}
    truth = {name: np.load(root / f"{file}.npy")[0] for name, file in
             [("layer0", "input"), ("layer1", "layer1"), ("layer2", "output")]}
    for ours in (emulated, lava):
        np.testing.assert_array_equal(ours["layer2"][..., 2:17], truth["layer2"][..., 1:])
        np.testing.assert_array_equal(ours["layer1"][..., 1:16], truth["layer1"][..., 1:])
        np.testing.assert_array_equal(ours["layer0"][..., :15], truth["layer0"][..., 1:])
    assert truth["layer2"].sum() > 50


def test_ntidigits_axonal_delays():
    """lava-dl's test_axonal_delay_ntidigits feeds input.npy with no reset and runs the first
    five blocks (netx refuses the average readout). The recording is our output one step later,
    over all 3000 steps; Lava (our deploy, DelayDense) is checked on the first 150 steps."""
    root = LAVA_DL_NETX / "gts" / "ntidigits"
    graph = read(root / "ntidigits.net")
    x = to_internal(np.load(root / "input.npy").astype(np.int64), (64,), "lava")
    truth = np.load(root / "output.npy")
    emulated = Emulator(graph).run(torch.as_tensor(x))
    output = emulated["layer4"].numpy()[0]
    np.testing.assert_array_equal(output[:, :-1], truth[:, 1:])
    assert not truth[:, 0].any() and truth.sum() > 20000
    steps = 150
    lava = run_lava(graph, x[..., :steps])
    for node in ("layer2", "layer3", "layer4", "layer5"):     # layer5: the average readout
        np.testing.assert_array_equal(lava[node][0], emulated[node].numpy()[0][..., :steps],
                                      err_msg=node)
    assert lava["layer4"].sum() > 100


def test_dense_block_of_lava_dls_block_tests():
    """lava-dl's test_blocks.py::test_dense: its recording comes with weights and input instead
    of a network file: one dense block into CUBA neurons (du = 4095, i.e. iDecay 4096; dv = 415;
    vth = 6), 2000 steps, recorded at Lava's own timing."""
    root = LAVA_DL_NETX / "gts" / "dense"
    graph = chain([("x", Input((200,))), ("d", Dense(np.load(root / "weight.npy"))),
                   ("n", LIF((256,), threshold_mant=6, current_decay_12bit=4096,
                             voltage_decay_12bit=415))])
    x = np.load(root / "in.npy").astype(np.int64)[None]
    truth = np.load(root / "out.npy")
    emulated = Emulator(graph).run(torch.as_tensor(x))["n"].numpy()[0]
    np.testing.assert_array_equal(emulated, truth)
    np.testing.assert_array_equal(run_lava(graph, x[..., :200])["n"][0], truth[:, :200])
    assert truth.sum() > 1000

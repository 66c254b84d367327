"""The compiled (CPU) and the trace-based observation of a neuron layer agree exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikedeploy.graph import LIF
from spikedeploy.sim.lif import LIFParams
from spikedeploy.sim.profile.activity import _observe_compiled, _observe_traces


@pytest.mark.parametrize("scale", [50, 2**17])          # ordinary input, then 24-bit overflow
def test_compiled_and_traced_observations_agree(scale):
    rng = np.random.default_rng(scale)
    node = LIF((3, 4, 4), threshold_mant=200, current_decay_12bit=300, voltage_decay_12bit=100,
               bias_mant=np.array([0, 5, -7]))
    activation = torch.as_tensor(rng.integers(-scale, scale, (12, 2, 3, 4, 4)), dtype=torch.int32)
    activation[:, :, 0] = 0                               # a silent, unbiased channel
    params = LIFParams.from_node(node)
    spikes_a, seen_a = _observe_compiled(activation, params)
    spikes_b, seen_b = _observe_traces(activation, params)
    torch.testing.assert_close(spikes_a.delayed, spikes_b.delayed.to(spikes_a.delayed.dtype))
    assert seen_a.active_per_step.tolist() == seen_b.active_per_step.tolist()
    assert (seen_a.current_wraps, seen_a.voltage_clips, seen_a.max_abs_current,
            seen_a.max_abs_voltage) == (seen_b.current_wraps, seen_b.voltage_clips,
                                        seen_b.max_abs_current, seen_b.max_abs_voltage)
    if scale > 1000:
        assert seen_a.current_wraps > 0 and seen_a.voltage_clips > 0
    assert seen_a.active_per_step[0] == 2 * 2 * 16            # biased channels from step one

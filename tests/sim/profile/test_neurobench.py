"""Our counts equal NeuroBench's where both define the same quantity, on the trained model.

NeuroBench (pip `neurobench`, an optional extra) hooks the model's synapse modules, whose input
is the one-step-delayed spikes: it sees every event except those of the last step, which no
synapse delivers within the sample. Our synaptic ops are charged to the step the event is
emitted, so its Effective_ACs / Effective_MACs equal ours without the last step. Its
ConnectionSparsity counts a SLAYER sum-pool's shared k x k kernel where we count the C x k x k
synapses the chip stores, so sparsity is compared on a network without pooling.
"""

from __future__ import annotations

import pytest
import torch

neurobench = pytest.importorskip(
    "neurobench", reason="neurobench is an optional extra (pip install '.[neurobench]' in its "
    "own environment, see docs/profiling.md)")

from lava.lib.dl.slayer.neuron import cuba  # noqa: E402
from neurobench.benchmarks import Benchmark  # noqa: E402
from neurobench.metrics.static import ConnectionSparsity  # noqa: E402
from neurobench.metrics.workload import ActivationSparsity, SynapticOperations  # noqa: E402
from neurobench.models import TorchModel  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from spikedeploy.graph import Input  # noqa: E402
from spikedeploy.sim.profile import count  # noqa: E402
from spikedeploy.sim.profile.connectivity import event_source, wiring  # noqa: E402
from spikedeploy.sim.profile.layers import sparsity  # noqa: E402
from tests.sim.profile.tiny_model import tiny_model  # noqa: E402


def neurobench_results(model, inputs):
    # NeuroBench deep-copies each synapse module; a quantizing pre-hook would drag the neuron
    # and its autograd state along, which torch refuses to copy. The weights already sit on the
    # grid, so the plain forward pass is the quantized one (checked below).
    x = torch.as_tensor(inputs, dtype=torch.float32)
    with torch.no_grad():
        quantized = model(x)
        model.set_quantized(False)
        assert torch.equal(model(x), quantized)
    wrapped = TorchModel(model)
    wrapped.add_activation_module(cuba.Neuron)
    loader = DataLoader(TensorDataset(x, torch.zeros(len(x))), batch_size=len(x))
    metrics = [[ConnectionSparsity], [SynapticOperations, ActivationSparsity]]
    return Benchmark(wrapped, loader, [], [], metrics).run(quiet=True)


def ours(graph, inputs):
    counts, conn = count(graph, inputs), wiring(graph)
    delivered = {"Effective_ACs": 0, "Effective_MACs": 0, "Dense": 0}
    for syn, ops in counts.synaptic_ops.items():
        source = graph.nodes[event_source(graph, syn)]
        graded = isinstance(source, Input) and source.message_bits > 0
        kind = "Effective_MACs" if graded else "Effective_ACs"
        delivered[kind] += int(ops["effective"][:-1].sum())       # delivered within the sample
        delivered["Dense"] += int(ops["dense"].sum())
    per_sample = {k: v / counts.samples for k, v in delivered.items()}
    return per_sample, sparsity(graph, counts, conn)


@pytest.mark.parametrize("overrides", [[], ["model.pool_kernel=0"]])
def test_synaptic_operations_and_sparsity_equal_neurobench(overrides):
    model, graph, inputs = tiny_model(samples=8, overrides=overrides)
    theirs = neurobench_results(model, inputs)
    ops, ratios = ours(graph, inputs)
    assert theirs["SynapticOperations"] == ops
    assert ops["Effective_MACs"] > 0 and ops["Effective_ACs"] > 0     # both kinds exercised
    assert theirs["ActivationSparsity"] == ratios["activation_sparsity"]
    if "model.pool_kernel=0" in overrides:
        assert theirs["ConnectionSparsity"] == round(ratios["connection_sparsity"], 4)

"""A graph as a network of Lava processes, run sample after sample, each from zero state.

On the simulator, Lava's own Reset process zeroes every neuron's u and v and every synapse's
output buffer after the last step of each sample (through a RefPort, in the management phase),
so each sample starts from zero as in training and the emulator. Lava's LIFReset alone would
still let the previous sample's last spikes, waiting in the synapse buffers, into the new sample
(shared/LAVA_NOTES.md section 4). Neuron spikes are recorded by `SpikeRecorder` into files;
readouts (an average layer) are computed from them on the host.

With `reset_interval` (lava-dl's netx `Network(reset_interval=R)`) the k-th neuron layer is a
LIFReset that zeroes itself at every step t with t % R == (k + 1) % R, as netx builds it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.proc.io.reset import Reset

from ..errors import SpikedeployError
from ..graph import LIF, Average, Graph, Input
from . import runtime
from .backends import Backend
from .builders import BUILDERS, Built, Context, from_lava_layout, lava_shape, to_lava_layout
from .procs.recorder import SpikeRecorder


class LavaNetwork:
    """Lava processes for `graph`, fed with `inputs` (N, *input_shape, T) and probed at `record`.

    Use as a context manager: the Lava runtime is stopped on leaving, also after an error, a
    timeout (`timeout_s`, wall clock for all samples) or Ctrl-C, and leaves no process behind.
    """

    def __init__(self, graph: Graph, inputs: np.ndarray, backend: Backend,
                 record: Iterable[str] | None = None, reset_interval: int | None = None,
                 timeout_s: float | None = None):
        if timeout_s is not None and not timeout_s > 0:
            raise SpikedeployError(f"timeout must be a positive number of seconds, got "
                                   f"{timeout_s}")
        self.timeout_s = timeout_s
        self._deadline: float | None = None
        self._clean = True              # False from the start of a run until it finished
        self.graph = graph
        self.backend = backend
        self.samples, self.steps = int(inputs.shape[0]), int(inputs.shape[-1])
        expected = graph.shapes[graph.input_name]
        if tuple(inputs.shape[1:-1]) != expected:
            raise SpikedeployError(f"input of shape {tuple(inputs.shape[1:-1])} does not match "
                                   f"the network's input shape {expected}")
        self._neuron_resets = self._neuron_reset_schedule(reset_interval)
        readouts = [n for n in graph.output_names if isinstance(graph.nodes[n], Average)]
        self.record = list(graph.neuron_names + readouts if record is None else record)
        self.readouts = [n for n in self.record if isinstance(graph.nodes[n], Average)]
        probed = {p for n in self.readouts for p in graph.predecessors(n)}
        self.built: dict[str, Built] = {}
        self._build(to_lava_layout(np.asarray(inputs)))
        self._files = tempfile.TemporaryDirectory(prefix="spikedeploy-lava-")
        self.recorders = {name: self._probe(name) for name in graph.order
                          if name in probed or (name in self.record and name not in self.readouts)}
        self.resets = self._add_resets() if backend.exact_reset else []
        self._started = False

    def _build(self, stimulus: np.ndarray) -> None:
        graph = self.graph
        message_bits = graph.nodes[graph.input_name].message_bits
        for name in graph.order:
            preds = graph.predecessors(name)
            ctx = Context(
                input_shape=graph.shapes[preds[0]] if preds else graph.shapes[name],
                input_message_bits=message_bits if graph.input_name in preds else 0,
                predecessor_ports=[self.built[p].out_port for p in preds],
                stimulus=stimulus if isinstance(graph.nodes[name], Input) else None,
                neuron_reset=self._neuron_resets.get(name))
            built = BUILDERS[type(graph.nodes[name])](graph.nodes[name], ctx)
            if built.in_port is not None:
                from_host = graph.input_name in preds
                for port in ctx.predecessor_ports:
                    self.backend.connect(port, built.in_port, host_to_chip=from_host)
            self.built[name] = built

    def _neuron_reset_schedule(self, reset_interval: int | None) -> dict[str, tuple[int, int]]:
        """(interval, offset) of each neuron that resets itself (a LIFReset), by name."""
        neurons = self.graph.neuron_names
        if reset_interval is not None:
            if reset_interval < 1:
                raise SpikedeployError(f"reset interval must be at least 1, got {reset_interval}")
            if self.samples > 1 and self.steps % reset_interval:
                # Lava counts steps across samples; the emulator restarts the count per sample
                raise SpikedeployError(f"with several samples the reset interval "
                                       f"({reset_interval}) must divide the steps per sample "
                                       f"({self.steps})")
            return {name: (reset_interval, k + 1) for k, name in enumerate(neurons)}
        if not self.backend.exact_reset:     # on the chip: zero neurons at each sample's start
            return dict.fromkeys(neurons, (self.steps, 1))
        return {}

    def _probe(self, name: str) -> SpikeRecorder:
        node = self.graph.nodes[name]
        if not isinstance(node, LIF):
            raise SpikedeployError(f"only neurons can be recorded in Lava, '{name}' is a "
                                   f"{node.type_name}")
        path = Path(self._files.name) / f"{len(list(Path(self._files.name).iterdir()))}.u8"
        recorder = SpikeRecorder(shape=lava_shape(node.shape),
                                 steps=self.samples * self.steps, path=path)
        self.backend.connect(self.built[name].out_port, recorder.a_in, chip_to_host=True)
        return recorder

    def _add_resets(self) -> list[Reset]:
        """Zero all state after the last step of every sample (post-management phase)."""
        resets = []
        for built in self.built.values():
            for var in built.state_vars:
                reset = Reset(reset_value=0, interval=self.steps, offset=self.steps - 1)
                reset.connect_var(var)
                resets.append(reset)
        return resets

    @property
    def anchor(self):
        """Any process of the network: Lava compiles and runs everything connected to it."""
        return self.built[self.graph.input_name].process

    def run_sample(self) -> None:
        """Run one sample's steps; raises SpikedeployError once `timeout_s` (counted from the
        first sample, compiling included) has passed."""
        if not self._started:
            self._started, self._clean = True, False
            if self.timeout_s is not None:
                self._deadline = time.monotonic() + self.timeout_s
            runtime.start(self.anchor, self.backend.run_cfg)
        self._clean = False
        self.anchor.run(condition=RunSteps(num_steps=self.steps, blocking=False))
        runtime.wait(self.anchor, self._deadline, self.timeout_s)
        self._clean = True

    def read(self) -> dict[str, np.ndarray]:
        """Recorded spikes as {node: (N, *shape, T) uint8}; readouts as their own arrays."""
        probed = {name: from_lava_layout(recorder.read(), self.samples)
                  for name, recorder in self.recorders.items()}
        for name in self.readouts:
            preds = self.graph.predecessors(name)
            probed[name] = self.built[name].readout([probed[p] for p in preds])
        return {name: probed[name] for name in self.record}

    def __enter__(self) -> LavaNetwork:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the runtime: Lava's way after a clean run; after an error, a timeout or Ctrl-C
        by ending its processes (deploy/runtime.py), since Lava's stop() can hang then."""
        try:
            if self._started:
                self._started = False
                runtime.stop(self.anchor, self._clean)
        finally:
            self._files.cleanup()

"""A Lava process that records what arrives on its input, step by step, into a file.

Lava's own sinks keep their data in a Var, and `Var.get` moves an array one element per message
(lava-nc 0.10, `_get_var`): minutes for the spikes of a few dozen samples. This recorder writes
each step into a memory-mapped file instead, which the host reads after the run in one go.
It is a new Process with its own ProcessModel: Lava's public extension mechanism, nothing of
Lava's is changed. Lava finds the model by scanning this module's directory.
"""

from __future__ import annotations

import os

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class SpikeRecorder(AbstractProcess):
    """Records `steps` steps of its input (spikes, as uint8) into the file at `path`."""

    def __init__(self, *, shape: tuple[int, ...], steps: int, path: str | os.PathLike):
        path = os.fspath(path)
        np.memmap(path, dtype=np.uint8, mode="w+", shape=(*shape, steps)).flush()
        super().__init__(shape=shape, steps=steps, path=path)
        self.a_in = InPort(shape=shape)
        self.path, self.shape, self.steps = path, tuple(shape), steps

    def read(self) -> np.ndarray:
        """(*shape, steps) uint8: what arrived in each step."""
        return np.array(np.memmap(self.path, dtype=np.uint8, mode="r",
                                  shape=(*self.shape, self.steps)))


@implements(proc=SpikeRecorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "floating_pt")
class PySpikeRecorderModel(PyLoihiProcessModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        shape, steps = tuple(proc_params["shape"]), proc_params["steps"]
        self._steps = steps
        self._file = np.memmap(proc_params["path"], dtype=np.uint8, mode="r+",
                               shape=(*shape, steps))

    def run_spk(self) -> None:
        data = self.a_in.recv()
        if self.time_step <= self._steps:
            self._file[..., self.time_step - 1] = data
        if self.time_step == self._steps:
            self._file.flush()

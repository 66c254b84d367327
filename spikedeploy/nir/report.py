"""What importing a NIR graph onto Loihi's fixed point cost: the quantization report."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field


@dataclass
class SynapseRounding:
    """One synapse's weights: largest and mean |quantized - original|, in NIR's float units."""

    name: str
    nir_type: str
    max_abs_weight: float
    max_abs_error: float
    mean_abs_error: float


@dataclass
class NeuronRounding:
    """One neuron layer's parameters before (NIR floats) and after (Loihi integers)."""

    name: str
    nir_type: str
    threshold: float                 # v_threshold, NIR units
    threshold_mant: int              # fires when v > threshold_mant << 6
    current_decay: float             # dt / tau_syn (1 for neurons without a current)
    current_decay_12bit: int
    voltage_decay: float             # dt / tau_mem
    voltage_decay_12bit: int
    max_abs_bias_error: float        # per step, NIR units


@dataclass
class QuantizationReport:
    """The weight scale chosen for the whole network and each node's rounding."""

    weight_scale: float              # file units per NIR float unit (integer weight = w * scale)
    scale_source: str                # why this scale
    dt: float                        # seconds per Loihi step the time constants were read at
    synapses: list[SynapseRounding] = field(default_factory=list)
    neurons: list[NeuronRounding] = field(default_factory=list)
    not_mapped: dict[str, str] = field(default_factory=dict)   # NIR node -> what became of it

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def text(self) -> str:
        lines = [f"weight scale: {self.weight_scale:g} file units per NIR unit "
                 f"({self.scale_source}); dt = {self.dt:g} s per step"]
        for s in self.synapses:
            lines.append(f"  {s.name} ({s.nir_type}): |w| <= {s.max_abs_weight:.4g}, rounding "
                         f"error max {s.max_abs_error:.3g} mean {s.mean_abs_error:.3g}")
        for n in self.neurons:
            lines.append(
                f"  {n.name} ({n.nir_type}): threshold {n.threshold:.4g} -> mant "
                f"{n.threshold_mant}; current decay {n.current_decay:.4g} -> "
                f"{n.current_decay_12bit}/4096; voltage decay {n.voltage_decay:.4g} -> "
                f"{n.voltage_decay_12bit}/4096; bias error <= {n.max_abs_bias_error:.3g}")
        for name, why in self.not_mapped.items():
            lines.append(f"  {name}: {why}")
        return "\n".join(lines)

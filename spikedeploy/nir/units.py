"""The unit conventions shared by both directions of the NIR mapping (docs/nir.md).

NIR's neurons are continuous-time ODEs with time constants in seconds; a simulator picks a
step dt and integrates them with forward Euler. Loihi's CUBA LIF is that Euler step with
decays d = dt / tau, so a graph maps onto Loihi once dt is fixed:

    I[t] = (1 - dt/tau_syn) I[t-1] + (dt/tau_syn) * w_in * S[t]
    v[t] = (1 - dt/tau_mem) v[t-1] + (dt/tau_mem) * (r * I[t] + v_leak)

With w_in = tau_syn/dt and r = tau_mem/dt both input gains are 1 and the two lines are
Loihi's `u = (1-du) u + a`, `v = (1-dv) v + u + bias` with du = dt/tau_syn, dv = dt/tau_mem and
bias = dv * v_leak. snnTorch exports and imports with exactly these gains and dt = 1e-4 s
(snntorch/export_nir.py, import_nir.py: `w_in = tau_syn / dt`, `r = tau_mem / dt`), so we use
the same dt by default: a file from snnTorch imports with the decays it was trained with.
"""

from __future__ import annotations

import math

from ..errors import SpikedeployError

# Seconds per time step when a NIR graph does not say (snnTorch's fixed dt, see above).
DEFAULT_DT_SECONDS = 1e-4

# A float (SLAYER / NIR) weight w is w * 64 in our file; the neuron state is that << 6 again.
FILE_UNITS_PER_FLOAT = 64

# 12-bit decays: a decay fraction d is stored as round(d * 4096).
DECAY_UNITS = 4096

# Graph metadata keys that mark a NIR file we wrote (their values make the way back exact).
FORMAT_KEY = "spikedeploy_format"      # 1
DT_KEY = "dt"                          # seconds per step the taus were written for
SCALE_KEY = "spikedeploy_weight_scale"  # file units per float unit (64)
GRAPH_METADATA_KEY = "spikedeploy_metadata"   # our graph's own metadata, as JSON
NODE_TYPE_KEY = "spikedeploy_type"     # on NIR nodes that stand for one of ours


def check_dt(dt) -> float:
    """`dt` as a float number of seconds, refused unless positive and finite."""
    try:
        value = float(dt)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise SpikedeployError(f"dt must be a positive number of seconds, got {dt!r}")
    return value

"""NIR interchange (neuromorphs/NIR): our graph to a `nir.NIRGraph` and back.

`to_nir` is exact (the float values are our integers divided by powers of two, and the
integers travel in node metadata); `from_nir` quantizes a float NIR graph onto Loihi's fixed
point and says what that cost in a `QuantizationReport`. See docs/nir.md.
"""

from .files import read_nir, write_nir
from .from_nir import from_nir
from .report import QuantizationReport
from .to_nir import to_nir

__all__ = ["QuantizationReport", "from_nir", "read_nir", "to_nir", "write_nir"]

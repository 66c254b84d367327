"""Keep freed memory in the process: the emulator allocates and frees tens of MiB per layer.

By default glibc gives large blocks straight back to the kernel (mmap/munmap above a threshold,
and trimming the heap top); every pass of the emulator then faults its pages in again, zeroed
by the kernel. On the benchmark ResNet (bench/emulator_vs_lava.py, 2 cores) that was 110-240
page faults per sample and step and 0.42-0.57 ms per sample and step; with freed memory kept
for reuse, 0-6 faults and 0.23-0.26 ms (measured side by side, batches of 4 and 64). The cost:
the process keeps the memory of its largest pass until it exits, which is what a simulation
run uses again anyway.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD = -1           # glibc's malloc.h: heap top kept up to this many bytes
M_MMAP_THRESHOLD = -3           # glibc's malloc.h: blocks above this come from mmap
KEEP_BYTES = 1 << 30


@functools.cache
def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks for reuse (once per process). False where the C
    library is not glibc or refuses; nothing changes then but speed."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):   # not glibc (musl, macOS), or no libc found
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, KEEP_BYTES) == 1 and mallopt(M_TRIM_THRESHOLD,
                                                                  KEEP_BYTES) == 1

"""Progress bars that show on a terminal and stay out of log files."""

from __future__ import annotations

import threading

from tqdm import tqdm


def bar(iterable, enabled: bool = True, **kwargs) -> tqdm:
    """A tqdm bar; with disable=None tqdm itself turns it off when stderr is not a terminal."""
    if not hasattr(tqdm, "_lock"):
        # tqdm's default lock includes a multiprocessing RLock, and creating one fixes
        # multiprocessing's start method; Lava sets it when imported and fails if it is already
        # fixed. Our bars never cross processes: a thread lock is enough.
        tqdm.set_lock(threading.RLock())
    return tqdm(iterable, disable=None if enabled else True, leave=False, **kwargs)

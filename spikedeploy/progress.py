"""Progress bars that show on a terminal and stay out of log files."""

from __future__ import annotations

from tqdm import tqdm


def bar(iterable, enabled: bool = True, **kwargs) -> tqdm:
    """A tqdm bar; with disable=None tqdm itself turns it off when stderr is not a terminal."""
    return tqdm(iterable, disable=None if enabled else True, leave=False, **kwargs)

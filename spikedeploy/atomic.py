"""Write files so that a crash or an error never leaves a half-written artifact behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

TMP_SUFFIX = ".tmp"
_MODE = 0o666                 # what open() asks for; the umask takes away the rest


def _umask() -> int:
    """The process's umask; Linux reports it in /proc, elsewhere reading it means setting it
    (briefly, which could race with another thread creating files)."""
    with contextlib.suppress(OSError, StopIteration, ValueError):
        status = Path("/proc/self/status").read_text().splitlines()
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it over `path` only if the block succeeds.

    The temporary file lives in the same directory so the final `os.replace` is atomic on POSIX.
    On any exception the temporary file is removed and `path` is left exactly as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX,
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(_MODE & ~_umask())        # mkstemp makes it private (0600); a plain open() would not
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically replace `path` with `text`."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def remove_leftovers(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files of writes into `folder` that a SIGKILL or power loss cut
    short (the `finally` above never ran). Call only while nothing else writes there."""
    stale = sorted(Path(folder).glob(f".*{TMP_SUFFIX}"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale

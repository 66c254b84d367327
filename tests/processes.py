"""Who is still running: this process's descendants, and what is left of a process group.

Read from /proc (Linux), so the tests need no psutil.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

# Python starts one resource tracker per interpreter on first use of shared memory and keeps it
# for the interpreter's life: not a process any run leaves behind.
_INTERPRETER_HELPERS = ("multiprocessing.resource_tracker",)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:          # the task ended while we looked
            pass
    return out


def descendants(pid: int | None = None) -> set[int]:
    """Every live process below `pid` (default: this one), interpreter helpers left out."""
    found, todo = set(), _children(pid or os.getpid())
    while todo:
        child = todo.pop()
        if child not in found and not any(h in _cmdline(child) for h in _INTERPRETER_HELPERS):
            found.add(child)
            todo += _children(child)
    return found


def group_members(pgid: int) -> set[int]:
    """Live (not zombie) processes in process group `pgid`, wherever they were reparented."""
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.add(int(stat.parent.name))
    return members


def settle(probe, expected, timeout_s: float = 15.0):
    """Poll `probe()` until it returns `expected` or the time is up; return its last value
    (processes take a moment to exit after being told to)."""
    deadline = time.monotonic() + timeout_s
    value = probe()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        value = probe()
    return value


def with_default_sigint() -> None:
    """Popen's preexec_fn for a child the test will Ctrl-C: SIGINT back to its default. A shell
    starts a background job (`cmd &` without job control) with SIGINT ignored, exec keeps it
    ignored and Python then installs no KeyboardInterrupt handler, so a suite run that way
    would see the CLI under test ignore the Ctrl-C the test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

"""Starting, waiting for and stopping Lava's runtime so that no failure hangs or leaks processes.

Lava 0.10 runs every process model in a forked child (`lava/magma/runtime/message_infrastructure/
multiprocessing.py`, start method 'fork'), plus a shared-memory manager process. Three things
go wrong with its own API, each handled here:

- A model that raises mid-run: the runtime service reports the error and exits, `wait()` raises,
  and a later `stop()` sends STOP to the dead service and waits forever for its reply (lava
  #231). After anything but a clean run we therefore end the children ourselves (`kill`).
- `wait()` has no timeout: we run non-blocking and poll the runtime service's reply channel
  against a deadline.
- Ctrl-C in a terminal goes to the whole process group; each forked child would die with its
  own KeyboardInterrupt traceback and leave the runtime waiting. The children are forked with
  a SIGINT handler that only takes note, so only this process acts on Ctrl-C; it raises
  KeyboardInterrupt here and `kill` ends the rest.

And one thing no handler can catch: SIGKILL (the OOM killer, `kill -9`) ends this process
without a word to its children, which would run on as orphans. On Linux each child the main
thread forks while Lava starts asks the kernel to SIGKILL it when its parent dies
(`dying_with_parent`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time

from ..errors import SpikedeployError

POLL_S = 0.002           # between looks at the reply channel; a Lava step takes ~1 ms or more
JOIN_S = 5.0             # for a killed child to be reaped


@contextlib.contextmanager
def sigint_held():
    """Keep Ctrl-C from every child forked inside; in this process, act on it on leaving.

    Signal handlers are inherited across fork, so the children keep this one, which only
    notes the signal. (A blocked signal mask would be inherited too, but Python's resource
    tracker, started with the first shared memory, unblocks SIGINT while Lava forks.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield                        # only the main thread receives SIGINT in Python
        return
    seen = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if seen:
        raise KeyboardInterrupt


PR_SET_PDEATHSIG = 1             # linux/prctl.h
_forking_parent: int | None = None   # while Lava forks: the pid its children must not outlive
_forking_thread: int | None = None   # ... and its thread whose forks are armed (the main one)


def _die_with_forking_parent() -> None:
    """In a child forked by Python (os.register_at_fork) inside `dying_with_parent`: have the
    kernel SIGKILL it when its parent ends, and pass the duty on to its own children."""
    global _forking_parent, _forking_thread
    # A forked child keeps the forking thread's id (pthread_self), which tells who forked it.
    if _forking_parent is None or threading.get_ident() != _forking_thread:
        return             # not in the window, or forked by a thread the window is not for
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != _forking_parent:    # the parent died before prctl: nobody will signal
        os._exit(1)
    _forking_parent, _forking_thread = os.getpid(), threading.get_ident()


if sys.platform.startswith("linux"):
    os.register_at_fork(after_in_child=_die_with_forking_parent)


@contextlib.contextmanager
def dying_with_parent():
    """Children forked inside by the main thread die with this process, even when it is
    SIGKILLed (Linux; a no-op elsewhere).

    The kernel signals a child when the *thread* that forked it ends, not the process. Only the
    main thread lives as long as the process, so a network started from any other thread (a
    worker pool, say) keeps its children unarmed rather than losing them when that thread ends.
    """
    global _forking_parent, _forking_thread
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _forking_parent, _forking_thread = os.getpid(), threading.get_ident()
    try:
        yield
    finally:
        _forking_parent = _forking_thread = None


def start(process, run_cfg) -> None:
    """Compile the network around `process` and fork its runtime, Ctrl-C kept from the children,
    which die with this process.

    Compiling happens before the window, so a Ctrl-C during a long compile acts at once.
    """
    executable = process.compile(run_cfg)
    with sigint_held(), dying_with_parent():
        process.create_runtime(executable=executable)


def wait(process, deadline: float | None, timeout_s: float | None) -> None:
    """Wait for a non-blocking run of `process` to finish, or raise once `deadline` (in
    time.monotonic()) has passed. Lava's `wait()` then collects the reply, or raises the error
    a process model reported."""
    runtime = process.runtime
    while not any(port.probe() for port in runtime.service_to_runtime):
        if deadline is not None and time.monotonic() > deadline:
            raise SpikedeployError(f"the Lava run did not finish within the timeout of "
                                   f"{timeout_s:g} s; stopped it")
        time.sleep(POLL_S)
    try:
        runtime.wait()
    except RuntimeError as err:
        # Lava says "N Exception(s) occurred. See output above" but logs them at INFO only.
        raise RuntimeError(f"{err.args[0].split('.')[0]} in Lava's processes; the first: "
                           f"{_first_failure(runtime)}") from None


def _first_failure(runtime) -> str:
    for actor in runtime._messaging_infrastructure.actors:
        if actor.exception:
            error, _ = actor.exception
            return f"{type(error).__name__}: {error}"
    return "unknown"


def stop(process, clean: bool) -> None:
    """Stop the runtime of `process`: Lava's own way after a clean run, `kill` otherwise."""
    runtime = process.runtime
    if runtime is None:
        return
    if clean:
        process.stop()
    else:
        kill(runtime)


def kill(runtime) -> None:
    """End every child of a runtime that may be hung, mid-run or half dead, and free its shared
    memory. Reaches into Lava's runtime because its public `stop()` is what hangs (lava #231)."""
    infrastructure = runtime._messaging_infrastructure
    actors = infrastructure.actors if infrastructure is not None else []
    for actor in actors:
        with contextlib.suppress(ValueError):          # already joined and closed by Lava
            if actor.is_alive():
                actor.kill()
    for actor in actors:             # Lava's SystemProcess.join() takes no timeout; the base does
        with contextlib.suppress(ValueError):
            multiprocessing.Process.join(actor, JOIN_S)
    for port in runtime._open_ports:                   # their threads are daemons; unblock them
        with contextlib.suppress(Exception):
            port.join()
    runtime._open_ports.clear()
    if infrastructure is not None and infrastructure.smm is not None:
        infrastructure.smm.shutdown()
    if runtime._watchdog_manager is not None:
        runtime._watchdog_manager.stop()
    # Runtime.__del__ calls stop() on a started runtime, which would hang at exit.
    runtime._is_running = runtime._is_started = False

"""Which forked children are armed to die with this process (PR_SET_PDEATHSIG, Linux)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

import pytest

from spikedeploy.deploy.runtime import dying_with_parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
PR_GET_PDEATHSIG = 2             # linux/prctl.h


def _death_signal_of_a_child() -> int:
    """Fork a child that exits with the signal the kernel will send it when its parent's
    forking thread ends (0: none)."""
    pid = os.fork()
    if pid == 0:
        signum = ctypes.c_int(-1)
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(signum), 0, 0, 0)
        os._exit(signum.value)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _in_a_thread(function):
    result = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


def _forked_in_the_window() -> int:
    with dying_with_parent():
        return _death_signal_of_a_child()


def test_children_the_main_thread_forks_in_the_window_die_with_this_process():
    assert _forked_in_the_window() == signal.SIGKILL


def test_children_forked_outside_the_window_are_left_alone():
    assert _death_signal_of_a_child() == 0


def test_a_window_opened_by_another_thread_arms_nothing():
    """That thread may end long before the run does; armed children would die with it."""
    assert _in_a_thread(_forked_in_the_window) == 0


def test_another_thread_forking_while_the_main_thread_holds_the_window_arms_nothing():
    with dying_with_parent():
        assert _in_a_thread(_death_signal_of_a_child) == 0

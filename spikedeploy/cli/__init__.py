"""`spikedeploy`: one command, one subcommand per stage. Only this package reads argv.

Errors a user can fix print as one line (`error: <file>: <problem>`) with exit status 2;
Ctrl-C stops cleanly with status 130, SIGTERM (a `kill`, a job scheduler) the same way with
status 143. `--debug` shows tracebacks for everything else.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading

from ..errors import SpikedeployError
from . import demo, deploy, export, info, nir, profile, sim, train
from .common import quiet_imports

COMMANDS = (demo, train, export, sim, deploy, profile, info, nir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikedeploy",
        description="Train spiking ResNets with lava-dl SLAYER and run them bit-exactly on "
                    "Loihi's fixed point: the Lava CPU simulator, our emulator, or Loihi 2.",
        epilog="Stages pass files: train -> checkpoint.pt -> export -> network.h5 -> sim/deploy "
               "-> recording.npz -> profile.  Run `spikedeploy demo` to see all of them once.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be, so that it takes the same
    clean way out: Lava's children killed, no half-written files."""


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within: SIGTERM to this process raises Terminated. Lava's forked children inherit the
    handler; in them it does what SIGTERM does by default, so Lava's own shutdown still works."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    main_pid = os.getpid()

    def on_sigterm(signum, frame):
        if os.getpid() != main_pid:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Terminated

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with sigterm_as_interrupt():
            with quiet_imports():          # lava-dl prints notices when first imported
                handler = args.load()
                for module in getattr(args, "preload", ()):
                    importlib.import_module(module)
            return handler(args) or 0
    except SpikedeployError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:          # a bug, not a user error: one line unless --debug
        if args.debug:
            raise
        print(f"internal error: {type(err).__name__}: {err} (rerun with --debug for the "
              "traceback)", file=sys.stderr)
        return 1

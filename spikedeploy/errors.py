"""The one error type users see: a single line naming the file and the problem."""

from __future__ import annotations

import os
import re


class SpikedeployError(Exception):
    """A problem with the user's input, reported as one line without a traceback.

    `path` names the file (or directory) the problem is in, when there is one; the CLI prints
    `error: <path>: <message>` and exits non-zero.
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        # One line whatever went into it (a numpy repr of a bad value spans several).
        self.message = re.sub(r"\s*\n\s*", " ", str(message)).strip()
        self.path = None if path is None else os.fspath(path)
        super().__init__(str(self))

    def __str__(self) -> str:
        return self.message if self.path is None else f"{self.path}: {self.message}"


class GraphError(SpikedeployError):
    """The network graph is malformed: unknown node, bad edge, shape mismatch, off-chip value."""


class ConfigError(SpikedeployError):
    """A configuration file or override is wrong: unknown key, wrong type, bad value."""

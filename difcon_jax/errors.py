"""The project's error types. Every one carries a one-line message naming the file (or setting) and the
problem; the command line's ``main`` prints it as ``difcon-jax: <message>`` and exits with status 2, so no
command handles them itself and no user sees a traceback for a bad input."""

from __future__ import annotations


class DifconError(Exception):
    """Base of the errors a user can act on (bad input, unreadable model folder, inconsistent settings)."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))  # one line, whatever the underlying message was


class InputError(DifconError, ValueError):
    """Bad user input. ``str(err)`` is one line: ``<source>: <problem>``."""

    def __init__(self, source: str, problem: str):
        self.source = str(source)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.source}: {self.problem}")


class CheckpointError(DifconError, RuntimeError):
    """A training or model directory that cannot be read (missing, corrupt, incompatible)."""


class ConfigError(DifconError, ValueError):
    """A config whose values cannot work together (names the fields at fault)."""


class NonFiniteLoss(DifconError, RuntimeError):
    """Training stopped at a NaN/inf loss; the message names the last good checkpoint."""

    exit_code = 3

"""One exception type for bad user input, rendered as a single line naming the file and the problem."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input. ``str(err)`` is one line: ``<source>: <problem>``."""

    def __init__(self, source: str, problem: str):
        self.source = str(source)
        self.problem = " ".join(str(problem).split())  # one line, whatever the underlying message was
        super().__init__(f"{self.source}: {self.problem}")

"""A wall-clock limit on a block of host code (a pyxtal attempt, one file of a build)."""

from __future__ import annotations

import contextlib
import signal
import threading


class OverTime(BaseException):
    """The block ran past its limit. A BaseException, so the ``except Exception`` of the libraries inside the
    block (gemmi, pyxtal, our parsers) cannot swallow it; catch it around the ``with``."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise :class:`OverTime` once ``seconds`` of wall time have passed (SIGALRM). No limit for
    ``seconds`` ≤ 0, off the main thread, or where SIGALRM does not exist. Python code is interrupted at
    once, a C call when it returns."""
    if not seconds > 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum, frame):
        raise OverTime()

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

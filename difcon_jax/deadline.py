"""A time limit on a block of host code: wall clock (one file of a build) or the process's own CPU time (a pyxtal
attempt, whose outcome must not depend on what else the machine is doing)."""

from __future__ import annotations

import contextlib
import signal
import threading


class OverTime(BaseException):
    """The block ran past its limit. A BaseException, so the ``except Exception`` of the libraries inside the
    block (gemmi, pyxtal, our parsers) cannot swallow it; catch it around the ``with``."""


@contextlib.contextmanager
def time_limit(seconds: float, clock: str = "wall"):
    """Raise :class:`OverTime` once ``seconds`` have passed: of wall time (``clock="wall"``, SIGALRM) or of this
    process's CPU time (``clock="cpu"``, SIGPROF: user + system time of all its threads — a budget that other
    processes on the machine cannot use up, so what runs inside it ends the same way on a busy machine as on an
    idle one). No limit for ``seconds`` ≤ 0, off the main thread, or where ``setitimer`` does not exist. Python
    code is interrupted at once, a C call when it returns."""
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be 'wall' or 'cpu', not {clock!r}")
    if not seconds > 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum, frame):
        raise OverTime()

    sig, timer = (signal.SIGALRM, signal.ITIMER_REAL) if clock == "wall" else (signal.SIGPROF, signal.ITIMER_PROF)
    previous = signal.signal(sig, handler)
    signal.setitimer(timer, seconds)
    try:
        yield
    finally:
        signal.setitimer(timer, 0)
        signal.signal(sig, previous)

"""A budget of work, not time, for one pyxtal attempt: the same attempt ends the same way on every run.

A time budget decides an attempt that needs about the budget differently from run to run: its CPU time moves by
±30 % with the load beside it (2026-12-04, the quickstart's seed 0: crystal 950 needed 4.9–5.1 s against a 5 s
budget and came out different in one run of three). pyxtal's placement spends most of its time in
``pyxtal.operations.distance_matrix`` (9.9 s of CPU: 32,300 calls, 8.4 s of them there under cProfile), and how
often an attempt calls it depends only on the attempt's random state. :func:`pyxtal_work_limit` counts those calls
and stops the attempt past ``calls`` of them.
"""

from __future__ import annotations

import contextlib

from difcon_jax.deadline import OverTime


class OverWork(OverTime):
    """A pyxtal attempt made more distance checks than its budget (an :class:`OverTime`: the same handling)."""


# the pyxtal modules that call distance_matrix through a module-level name of their own
_CALLERS = ("pyxtal.operations", "pyxtal.symmetry", "pyxtal.wyckoff_site")


@contextlib.contextmanager
def pyxtal_work_limit(calls: int):
    """Within the block, the ``calls + 1``-th call of pyxtal's ``distance_matrix`` raises :class:`OverWork`, and so
    does every later one (pyxtal's bare ``except:`` clauses may catch the first). Yields a dict whose ``over`` says
    afterwards whether the budget was passed — the caller's verdict, whatever pyxtal did with the exception. No
    limit for ``calls`` ≤ 0. Main-thread code only: the names are swapped module-wide for the block's length."""
    import importlib

    state = {"calls": 0, "over": False}
    if calls <= 0:
        yield state
        return
    modules = [importlib.import_module(name) for name in _CALLERS]
    originals = {m: m.distance_matrix for m in modules if hasattr(m, "distance_matrix")}

    def counting(original):
        def distance_matrix(*args, **kwargs):
            state["calls"] += 1
            if state["calls"] > calls:
                state["over"] = True
                raise OverWork()
            return original(*args, **kwargs)
        return distance_matrix

    for m, original in originals.items():
        m.distance_matrix = counting(original)
    try:
        yield state
    finally:
        for m, original in originals.items():
            m.distance_matrix = original

"""pyxtal_work_limit: a pyxtal attempt's budget counted in distance checks, so its outcome is the same on every run."""

import numpy as np
import pytest

from difcon_jax.crystal.pyxtal_work import OverWork, pyxtal_work_limit
from difcon_jax.crystal.synthetic import SynthOptions, random_structure


def test_the_budget_counts_stops_and_puts_pyxtal_back():
    import pyxtal.operations as ops
    import pyxtal.wyckoff_site as ws

    before = (ops.distance_matrix, ws.distance_matrix)
    lattice, a, b = np.eye(3) * 4.0, np.zeros((1, 3)), np.full((1, 3), 0.5)
    with pyxtal_work_limit(2) as work:
        assert ws.distance_matrix(a, b, lattice)[0, 0] == pytest.approx(np.sqrt(12.0))  # a caller's own name counts
        ops.distance_matrix(a, b, lattice)
        with pytest.raises(OverWork):
            ops.distance_matrix(a, b, lattice)
        try:  # pyxtal's bare `except:` may swallow it: every later call raises again, and the verdict stays
            ws.distance_matrix(a, b, lattice)
        except BaseException:
            pass
    assert work == {"calls": 4, "over": True}
    assert (ops.distance_matrix, ws.distance_matrix) == before
    with pyxtal_work_limit(0) as unlimited:  # no budget
        ops.distance_matrix(a, b, lattice)
    assert unlimited == {"calls": 0, "over": False} and ops.distance_matrix is before[0]


def test_an_attempt_past_its_budget_is_redrawn_the_same_way_every_time():
    # the quickstart's crystal 668 (seed 0, ≤ 32 atoms): its first attempt makes ~1,760 distance checks
    opts = SynthOptions(max_atoms=32)
    first, _ = random_structure(0, 668, opts)
    tight = SynthOptions(max_atoms=32, work_calls=500)
    a, _ = random_structure(0, 668, tight)
    b, _ = random_structure(0, 668, tight)
    assert a.formula == b.formula and np.array_equal(a.frac, b.frac) and a.cell == b.cell
    assert (a.formula, a.space_group) != (first.formula, first.space_group)  # the budget decided: another crystal

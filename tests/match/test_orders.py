"""Lines that are orders of one reflection (an oriented sample), told apart from a powder pattern."""

import numpy as np
import pytest

from difcon_jax.grid import Grid
from difcon_jax.match.orders import describe_one_spacing, one_spacing
from tests.helpers.match import CENTRES, N_BINS, TT_MAX, measured, simulate

GRID = Grid(N_BINS, 0.0, TT_MAX, 1.54184)
KA1, KA2 = 1.540593, 1.544414


def film(d: float, orders, zero: float = 0.0, fwhm: float = 0.12, extra=()) -> tuple[np.ndarray, np.ndarray]:
    """A background-free profile of the orders ``orders`` of one spacing ``d`` (Å), Kα1 + Kα2 (half as strong),
    intensities falling with the order, plus ``extra`` (2θ, height) lines; (profile, weight) as measured."""
    y = np.zeros(N_BINS)
    lines = [(2 * np.degrees(np.arcsin(n * lam / (2 * d))) + zero, r / n)
             for n in orders for lam, r in ((KA1, 1.0), (KA2, 0.5))] + list(extra)
    for t, h in lines:
        y += h * np.exp(-4 * np.log(2) * (CENTRES - t) ** 2 / fwhm ** 2)
    return measured(y, low=4.0)


def test_a_basal_series_fixes_its_spacing_and_the_zero_shift():
    # a mica pressed flat: 00l of d = 10.0 Å, orders 1–5 (002 weak: kept), the sample 0.1° too high
    y, w = film(10.0, (1, 2, 3, 4, 5), zero=0.1)
    rec = one_spacing(y, w, GRID, "Cu")
    assert rec is not None and rec["orders"] == [1, 2, 3, 4, 5]
    assert rec["d"] == pytest.approx(10.0, rel=2e-3) and rec["zero"] == pytest.approx(0.1, abs=0.03)
    text = describe_one_spacing(rec)
    assert f"d = {rec['d']:.3f} Å" in text and "do not test the space group" in text
    # an order missing from the series (an extinction) is still one spacing
    assert one_spacing(*film(10.0, (1, 3, 4, 5)), GRID, "Cu")["orders"] == [1, 3, 4, 5]


def test_a_powder_pattern_or_one_foreign_line_is_not_a_series():
    # NaCl (111, 200, 220, …: Q ratios 3 : 4 : 8) is a cell, not one spacing
    assert one_spacing(*measured(simulate("NaCl"), low=4.0), GRID, "Cu") is None
    # the series with one line that is no order of it (an impurity at 31°) is not "one spacing" either
    assert one_spacing(*film(10.0, (1, 2, 3), extra=((31.0, 0.4),)), GRID, "Cu") is None
    # two lines fix no zero shift: their ratio must be an integer as measured (2.1 is not)
    t1 = 2 * np.degrees(np.arcsin(KA1 / 20.0))
    t2 = 2 * np.degrees(np.arcsin(2.1 * KA1 / 20.0))
    assert one_spacing(*film(1e9, (), extra=((t1, 1.0), (t2, 0.5))), GRID, "Cu") is None
    # and one line is not a series
    assert one_spacing(*film(10.0, (1,)), GRID, "Cu") is None

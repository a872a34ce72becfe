"""Single-line (Kα1-only) patterns: detected from the profile, shown to the network with Kα2 added
(difcon_jax/patterns/doublet.py)."""

import numpy as np
import pytest

from difcon_jax.crystal.radiation import WAVELENGTHS
from difcon_jax.grid import Grid
from difcon_jax.patterns import doublet

GRID = Grid(4500, 0.0, 90.0, WAVELENGTHS["CuKa"])
# an fcc cell (a = 4.05 Å): its reflections' d-spacings, intensities falling with angle
_HKL = [(1, 1, 1), (2, 0, 0), (2, 2, 0), (3, 1, 1), (2, 2, 2), (4, 0, 0), (3, 3, 1), (4, 2, 0), (4, 2, 2), (5, 1, 1)]
D = 4.05 / np.sqrt([h * h + k * k + l * l for h, k, l in _HKL])
AREA = np.linspace(1.0, 0.3, len(D))


def render(lines, fwhm: float = 0.08, anode: str = "Cu") -> np.ndarray:
    """float[n_bins]: Gaussian lines of the fcc cell on GRID for each (wavelength key, weight) of ``lines``, the
    wavelengths scaled to the grid's λ_ref as a file of that anode's Kα mean converted through d lands them."""
    y = np.zeros(GRID.n_bins)
    scale = GRID.lambda_ref / WAVELENGTHS[f"{anode}Ka"]
    for key, weight in lines:
        s = WAVELENGTHS[f"{anode}{key}"] * scale / (2 * D)
        for t, a in zip(2 * np.degrees(np.arcsin(s[s < 1])), AREA):
            y += weight * a * np.exp(-4 * np.log(2) * ((GRID.centres - t) / fwhm) ** 2)
    return y / y.max()


SINGLE = render([("Ka1", 1.0)])
DOUBLE = render([("Ka1", 1.0), ("Ka2", 0.5)])


def test_the_companions_are_added_where_a_tube_puts_kalpha2():
    added = doublet.with_ka2(SINGLE, GRID)
    assert added.max() == pytest.approx(1.0) and added.dtype == np.float32
    # the single line made a doublet is the doublet itself (to the interpolation of a 0.02° grid)
    assert np.abs(added - DOUBLE / DOUBLE.max() * added.max()).max() < 0.03
    # at the 222 line (~ 82°) the companion stands 0.25° above, at half the height
    t1 = 2 * np.degrees(np.arcsin(WAVELENGTHS["CuKa1"] * GRID.lambda_ref / WAVELENGTHS["CuKa"] / (2 * D[4])))
    t2 = 2 * np.degrees(np.arcsin(np.sin(np.radians(t1) / 2) * WAVELENGTHS["CuKa2"] / WAVELENGTHS["CuKa1"]))
    assert t2 - t1 == pytest.approx(0.25, abs=0.02)
    j1, j2 = (int(np.argmin(np.abs(GRID.centres - t))) for t in (t1, t2))
    assert added[j2] / added[j1] == pytest.approx(0.5, abs=0.05)


def test_a_single_line_pattern_is_told_from_a_doublet():
    assert doublet.ka2_score(SINGLE, None, GRID) < doublet.THRESHOLD
    assert doublet.ka2_score(DOUBLE, None, GRID) > doublet.THRESHOLD
    # lines broader than the split tell nothing: a broad doublet is never taken for a single line
    assert doublet.ka2_score(render([("Ka1", 1.0), ("Ka2", 0.5)], fwhm=0.6), None, GRID) > doublet.THRESHOLD
    # a pattern with nothing above 40° is left alone, and so is one with noise alone there: noise is no line
    low = np.where(GRID.centres < 40, SINGLE, 0.0)
    assert doublet.ka2_score(low, None, GRID) == 0.0
    noisy = low + np.abs(np.random.default_rng(0).normal(0, 0.01, GRID.n_bins))
    assert doublet.ka2_score(noisy, None, GRID) == 0.0
    # the same lines standing clear of that noise are judged
    assert doublet.ka2_score(SINGLE + np.abs(np.random.default_rng(0).normal(0, 0.01, GRID.n_bins)), None,
                             GRID) < doublet.THRESHOLD


def test_a_doublet_is_judged_at_its_own_anodes_split():
    # Mo's split is 2.4× Cu's in sin θ: judged at Cu's, a Mo doublet would read as single lines
    mo = render([("Ka1", 1.0), ("Ka2", 0.5)], anode="Mo")
    assert doublet.ka2_score(mo, None, GRID, "Mo") > doublet.THRESHOLD
    assert doublet.ka2_score(mo, None, GRID, "Cu") < doublet.THRESHOLD
    # a split of many line widths leaves nothing to compare at the moves scored: Mo Kα1 alone is left alone
    mo_single = render([("Ka1", 1.0)], anode="Mo")
    assert doublet.ka2_score(mo_single, None, GRID, "Mo") > doublet.THRESHOLD


def test_the_network_view_changes_only_the_single_line_patterns():
    x = np.stack([SINGLE, DOUBLE]).astype(np.float32)
    shown, lacked = doublet.network_view(x, GRID)
    assert lacked.tolist() == [True, False]
    np.testing.assert_array_equal(shown[1], x[1])
    np.testing.assert_allclose(shown[0], doublet.with_ka2(x[0], GRID))
    # a synthesised doublet reads as a doublet: shown twice, nothing more is added
    again, lacked2 = doublet.network_view(shown, GRID)
    assert not lacked2.any() and np.array_equal(again, shown)
    # measured only below 40°: nothing to judge by
    weights = np.stack([GRID.centres < 40] * 2).astype(np.float32)
    assert not doublet.network_view(x, GRID, weights)[1].any()


def test_predict_says_when_the_network_was_shown_kalpha2(tmp_path):
    from difcon_jax.inference.predict_files import predict_files

    keep = GRID.centres >= 5
    files = []
    for name, y in (("single", SINGLE), ("double", DOUBLE)):
        path = tmp_path / f"{name}.xy"
        np.savetxt(path, np.stack([GRID.centres[keep], 1000 * y[keep] + 10], 1), fmt="%.4f")
        files.append(str(path))
    results, profiles, errors = predict_files(files)
    assert errors == [] and [r["ka2_added"] for r in results] == [True, False]
    # the profiles returned (plotted, fitted) are the measurement's own, not the network's view
    assert doublet.ka2_score(profiles[0], None, GRID) < doublet.THRESHOLD

"""The independent lab simulator, checked as physics: the TCH profile has unit area and the FWHM its formula
says, Kα1/Kα2/Kβ lines sit where d and λ put them with the stated ratio, counts are Poisson around the
model, and its patterns read through the measured-file path."""

import numpy as np
import pytest

from difcon_jax.crystal.radiation import WAVELENGTHS
from difcon_jax.evaluate.lab_renderer import LabRanges, render_lab_pattern, tch_profile
from difcon_jax.patterns.preprocess import to_model_input


@pytest.mark.parametrize("g, lo", [(0.1, 0.0), (0.1, 0.05), (0.02, 0.2), (0.3, 0.3)])
def test_tch_profile_area_and_fwhm(g, lo):
    x = np.linspace(-40, 40, 800001)
    p, fwhm, eta = tch_profile(x, g, lo + 1e-12)
    assert np.trapezoid(p, x) == pytest.approx(1.0, abs=0.01 if lo else 1e-6)  # Lorentz tails beyond ±40°
    above = x[p >= p.max() / 2]
    assert above.max() - above.min() == pytest.approx(fwhm, rel=2e-3)
    assert 0 <= eta <= 1 and (eta == pytest.approx(0, abs=1e-6) if lo == 0 else eta > 0)


def _quiet(**kw):
    """Ranges with one value each (a deterministic instrument) unless overridden."""
    fixed = dict(step=(0.01, 0.01), start=(10.0, 10.0), end=(80.0, 80.0), U=(0.0, 0.0), V=(0.0, 0.0),
                 W=(0.0009, 0.0009), X=(0.0, 0.0), Y=(0.0, 0.0), zero=(0.0, 0.0), displacement_mm=(0.0, 0.0),
                 axial_deg=(0.0, 0.0), kbeta=(0.0, 0.0), texture_probability=0.0, peak_counts=(1e7, 1e7),
                 background_fraction=(1e-6, 1e-6), air_scatter=(0.0, 0.0), hump_probability=0.0)
    fixed.update(kw)
    return LabRanges(**fixed)


def _peak_area(m, lo, hi):
    sel = (m.two_theta > lo) & (m.two_theta < hi)
    return m.intensity[sel].sum(), m.two_theta[sel][np.argmax(m.intensity[sel])]


def test_lines_sit_where_d_and_lambda_put_them():
    d = WAVELENGTHS["CuKa"] / (2 * np.sin(np.radians(40.0) / 2))  # a stick at 40.0° on the Cu Kα-mean scale
    m = render_lab_pattern(np.random.default_rng(0), np.array([40.0]), np.array([100.0]),
                           ranges=_quiet(kbeta=(0.02, 0.02)))
    expect = {k: 2 * np.degrees(np.arcsin(WAVELENGTHS[k] / (2 * d))) for k in ("CuKa1", "CuKa2", "CuKb1")}
    a1, p1 = _peak_area(m, expect["CuKa1"] - 0.05, expect["CuKa1"] + 0.04)
    a2, p2 = _peak_area(m, expect["CuKa2"] - 0.04, expect["CuKa2"] + 0.05)
    ab, pb = _peak_area(m, expect["CuKb1"] - 0.1, expect["CuKb1"] + 0.1)
    assert abs(p1 - expect["CuKa1"]) < 0.011 and abs(p2 - expect["CuKa2"]) < 0.011 and abs(pb - expect["CuKb1"]) < 0.011
    assert a2 / a1 == pytest.approx(0.5, rel=0.05) and ab / a1 == pytest.approx(0.02, rel=0.1)
    assert m.wavelength == WAVELENGTHS["CuKa"] and m.wavelength_source == "file"


def test_displacement_and_asymmetry_move_low_angle_peaks_down():
    tt, area = np.array([20.0]), np.array([100.0])
    plain = render_lab_pattern(np.random.default_rng(0), tt, area, ka2=False, ranges=_quiet())
    moved = render_lab_pattern(np.random.default_rng(0), tt, area, ka2=False, ranges=_quiet(displacement_mm=(0.2, 0.2)))
    tail = render_lab_pattern(np.random.default_rng(0), tt, area, ka2=False, ranges=_quiet(axial_deg=(0.1, 0.1)))
    centroid = lambda m: (m.two_theta * m.intensity).sum() / m.intensity.sum()  # noqa: E731
    shift = np.degrees(2 * 0.2 * np.cos(np.radians(tt[0]) / 2) / 240.0)
    assert centroid(plain) - centroid(moved) == pytest.approx(shift, rel=0.05)
    assert centroid(tail) < centroid(plain) - 0.005


def test_counts_are_poisson_and_the_pattern_reads_like_a_file():
    rng = np.random.default_rng(1)
    m = render_lab_pattern(rng, np.array([30.0, 45.0]), np.array([100.0, 50.0]))
    assert np.all(m.intensity == np.round(m.intensity)) and m.intensity.min() >= 0
    x = to_model_input(m)
    assert x.max() == pytest.approx(1.0) and np.isfinite(x).all()

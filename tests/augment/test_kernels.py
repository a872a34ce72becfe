"""Physics of each augmentation kernel, measured on rendered profiles."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from difcon_jax.augment import Peaks, RenderGrid, bin_sticks, caglioti_fwhm
from difcon_jax.augment import kernels as K
from difcon_jax.augment import render_peaks

GRID = RenderGrid(12000, 0.0, 120.0, 32, 0.4)
X = np.asarray(GRID.centres)


def one_peak(tt=40.0, i=1.0):
    return Peaks(jnp.array([tt, 0.0]), jnp.array([i, 0.0]), jnp.zeros((2, 4)), jnp.zeros((2, 4)).at[:, 0].set(1.0))


def render(p, fwhm=0.1, eta=0.5, rho=0.0):
    return np.asarray(render_peaks(p.two_theta, p.intensity, jnp.full(p.two_theta.shape, fwhm), eta, rho, GRID))


def exact_binned(edges, centre, fwhm, eta, rho):
    """Bin integrals of the split pseudo-Voigt in float64 NumPy/SciPy: an independent reference."""
    from scipy.special import erf

    def unit(u):
        return eta * (0.5 + np.arctan(u) / np.pi) + (1 - eta) * 0.5 * (1 + erf(u * np.sqrt(np.log(2))))

    x = edges - centre
    hl, hr = 0.5 * fwhm * (1 + rho), 0.5 * fwhm * (1 - rho)
    cdf = np.where(x < 0, 2 * hl / (hl + hr) * unit(x / hl), 1 - 2 * hr / (hl + hr) * (1 - unit(x / hr)))
    return np.diff(cdf)


def centroid(y):
    return float((X * y).sum() / y.sum())


def measured_fwhm(y):
    i = int(np.argmax(y))
    half = y[i] / 2
    left = i - np.argmax(y[i::-1] < half)
    right = i + np.argmax(y[i:] < half)
    xl = np.interp(half, [y[left], y[left + 1]], [X[left], X[left + 1]])
    xr = np.interp(half, [y[right], y[right - 1]], [X[right], X[right - 1]])
    return xr - xl


def test_zero_shift_moves_centroid():
    p = one_peak()
    shifted = K.zero_shift(None, p, {"zero_shift": 0.0731})
    assert centroid(render(shifted, eta=0.0)) - centroid(render(p, eta=0.0)) == pytest.approx(0.0731, abs=1e-4)


@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("fwhm", [0.03, 0.1, 0.4])
def test_rendered_fwhm_area_and_truncation(eta, fwhm):
    p = Peaks(jnp.array([35.123, 71.9]), jnp.array([2.0, 1.0]), jnp.zeros((2, 4)), jnp.zeros((2, 4)))
    y = render(p, fwhm, eta, rho=0.15)
    edges = np.arange(GRID.n_bins + 1) * GRID.step
    ref = sum(float(a) * exact_binned(edges, float(t), fwhm, eta, 0.15) for t, a in zip(p.two_theta, p.intensity))
    assert abs(y.sum() / ref.sum() - 1) < 5e-3  # area (the part inside 0–120°)
    assert np.abs(y - ref).sum() / ref.sum() < 5e-3  # shape, L1
    single = render(one_peak(60.0), fwhm, eta)
    assert measured_fwhm(single) == pytest.approx(measured_fwhm(exact_binned(edges, 60.0, fwhm, eta, 0.0)), rel=0.01)
    if fwhm >= 0.1:  # wide enough that 0.01° bins do not broaden it visibly
        assert measured_fwhm(single) == pytest.approx(fwhm, rel=0.02)


def test_asymmetry_puts_tail_on_low_angle_side():
    y = render(one_peak(50.0), 0.2, 0.0, rho=0.3)
    assert X[np.argmax(y)] == pytest.approx(50.0, abs=0.01) and centroid(y) < 50.0


def test_binning_conserves_intensity():
    tt = jnp.array([0.004, 10.0, 59.995, 119.999, 130.0, -1.0])
    inten = jnp.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    y = bin_sticks(tt, inten, GRID)
    assert float(y.sum()) == pytest.approx(10.0) and float(y[0]) == 1.0 and float(y[5999]) == 3.0


def test_caglioti_clamps_negative():
    tt = jnp.linspace(5, 115, 50)
    h = caglioti_fwhm(tt, 0.0, -0.1, 0.001, 0.0, 0.02, 0.4)
    assert bool(jnp.all(h >= 0.02)) and bool(jnp.all(jnp.isfinite(h)))
    assert float(caglioti_fwhm(60.0, 0.01, 0.0, 0.0)) == pytest.approx(np.sqrt(0.01) * np.tan(np.radians(30)))


def test_ka2_position_and_ratio():
    params = {"lambda1": 1.54056, "lambda2": 1.54439, "ka2_ratio": 0.5}
    p = K.ka2_doublet(None, one_peak(80.0), params)
    expected = 2 * np.degrees(np.arcsin(1.54439 / 1.54056 * np.sin(np.radians(40.0))))
    assert float(p.two_theta[2]) == pytest.approx(expected, abs=1e-4)
    y = render(p, 0.05, 0.0)
    a1 = y[(X > 79.5) & (X < (80 + expected) / 2)].sum()
    a2 = y[(X > (80 + expected) / 2) & (X < 81.0)].sum()
    assert a2 / a1 == pytest.approx(0.5, rel=0.02)
    # a Kα1-only source (configs/augment_real.py 'CuKa1': ratio 0) renders the single line, its area unchanged
    alone = render(K.ka2_doublet(None, one_peak(80.0), {"lambda1": 1.54056, "lambda2": 1.54056, "ka2_ratio": 0.0}),
                   0.05, 0.0)
    np.testing.assert_allclose(np.asarray(alone), np.asarray(render(one_peak(80.0), 0.05, 0.0)), atol=1e-6)


def test_sample_displacement_scales_with_cos_theta():
    p = Peaks(jnp.array([20.0, 100.0]), jnp.ones(2), jnp.zeros((2, 4)), jnp.zeros((2, 4)))
    d = np.asarray(K.sample_displacement(None, p, {"displacement": 0.1}).two_theta - p.two_theta)
    expect = -np.degrees(2 * 0.1 * np.cos(np.radians([10.0, 50.0])) / 240.0)
    np.testing.assert_allclose(d, expect, atol=1e-5)


def test_march_dollase_normalisation_and_identity():
    # For random plane normals cos α is uniform on [0, 1]: the mean of P(α) is 1 for any r.
    c = np.linspace(0, 1, 200001)
    for r in (0.5, 0.8, 1.3):
        assert np.trapezoid((r * r * c * c + (1 - c * c) / r) ** -1.5, c) == pytest.approx(1.0, rel=1e-6)
    p = Peaks(jnp.ones(3) * 30, jnp.ones(3), jnp.array([[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]], jnp.float32),
              jnp.array([[1, 0, 0, 0], [1, 0, 0, 0], [2 / 3, 1 / 3, 0, 0]], jnp.float32))
    assert np.allclose(K.march_dollase(None, p, {"po_r": 1.0}).intensity, 1.0)
    out = np.asarray(K.march_dollase(None, p, {"po_r": 0.8}).intensity)
    assert out[1] == pytest.approx(0.8**-3) and out[0] == pytest.approx(0.8**1.5)  # platelets favour c*
    assert out[2] == pytest.approx(2 / 3 * 0.8**1.5 + 1 / 3 * 0.8**-3)


def test_wavelength_round_trip_keeps_d():
    p = Peaks(jnp.array([30.0, 60.0, 110.0]), jnp.ones(3), jnp.zeros((3, 4)), jnp.zeros((3, 4)))
    params = {"lambda1": 0.7093}
    src = K.to_source_scale(None, p, params, 1.54056)
    assert float(src.two_theta[0]) < 15.0
    tt, fwhm, ok = K.to_reference_scale(src.two_theta, jnp.full(3, 0.05), params, 1.54056)
    np.testing.assert_allclose(tt, p.two_theta, atol=2e-4)
    assert bool(ok.all()) and bool(jnp.all(fwhm > 0.05))  # Mo widths look wider on the Cu scale
    # LP re-weighting: the ratio of intensities follows LP(θ_src)/LP(θ_ref)
    w = np.asarray(src.intensity)
    lp = lambda t: np.asarray(K.lorentz_polarisation(jnp.asarray(t)))  # noqa: E731
    np.testing.assert_allclose(w, lp(np.asarray(src.two_theta)) / lp(np.array([30.0, 60.0, 110.0])), rtol=1e-5)
    # a long wavelength loses the reflections it cannot reach
    cr = K.to_source_scale(None, p, {"lambda1": 2.2897}, 1.54056)
    assert float(cr.intensity[2]) == 0.0


def test_cropping_impurities_noise_and_crop_pad():
    p = Peaks(jnp.array([3.0, 50.0, 119.0]), jnp.ones(3), jnp.zeros((3, 4)), jnp.zeros((3, 4)))
    assert K.peak_cropping(None, p, {"crop_low": 5.0, "crop_high": 110.0}).intensity.tolist() == [0, 1, 0]
    imp = K.impurity_peaks(jax.random.key(0), p, {"impurity_count": 2.5, "impurity_intensity": 0.1}, 4)
    assert imp.two_theta.shape == (7,) and int((imp.intensity[3:] > 0).sum()) == 2
    assert float(imp.intensity[3:].max()) <= 0.1
    y = jnp.full(GRID.n_bins, 100.0)
    noisy = K.counting_noise(jax.random.key(1), y, {"counts": 400.0})
    assert float(jnp.std(noisy) / jnp.mean(noisy)) == pytest.approx(1 / 20, rel=0.05)  # Poisson: √λ/λ
    cp = K.crop_pad(None, y, {"measure_low": 10.0, "measure_high": 20.0}, GRID.centres)
    assert float(cp.sum()) == pytest.approx(100.0 * 1000)
    assert float(K.renormalise(None, y - 50).max()) == 1.0


def test_noise_variances_add():
    y = jnp.linspace(0, 100, GRID.n_bins)
    params = {"white_noise": 0.01, "scaled_noise": 0.05, "counts": 1e4}
    keys = jax.random.split(jax.random.key(7), 200)
    draws = jax.vmap(lambda k: K.detector_noise(k, y, params))(keys)
    var = np.asarray(K.background_noise_variance(y, params) + K.counting_variance(y, params))
    hi = np.asarray(y) > 50  # away from the clip at 0
    ratio = np.asarray(draws.var(0))[hi] / var[hi]
    assert abs(ratio.mean() - 1) < 0.03
    assert float(K.background_noise(jax.random.key(0), jnp.zeros(10), params).max()) == 0.0


def test_chebyshev_background_range_is_the_sampled_range():
    """smooth_background normalises by the cubic's extremes found analytically (ends and the derivative's
    roots), not by a pass over the bins: they must equal the extremes of a dense sampling, including the
    degenerate cubics (c₃ = 0: one root; c₂ = c₃ = 0: a line; no real roots)."""
    x = np.linspace(-1.0, 1.0, 100001)
    cs = [np.array(c, np.float32) for c in ([0.1, 0.3, -0.7, 0.9], [0.5, -0.2, 0.6, 0.0], [0.0, 0.8, 0.0, 0.0],
                                            [0.2, 0.9, 0.1, 0.05], [-0.3, 0.0, 0.0, 0.0])]
    cs += [np.asarray(jax.random.uniform(k, (4,), minval=-1.0, maxval=1.0)) for k in jax.random.split(jax.random.key(3), 40)]
    for c in cs:
        v = np.polynomial.chebyshev.chebval(x, c.astype(np.float64))
        lo, hi = K.chebyshev3_range(jnp.asarray(c))
        assert float(lo) == pytest.approx(v.min(), abs=2e-6) and float(hi) == pytest.approx(v.max(), abs=2e-6)
    # on a flat unit profile (max 1) the background spans exactly [0, background_level]
    y = K.smooth_background(jax.random.key(5), jnp.ones(12000), {"background_level": 1.0, "hump_height": 0.0,
                            "hump_center": 50.0, "hump_width": 5.0}, GRID.centres) - 1.0
    assert float(y.min()) == pytest.approx(0.0, abs=1e-5) and float(y.max()) == pytest.approx(1.0, abs=1e-5)


def test_measured_bins_are_the_bins_whose_centres_lie_in_the_range():
    """crop & pad and the background removal take the measured range as (first, last) bin indices computed
    from the two limits: the same bins as comparing every centre (float64), including empty and full ranges."""
    from difcon_jax.augment.profiles import measured_bins

    rng = np.random.default_rng(0)
    cases = [(-5.0, 200.0), (60.0, 50.0), (0.0, 0.004), (119.996, 130.0)] + [tuple(sorted(rng.uniform(-2, 122, 2)))
                                                                               for _ in range(200)]
    x64 = (np.arange(12000) + 0.5) * 0.01
    for lo, hi in cases:
        first, last = measured_bins({"measure_low": jnp.float32(lo), "measure_high": jnp.float32(hi)}, GRID.centres)
        want = np.flatnonzero((x64 >= lo) & (x64 <= hi))
        if len(want):
            assert (int(first), int(last)) == (want[0], want[-1]), (lo, hi)
        else:
            assert int(first) > int(last)
        y = np.asarray(K.crop_pad(None, jnp.ones(12000), {"measure_low": lo, "measure_high": hi}, GRID.centres))
        assert np.array_equal(y > 0, (x64 >= lo) & (x64 <= hi))

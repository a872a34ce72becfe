"""One background path for training views and measured files (difcon_jax/augment/background.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from difcon_jax.augment import kernels as K
from difcon_jax.augment.background import make_background_removal, snip_baseline, subtract_background
from difcon_jax.augment.params import neutral_params
from difcon_jax.augment.pipeline import make_grid
from difcon_jax.augment.profiles import render_peaks
from difcon_jax.config import default_config_path, load_config
from difcon_jax.patterns import read_pattern, to_model_input


@pytest.fixture(scope="module")
def cfg():
    return load_config(default_config_path("augment_real"))


def test_snip_keeps_a_flat_line_and_clips_a_narrow_peak():
    flat = jnp.full(200, 3.0)
    np.testing.assert_allclose(snip_baseline(flat, 20), flat)
    y = flat.at[100].set(50.0)
    np.testing.assert_allclose(snip_baseline(y, 20), flat, atol=1e-6)


def test_broad_hump_removed_narrow_peaks_kept(cfg):
    grid = make_grid(cfg)
    x = np.asarray(grid.centres)
    tt = jnp.array([20.0, 35.0, 36.0, 60.0])
    peaks = render_peaks(tt, jnp.array([1.0, 0.5, 0.7, 0.3]), jnp.full(4, 0.1), 0.5, 0.0, grid)
    hump = 0.02 * np.exp(-4 * np.log(2) * ((x - 25) / 8.0) ** 2)  # an 8° wide amorphous hump
    slope = 0.01 * (1 - x / 90)
    inside = (x >= 5) & (x <= 85)
    y = np.where(inside, np.asarray(peaks) + hump + slope, 0.0)
    cell = int(round(cfg.background_cell_deg / grid.step))
    first, last = np.flatnonzero(inside)[[0, -1]]
    out = np.asarray(subtract_background(jnp.asarray(y), int(first), int(last), cell,
                                         int(round(cfg.background_removal_deg / cfg.background_cell_deg))))
    away = inside & np.all(np.abs(x[:, None] - np.asarray(tt)[None]) > 1.5, axis=1)
    assert out[away].max() < 0.1 * hump.max()  # the hump and slope are gone between peaks
    assert np.all(out[~inside] == 0)
    for t, area in zip(np.asarray(tt), (1.0, 0.5, 0.7, 0.3)):
        win = np.abs(x - t) < 0.4
        assert out[win].sum() == pytest.approx(np.asarray(peaks)[win].sum(), rel=0.06)


def test_measured_path_equals_the_training_view(cfg, tmp_path):
    """A simulated pattern with background and noise, written as a measured .xy and read back through
    predict's preprocessing, is the pipeline's training view of the same profile."""
    grid = make_grid(cfg)
    centres = grid.centres
    params = neutral_params(cfg)
    params.update(background_level=jnp.float32(0.25), hump_height=jnp.float32(0.1), hump_center=jnp.float32(24.0),
                  hump_width=jnp.float32(9.0), measure_low=jnp.float32(10.0), measure_high=jnp.float32(80.0),
                  white_noise=jnp.float32(0.01))
    tt = jnp.array([15.0, 28.4, 33.0, 47.5, 56.1, 71.0])
    y = render_peaks(tt, jnp.array([30.0, 100.0, 60.0, 45.0, 20.0, 15.0]), jnp.full(6, 0.12), 0.5, 0.1, grid)
    y = K.smooth_background(jax.random.key(0), y, params, centres)
    y = K.detector_noise(jax.random.key(1), y, params)
    y = K.crop_pad(None, y, params, centres)
    view = np.asarray(K.renormalise(None, make_background_removal(cfg)(None, y, params, centres)))

    x = np.asarray(centres)
    inside = (x >= 10.0) & (x <= 80.0)
    f = tmp_path / "sim.xy"
    np.savetxt(f, np.stack([x[inside], 1234.0 * np.asarray(y)[inside]], 1), fmt="%.6f")
    measured = to_model_input(read_pattern(f, wavelength=float(cfg.lambda_ref)), cfg)
    assert measured.shape == view.shape
    np.testing.assert_allclose(measured, view, atol=2e-4)
    # and without the shared removal the two would differ by the whole background
    assert np.abs(np.asarray(K.renormalise(None, y)) - view).max() > 0.05


def test_a_background_falling_steeply_at_the_scan_start_leaves_no_line(cfg):
    """Air scatter (∝ 1/2θ²) many times the lines' height at a scan starting at 6°: the baseline follows it to the
    first bin, so nothing line-like is left there, and a line 0.4° from the start keeps its area as SNIP keeps
    any line on so curved a background (~0.8: the clipping chord lies above a convex background), not inflated.
    (Padding the clipping windows with the edge value left a spike of 0.37 of the strongest line here, and the
    line 3.2× its area.)"""
    grid = make_grid(cfg)
    x = np.asarray(grid.centres)
    tt = jnp.array([6.4, 43.3, 50.4])
    peaks = np.asarray(render_peaks(tt, jnp.array([0.3, 1.0, 0.5]), jnp.full(3, 0.1), 0.5, 0.0, grid))
    inside = (x >= 6.0) & (x <= 85.0)
    air = 4.0 * peaks.max() * (6.0 / np.maximum(x, 1.0)) ** 2  # 4× the strongest line at the start
    y = np.where(inside, peaks + air + 0.3 * peaks.max(), 0.0)
    cell = int(round(cfg.background_cell_deg / grid.step))
    first, last = np.flatnonzero(inside)[[0, -1]]
    out = np.asarray(subtract_background(jnp.asarray(y), int(first), int(last), cell,
                                         int(round(cfg.background_removal_deg / cfg.background_cell_deg))))
    start = inside & (x < 8.0) & (np.abs(x - 6.4) > 0.4)
    assert out[start].max() < 0.01 * peaks.max()
    win = np.abs(x - 6.4) < 0.3
    assert 0.75 < out[win].sum() / peaks[win].sum() < 1.05
    assert np.all(out[~inside] == 0)

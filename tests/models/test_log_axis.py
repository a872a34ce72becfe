"""The ln sin θ input axis (models/log_axis.py): heights and areas kept, a cell's scaling a pure shift."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from difcon_jax.models.log_axis import log_sin_positions, resample_log_sin

N, RANGE, FROM = 4500, (0.0, 90.0), 5.0
TT = RANGE[0] + (np.arange(N) + 0.5) * (RANGE[1] - RANGE[0]) / N


def _cubic_f(a: float, wavelength: float = 1.5406, fwhm: float = 0.05) -> np.ndarray:
    """Gaussian lines of a face-centred cubic cell (Q² ∝ h² + k² + l² = 3, 4, 8, 11, 12, 16) on the 2θ grid."""
    y = np.zeros(N)
    for n in (3, 4, 8, 11, 12, 16):
        s = wavelength * np.sqrt(n) / (2 * a)
        if s < np.sin(np.radians(45)):
            y += np.exp(-4 * np.log(2) * ((TT - 2 * np.degrees(np.arcsin(s))) / fwhm) ** 2)
    return y


def test_flat_stays_flat_and_area_is_kept():
    out = np.asarray(resample_log_sin(jnp.ones((2, N)), 3000, RANGE, FROM))
    np.testing.assert_allclose(out, 1.0, atol=2e-4)
    y = _cubic_f(5.64)
    pos = log_sin_positions(N, RANGE, 3000, FROM)
    area = float(np.sum(np.asarray(resample_log_sin(jnp.asarray(y), 3000, RANGE, FROM)) * np.diff(pos)))
    assert area == pytest.approx(y[int(np.ceil(pos[0])):].sum(), rel=2e-3)  # every line above 5° counted once


def test_a_scaled_cell_is_a_shifted_pattern():
    # on the ln sin θ axis the fcc motif is the same for a = 4.0 and 4.0·1.06 Å, moved by ln(1.06)/du bins
    n_out = 4096
    pos = log_sin_positions(N, RANGE, n_out, FROM)
    du = (np.log(np.sin(np.radians(45))) - np.log(np.sin(np.radians(FROM / 2)))) / n_out
    small, large = (np.asarray(resample_log_sin(jnp.asarray(_cubic_f(a)), n_out, RANGE, FROM)) for a in (4.0, 4.24))
    shift = int(round(np.log(1.06) / du))
    peaks = [np.flatnonzero((y > 0.5) & (y >= np.roll(y, 1)) & (y >= np.roll(y, -1))) for y in (small, large)]
    common = [p for p in peaks[0] if p - shift >= 0 and np.any(np.abs(peaks[1] - (p - shift)) <= 1)]
    assert len(common) >= 4 and len(peaks[0]) >= 4
    assert np.all(np.diff(pos) > 0)
    # on the 2θ axis the same two patterns are not translates: their line spacings differ
    tt_small, tt_large = (np.flatnonzero((y > 0.5) & (y >= np.roll(y, 1)) & (y >= np.roll(y, -1))) for y in
                          (_cubic_f(4.0), _cubic_f(4.24)))
    assert len(set(np.diff(tt_small[:4])) & set(np.diff(tt_large[:4]))) == 0


def test_the_encoder_reads_the_log_axis_and_refuses_a_bad_range():
    from difcon_jax.models.resnet1d import build_model

    base = dict(widths=(4, 8), blocks=(1, 1), stem_features=4, projector_dims=(8,), head_hidden=8, log_sin_bins=512)
    model = build_model(base, 5, two_theta_range=(0.0, 90.0))
    assert model.encoder.two_theta_range == (0.0, 90.0)
    x = jnp.asarray(np.stack([_cubic_f(4.0), _cubic_f(4.24)])[:, ::4], jnp.float32)  # 1,125 bins over 0–90°
    params = model.init(jax.random.key(0), x)["params"]
    out = model.apply({"params": params}, x)
    assert out["representation"].shape == (2, 8) and np.all(np.isfinite(out["representation"]))
    with pytest.raises(ValueError, match="model.log_sin_from = 3.0°.*two_theta_max = 2.0°"):
        build_model(base, 5, two_theta_range=(0.0, 2.0))
    with pytest.raises(ValueError, match="ln sin θ axis"):  # the module itself, built without build_model
        model.encoder.clone(two_theta_range=(0.0, 2.0)).init(jax.random.key(0), x)

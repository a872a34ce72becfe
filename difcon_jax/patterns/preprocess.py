"""From a measured pattern to the model's input: the same 2θ scale, background and normalisation as in
training.

1. Wavelength: each point's d = λ/(2 sin θ) is placed at the reference (training) wavelength's 2θ
   (the paper's conversion); points beyond the reference wavelength's reach are dropped.
2. Background: SNIP (pybaselines) with a half-window of ~``background_window`` degrees.
3. Resampling: points are averaged into the model's bins (the grid of the training config); bins the
   measurement covers but that hold no point (coarse steps) are linearly interpolated; bins outside the
   measured range are zero, exactly like 'crop & pad' in training.
4. Normalisation: maximum 1, as the training renormalisation.
"""

from __future__ import annotations

import numpy as np

from difcon_jax.patterns.reader import Measured


def convert_wavelength(two_theta: np.ndarray, lam: float, lam_ref: float):
    """Measured 2θ (degrees, at ``lam`` Å) → 2θ at ``lam_ref`` through d; returns (2θ_ref, valid mask)."""
    s = np.sin(np.radians(two_theta) / 2) * lam_ref / lam
    ok = (s > 0) & (s < 1)
    return np.where(ok, 2 * np.degrees(np.arcsin(np.clip(s, 0, 1))), np.nan), ok


def remove_background(two_theta: np.ndarray, y: np.ndarray, window_deg: float = 1.5) -> np.ndarray:
    from pybaselines import Baseline

    step = float(np.median(np.diff(two_theta)))
    half = int(max(3, min(len(y) // 4, round(window_deg / max(step, 1e-6)))))
    base, _ = Baseline(two_theta).snip(y, max_half_window=half, decreasing=True, smooth_half_window=1)
    return np.clip(y - base, 0.0, None)


def to_model_input(m: Measured, n_bins: int = 12000, tt_min: float = 0.0, tt_max: float = 120.0,
                   lam_ref: float = 1.54184, background_window: float = 1.5) -> np.ndarray:
    """float32[n_bins] profile on the model's grid (see module docstring)."""
    tt, ok = convert_wavelength(m.two_theta, m.wavelength, lam_ref)
    tt, y = tt[ok], m.intensity[ok]
    if len(tt) < 10:
        raise ValueError(f"{m.source}: fewer than 10 points remain on the {lam_ref} Å scale")
    y = remove_background(tt, y, background_window)
    step = (tt_max - tt_min) / n_bins
    idx = np.floor((tt - tt_min) / step).astype(np.int64)
    inside = (idx >= 0) & (idx < n_bins)
    sums = np.bincount(idx[inside], y[inside], minlength=n_bins)
    cnt = np.bincount(idx[inside], minlength=n_bins)
    centres = tt_min + (np.arange(n_bins) + 0.5) * step
    prof = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)
    covered = (centres >= tt[0]) & (centres <= tt[-1])
    have = np.flatnonzero(cnt > 0)
    if len(have) >= 2:
        fill = covered & (cnt == 0)
        prof[fill] = np.interp(centres[fill], centres[have], prof[have])
    prof = np.where(covered & np.isfinite(prof), prof, 0.0)
    peak = prof.max()
    if not peak > 0:
        raise ValueError(f"{m.source}: no signal left after background removal")
    return (prof / peak).astype(np.float32)

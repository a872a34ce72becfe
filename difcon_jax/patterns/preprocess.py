"""From a measured pattern to the model's input: the same 2θ scale, background and normalisation as in
training.

1. Wavelength: each point's d = λ/(2 sin θ) is placed at the reference (training) wavelength's 2θ
   (the paper's conversion); points beyond the reference wavelength's reach are dropped.
2. Resampling: points are averaged into the model's bins (the grid of the training config); bins the
   measurement covers but that hold no point (coarse steps) are linearly interpolated; bins outside the
   measured range are zero, exactly like 'crop & pad' in training. Resampling first bounds the work by
   the grid, not by the number of points (a 10⁶-point synchrotron scan costs one bincount).
3. Background: the training pipeline's own SNIP removal (:mod:`difcon_jax.augment.background`) on the
   measured bins, so a measured and a simulated pattern take one path.
4. Normalisation: maximum 1, as the training renormalisation.
"""

from __future__ import annotations

import functools

import numpy as np

from difcon_jax.augment.background import subtract_background_host
from difcon_jax.config import default_config_path, load_config
from difcon_jax.errors import InputError
from difcon_jax.grid import Grid
from difcon_jax.patterns.reader import Measured


def convert_wavelength(two_theta: np.ndarray, lam: float, lam_ref: float):
    """Measured 2θ (degrees, at ``lam`` Å) → 2θ at ``lam_ref`` through d; returns (2θ_ref, valid mask)."""
    s = np.sin(np.radians(two_theta) / 2) * lam_ref / lam
    ok = (s > 0) & (s < 1)
    return np.where(ok, 2 * np.degrees(np.arcsin(np.clip(s, 0, 1))), np.nan), ok


#: below this many degrees of 2θ (reference scale) inside the model's range, a scan says little about the
#: symmetry: predictions are flagged uncertain and a warning names the span
MIN_COVERAGE_DEG = 20.0


def coverage(m: Measured, aug) -> tuple[float, float]:
    """The part of the model's 2θ range (degrees, at the training wavelength) that the scan covers.

    Raises :class:`InputError` for x values that cannot be degrees 2θ of a powder scan (a last value
    ≤ 5°: radians, or a mislabelled column)."""
    if m.two_theta[-1] <= 5.0:
        raise InputError(m.source, f"2θ values end at {m.two_theta[-1]:g}: a powder scan in degrees 2θ reaches tens "
                                   "of degrees (radians? d-spacings?)")
    tt, ok = convert_wavelength(m.two_theta[[0, -1]], m.wavelength, float(aug.lambda_ref))
    lo = max(float(tt[0]) if ok[0] else float(aug.two_theta_max), float(aug.two_theta_min))
    hi = min(float(tt[1]) if ok[1] else float(aug.two_theta_max), float(aug.two_theta_max))
    return lo, max(lo, hi)


def remove_background(two_theta: np.ndarray, y: np.ndarray, window_deg: float = 1.5) -> np.ndarray:
    """SNIP background (pybaselines) on the measured points with a half-window of ``window_deg`` degrees 2θ,
    subtracted and clipped at 0 (the legacy path of models trained before the shared removal)."""
    from pybaselines import Baseline  # only models trained before the shared removal need it (and scipy.signal)

    step = float(np.median(np.diff(two_theta)))
    half = int(max(3, min(len(y) // 4, round(window_deg / max(step, 1e-6)))))
    base, _ = Baseline(two_theta).snip(y, max_half_window=half, decreasing=True, smooth_half_window=1)
    return np.clip(y - base, 0.0, None)


@functools.lru_cache(maxsize=1)
def table1_augment():
    """configs/augment_table1.py: the grid and input path used when no model config is given."""
    return load_config(default_config_path("augment_table1"))


def resample_to_grid(tt: np.ndarray, y: np.ndarray, n_bins: int, tt_min: float, tt_max: float):
    """Points averaged into the model's bins: (profile float64[n_bins], covered bool[n_bins]). Bins the
    measurement spans but that hold no point (coarse steps) are linearly interpolated; bins outside the
    measured range are zero and not covered."""
    step = (tt_max - tt_min) / n_bins
    idx = np.floor((tt - tt_min) / step).astype(np.int64)
    inside = (idx >= 0) & (idx < n_bins)
    sums = np.bincount(idx[inside], y[inside], minlength=n_bins)
    cnt = np.bincount(idx[inside], minlength=n_bins)
    centres = tt_min + (np.arange(n_bins) + 0.5) * step
    prof = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)
    have = np.flatnonzero(cnt > 0)
    covered = np.zeros(n_bins, bool)
    if len(have):  # every bin from the first to the last one holding a point (robust to rounding of 2θ)
        covered[have[0]:have[-1] + 1] = True
    if len(have) >= 2:
        fill = covered & (cnt == 0)
        prof[fill] = np.interp(centres[fill], centres[have], prof[have])
    covered &= np.isfinite(prof)
    return np.where(covered, prof, 0.0), covered


def to_model_input(m: Measured, aug=None) -> np.ndarray:
    """float32[n_bins] profile on the model's grid (see module docstring).

    ``aug``: the model's augmentation config (grid, λ_ref, background removal); default
    configs/augment_table1.py. A model trained before the shared removal (``legacy_snip_deg`` > 0, set by
    :func:`difcon_jax.config.upgrade`) gets the old path: SNIP on the points before resampling."""
    aug = table1_augment() if aug is None else aug
    grid = Grid.of(aug)
    tt, ok = convert_wavelength(m.two_theta, m.wavelength, grid.lambda_ref)
    tt, y = tt[ok], m.intensity[ok]
    if len(tt) < 10:
        raise ValueError(f"{m.source}: fewer than 10 points remain on the {grid.lambda_ref} Å scale")
    if float(aug.legacy_snip_deg) > 0:
        y = remove_background(tt, y, float(aug.legacy_snip_deg))
    prof, covered = resample_to_grid(tt, y, grid.n_bins, grid.tt_min, grid.tt_max)
    if prof.max() > 0:
        prof = prof / prof.max()
    if float(aug.background_removal_deg) > 0:
        prof = subtract_background_host(prof, covered, aug)
    peak = prof.max()
    if not peak > 0:
        raise ValueError(f"{m.source}: no signal left after background removal")
    return (prof / peak).astype(np.float32)


def noise_sigma(y: np.ndarray, weight: np.ndarray) -> float:
    """The measurement's point-to-point noise (robust: 1.4826·MAD of second differences / √6) over the bins of the
    profile ``y`` float[n_bins] where ``weight`` > 0."""
    v = np.asarray(y)[np.asarray(weight) > 0]
    if len(v) < 5:
        return 1.0
    d2 = v[2:] - 2 * v[1:-1] + v[:-2]
    return max(float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0)), 1e-6)

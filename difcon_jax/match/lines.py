"""The lines of a fitted phase against the measurement (host side, NumPy): which of its reflections the measured
range shows, the measured lines' Q on its scale, how many distinct lines that is, where each line sits, and which
measured peaks the phases found leave unexplained — the evidence a search-match answer is judged and drawn with
(match/search.py, match/identify.py, match/novel.py)."""

from __future__ import annotations

import numpy as np

from difcon_jax.augment.profiles import caglioti_fwhm
from difcon_jax.grid import Grid
from difcon_jax.match.indexing import IndexSettings, observed_lines
from difcon_jax.match.pattern_model import IDX, doublet_on_grid, reflection_q
from difcon_jax.match.spectral_lines import companion_lines, line_q

#: the least share of a curve's maximum that counts as a line or peak (unexplained peaks, lines in the window)
PEAK_SHARE = 0.03


def unexplained_peaks(y, model, weight, grid: Grid, sigma: float, fwhm=0.0, anode: str | None = None) -> list[float]:
    """2θ (degrees, grid scale) of measured peaks the model leaves unexplained, each line once: the Kα2 and Kβ
    companions (``anode``'s, :func:`~difcon_jax.match.spectral_lines.companion_lines`) of an unexplained line are not
    listed apart (None: no companions dropped). Both curves are first smoothed,
    at each 2θ, by a Gaussian as wide as a fitted line there (``fwhm``: degrees, a scalar or float[n_bins] —
    the matched filter of a peak search); a peak counts when its prominence is ≥ max(5σ_s, :data:`PEAK_SHARE`
    of the smoothed maximum) and the model holds less than half of it, σ_s = σ·√Σk² the noise left after
    smoothing. Smoothing is why a one-bin counting spike is not a peak: a line as wide as the fitted ones keeps
    ~1/√2 of its height while white noise drops to √Σk² (0.37 at a 5-bin FWHM) and a spike to k₀ (0.19) —
    unsmoothed, the 5σ spikes of a noisy pattern were marked by the dozen."""
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import find_peaks  # scipy.signal costs ~1 s to import: only when a fit is judged

    yy = np.where(weight > 0, y, 0.0)
    mm = np.where(weight > 0, model, 0.0)
    width = np.maximum(np.broadcast_to(np.asarray(fwhm, np.float64), yy.shape) / grid.step, 1.0)  # bins
    level = np.round(2 * np.log2(width)).astype(int)  # kernels √2 apart in width: each bin takes the nearest
    ys, ms, sig = yy.copy(), mm.copy(), np.full(yy.shape, float(sigma))
    for lv in np.unique(level[level > 0]):
        s_k = 2 ** (lv / 2) / (2 * np.sqrt(2 * np.log(2)))  # the kernel's σ in bins
        at = level == lv
        ys[at] = gaussian_filter1d(yy, s_k, mode="constant")[at]
        ms[at] = gaussian_filter1d(mm, s_k, mode="constant")[at]
        impulse = np.zeros(2 * int(4 * s_k) + 3)
        impulse[len(impulse) // 2] = 1.0
        sig[at] = sigma * float(np.linalg.norm(gaussian_filter1d(impulse, s_k, mode="constant")))  # σ·√Σk²
    pk, _ = find_peaks(ys, prominence=np.maximum(5 * sig, PEAK_SHARE * float(ys.max())))
    miss = pk[(ms[pk] < 0.5 * ys[pk]) & (ys[pk] - ms[pk] > 5 * sig[pk])]
    miss = miss[~companion_lines(grid.centres[miss], ys[miss] - ms[miss], anode, grid.step)]
    return [round(float(grid.centres[i]), 3) for i in miss]


def newly_explained(y, model, extra, weight, grid: Grid, sigma: float, fwhm, anode: str | None) -> int:
    """How many of the peaks that ``model`` float[n_bins] (the phases found so far) leaves unexplained
    (:func:`unexplained_peaks`) a further phase's curve ``extra`` float[n_bins] explains: the lines that are its
    evidence — refitting intensity under lines already explained is not."""
    before = unexplained_peaks(y, model, weight, grid, sigma, fwhm, anode)
    after = np.asarray(unexplained_peaks(y, model + extra, weight, grid, sigma, fwhm, anode))
    return sum(1 for t in before if not (np.abs(after - t) < 1.5 * grid.step).any())


def lines_in_window(ticks, model, weight, grid: Grid, fwhm) -> int:
    """How many distinct lines of a fitted phase the measured range holds: its reflections' Kα1 positions
    (``ticks``, degrees 2θ) inside the range (weight > 0), where its fitted curve ``model`` float[n_bins] is at
    least :data:`PEAK_SHARE` of its maximum there (the share :func:`unexplained_peaks` calls a peak), reflections
    closer than one FWHM (``fwhm``: degrees, scalar or float[n_bins]) counted as one line."""
    t = np.sort(np.asarray(ticks, np.float64))
    sel = present_lines(t, model, weight, grid)
    if not sel.any():
        return 0
    at = np.minimum(np.floor((t[sel] - grid.tt_min) / grid.step).astype(int), grid.n_bins - 1)
    width = np.broadcast_to(np.asarray(fwhm, np.float64), np.shape(model))[at]
    return int(1 + np.count_nonzero(np.diff(t[sel]) > width[1:]))


def present_lines(ticks, model, weight, grid: Grid) -> np.ndarray:
    """bool[len(ticks)]: which reflections of a fitted phase (Kα1 positions ``ticks``, degrees 2θ) the measured
    range shows — inside it (weight > 0) where the phase's fitted curve ``model`` float[n_bins] is at least
    :data:`PEAK_SHARE` of its maximum there."""
    t = np.asarray(ticks, np.float64)
    inside = np.asarray(weight) > 0
    if not inside.any():
        return np.zeros(t.shape, bool)
    m = np.where(inside, np.asarray(model, np.float64), 0.0)
    on_grid = (t >= grid.tt_min) & (t < grid.tt_max)
    at = np.clip(np.floor((t - grid.tt_min) / grid.step).astype(int), 0, grid.n_bins - 1)
    return on_grid & inside[at] & (m[at] >= PEAK_SHARE * max(float(m.max()), 1e-30))


def measured_line_q(ticks, q_ticks, y, weight, grid: Grid, anode: str | None = "Cu",
                    settings: IndexSettings = IndexSettings()) -> tuple[np.ndarray, np.ndarray]:
    """(Q float[L] Å⁻², its tolerance float[L]) of the lines the profile ``y`` (background removed, measured where
    ``weight`` > 0) shows (:func:`~difcon_jax.match.indexing.observed_lines`: Kα2 and Kβ companions dropped), on a
    fitted phase's scale: each line's 2θ taken to Kα1 (an unresolved doublet peaks at its mean) less the fit's
    offset there — its zero shift and displacement, read off the phase's Kα1 ``ticks`` (degrees 2θ) against their
    reflections' Q ``q_ticks`` and interpolated. The tolerance is the indexing's (``settings.tolerance`` in 2θ).
    These are the sample's lines, not the phase's: a stand-in's own strong reflection the measurement lacks is not
    among them, and a line the sample shows where the stand-in has no reflection is."""
    tt = observed_lines(y, weight, grid, anode, settings)
    t = np.asarray(ticks, np.float64)
    if not len(tt) or not len(t):
        return np.zeros(0), np.zeros(0)
    ka1 = doublet_on_grid(grid.lambda_ref, anode)[0] if anode is not None else grid.lambda_ref

    def kalpha1(q):  # degrees 2θ of Q at Kα1
        return 2 * np.degrees(np.arcsin(np.clip(ka1 * np.sqrt(q) / 2, 0.0, 1.0)))

    q, _ = line_q(tt, 0.0, grid.lambda_ref, anode)
    order = np.argsort(t)
    offset = (t - kalpha1(np.asarray(q_ticks, np.float64)))[order]
    t1 = kalpha1(q)
    q_line, g = line_q(t1 - np.interp(t1, t[order], offset), 0.0, ka1, None)
    return q_line, g * settings.tolerance


def line_fwhm(x: np.ndarray, grid: Grid) -> np.ndarray:
    """float[n_bins]: the FWHM (degrees 2θ) the fit ``x`` gives a line at each bin's 2θ (Caglioti) — the width
    :func:`unexplained_peaks` looks for peaks with."""
    return np.asarray(caglioti_fwhm(grid.centres, x[IDX["U"]], x[IDX["V"]], x[IDX["W"]], fwhm_min=0.005))


def reflection_positions(hkl: np.ndarray, cell, x: np.ndarray, wavelength: float) -> np.ndarray:
    """2θ (degrees, grid scale) of reflections ``hkl`` [P, 3] for a refined cell and the fit's zero shift and
    displacement (``x``), at ``wavelength`` (Å on the grid's scale): where the fit put each line."""
    s = np.clip(wavelength * np.sqrt(reflection_q(hkl, cell)) / 2, 0, 0.9999)
    return 2 * np.degrees(np.arcsin(s)) + x[IDX["zero"]] + x[IDX["displacement"]] * np.sqrt(1 - s * s)

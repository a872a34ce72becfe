"""Containment retrieval: the reference entries whose lines are all *in* a measured pattern, whatever else it holds.

The representation and the profile fingerprint compare a whole pattern with a whole reference, so a phase that
is 70 % of a mixture (or a strained one) can fall out of their top 50. Search-match programs start from the
other side (Hanawalt: is each of the reference's strong lines present?). For every entry, over isotropic cell
scalings 1 + e, e ∈ [−:data:`MAX_STRAIN`, +:data:`MAX_STRAIN`] (a solid solution's shift):

* containment C(e): the share of its :data:`TOP_LINES` strongest sticks (weighted √I) that fall where the pattern
  has signal — presence p(2θ) = min(1, measured/(:data:`PRESENCE` · max)), spread over ± :data:`TOLERANCE`°;
* coverage E(e): the share of the measured peaks' height (in the ``coverage`` profile: for a further phase, the
  signal the phases found so far leave) lying within ± :data:`TOLERANCE`° of any of its sticks;

score = max_e C(e) · E(e)^:data:`COVERAGE_POWER` — C alone would rank a three-line cubic entry whose lines
coincide with any three peaks first; the coverage term makes an entry explain something. Host side (NumPy);
entries with fewer than 3 sticks in the measured range score 0. The constants were chosen on simulated
mixtures of the validation split (results/identify/README.md), never on measurements.
"""

from __future__ import annotations

import numpy as np

TOP_LINES = 20  # strongest sticks per entry tested for presence
PRESENCE = 0.1  # a measured level ≥ this share of the maximum counts as a line present
TOLERANCE = 0.1  # degrees 2θ: a stick this close to signal / a peak is on it
MAX_STRAIN = 0.045  # isotropic cell scalings tried, ±
STRAIN_STEP = 0.0025
COVERAGE_POWER = 0.5
SHORTLIST = 256  # entries of highest containment whose coverage is computed


class StickSines:
    """Each entry's sticks (2θ degrees at ``lambda_ref`` and intensity [N, P], 0 = none) as sin θ (float32[N, P],
    0 = none), and its :data:`TOP_LINES` strongest apart with their √I weights."""

    def __init__(self, two_theta: np.ndarray, intensity: np.ndarray):
        tt = np.asarray(two_theta, np.float64)
        inten = np.where(tt > 0, np.asarray(intensity, np.float64), 0.0)
        self.sin = np.where(inten > 0, np.sin(np.radians(tt / 2)), 0.0).astype(np.float32)
        top = np.argsort(-inten, axis=1, kind="stable")[:, :TOP_LINES]
        self.sin_top = np.take_along_axis(self.sin, top, 1)
        self.weight_top = np.sqrt(np.take_along_axis(inten, top, 1)).astype(np.float32)

    def __len__(self) -> int:
        return len(self.sin)

    def subset(self, rows) -> "StickSines":
        out = object.__new__(StickSines)
        for k in ("sin", "sin_top", "weight_top"):
            setattr(out, k, getattr(self, k)[rows])
        return out


def _bins(sin: np.ndarray, e: float, tt_min: float, step: float, n_bins: int) -> np.ndarray:
    """int[...]: the bin of each stick for a cell scaled by 1 + e (−1: no stick, or off the grid)."""
    s = sin / (1 + e)
    tt = 2 * np.degrees(np.arcsin(np.clip(s, 0, 0.9999)))
    b = np.floor((tt - tt_min) / step).astype(np.int64)
    return np.where((sin > 0) & (s < 0.9999) & (b >= 0) & (b < n_bins), b, -1)


def _contained(sin_top, weight_top, e: float, presence, counted, tt_min: float, step: float) -> np.ndarray:
    """float[N]: C(e), the √I-weighted share of the strongest sticks on signal (``presence`` float[n_bins + 1],
    ``counted`` bool[n_bins + 1]: the last slot stands for "no stick"); 0 with fewer than 3 sticks measured."""
    b = _bins(sin_top, e, tt_min, step, len(presence) - 1)
    wt = np.where(counted[b], weight_top, 0.0)
    c = (wt * presence[b]).sum(1) / np.maximum(wt.sum(1), 1e-30)
    return np.where((wt > 0).sum(1) >= 3, c, 0.0)


def containment_scores(presence_profile: np.ndarray, coverage_profile: np.ndarray, weight: np.ndarray,
                       tt_min: float, step: float, sticks: StickSines, allowed: np.ndarray | None = None) -> np.ndarray:
    """float[N] in [0, 1]: each entry's containment score (module docstring) in a profile on its grid (bins of
    ``step`` degrees 2θ from ``tt_min``, measured where ``weight`` > 0). ``presence_profile``: where lines are
    (the whole measured signal); ``coverage_profile``: the peaks an entry should explain (the same, or what the
    phases found so far leave). Entries outside ``allowed`` (bool[N]) score −inf."""
    from scipy.ndimage import gaussian_filter1d, maximum_filter1d
    from scipy.signal import find_peaks

    n = len(presence_profile)
    inside = np.asarray(weight) > 0
    half = max(int(round(TOLERANCE / step)), 1)

    def smooth(y):
        y = gaussian_filter1d(np.where(inside, np.maximum(np.asarray(y, np.float64), 0.0), 0.0), 0.05 / step)
        return y / max(float(y.max()), 1e-30)

    p = maximum_filter1d(np.clip(smooth(presence_profile) / PRESENCE, 0.0, 1.0), 2 * half + 1)
    p = np.append(np.where(inside, p, 0.0), 0.0)  # index −1 (no stick): absent
    counted = np.append(inside, False)
    cov = smooth(coverage_profile)
    peaks, _ = find_peaks(cov, prominence=0.03)
    heights = cov[peaks] / max(float(cov[peaks].sum()), 1e-30)
    peak_id = np.full(n + 1, -1, np.int64)  # the measured peak within the tolerance of each bin
    for k, b in enumerate(peaks):
        peak_id[max(b - half, 0):min(b + half + 1, n)] = k  # never index n: that slot means "no stick"
    ok = np.ones(len(sticks), bool) if allowed is None else np.asarray(allowed, bool)
    strains = np.arange(-MAX_STRAIN, MAX_STRAIN + 1e-9, STRAIN_STEP)
    best_c = np.zeros(len(sticks))
    for e in strains:
        best_c = np.maximum(best_c, _contained(sticks.sin_top, sticks.weight_top, e, p, counted, tt_min, step))
    short = np.flatnonzero(ok)[np.argsort(-best_c[ok], kind="stable")[:SHORTLIST]]
    score = np.full(len(sticks), -np.inf)
    score[ok] = 0.0
    if len(peaks) == 0 or len(short) == 0:
        return score
    sin_top, w_top, sin_all = sticks.sin_top[short], sticks.weight_top[short], sticks.sin[short]
    rows = np.arange(len(short))[:, None]
    for e in strains:
        c = _contained(sin_top, w_top, e, p, counted, tt_min, step)
        hit = np.zeros((len(short), len(peaks) + 1), bool)
        hit[rows, peak_id[_bins(sin_all, e, tt_min, step, n)] + 1] = True
        cover = hit[:, 1:].astype(np.float64) @ heights
        score[short] = np.maximum(score[short], c * cover ** COVERAGE_POWER)
    return score

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
entries with fewer than 3 sticks in the measured range score 0. C(e) of every entry is read from one table over
ln sin θ, where a cell scaling is a shift (:class:`ShiftTable`; 0.31 s over 141 k entries where evaluating each
stick at each scaling took 2.65 s: ``benchmarks/containment_speed.py``); the coverage of the shortlist is computed
stick by stick. The constants were chosen on simulated mixtures of the validation split (results/identify/README.md),
never on measurements.
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
    0 = none), and its :data:`TOP_LINES` strongest apart as ln sin θ (float32, −inf = none) with their √I weights:
    in ln sin θ an isotropic cell scaling is a shift (Bragg: sin θ ∝ 1/d), so one table serves every scaling."""

    def __init__(self, two_theta: np.ndarray, intensity: np.ndarray):
        tt = np.asarray(two_theta, np.float64)
        inten = np.where(tt > 0, np.asarray(intensity, np.float64), 0.0)
        self.sin = np.where(inten > 0, np.sin(np.radians(tt / 2)), 0.0).astype(np.float32)
        top = np.argsort(-inten, axis=1, kind="stable")[:, :TOP_LINES]
        sin_top = np.take_along_axis(self.sin, top, 1)
        with np.errstate(divide="ignore"):
            self.log_sin_top = np.where(sin_top > 0, np.log(np.maximum(sin_top, 1e-30)), -np.inf).astype(np.float32)
        self.weight_top = np.sqrt(np.take_along_axis(inten, top, 1)).astype(np.float32)

    def __len__(self) -> int:
        return len(self.sin)

    def subset(self, rows) -> "StickSines":
        out = object.__new__(StickSines)
        for k in ("sin", "log_sin_top", "weight_top"):
            setattr(out, k, getattr(self, k)[rows])
        return out


def _bins(sin: np.ndarray, e: float, tt_min: float, step: float, n_bins: int) -> np.ndarray:
    """int[...]: the bin of each stick for a cell scaled by 1 + e (−1: no stick, or off the grid)."""
    s = sin / (1 + e)
    tt = 2 * np.degrees(np.arcsin(np.clip(s, 0, 0.9999)))
    b = np.floor((tt - tt_min) / step).astype(np.int64)
    return np.where((sin > 0) & (s < 0.9999) & (b >= 0) & (b < n_bins), b, -1)


def contained_direct(sin_top: np.ndarray, weight_top: np.ndarray, e: float, presence: np.ndarray,
                     counted: np.ndarray, tt_min: float, step: float) -> np.ndarray:
    """float[N]: C(e) computed stick by stick (sin θ of the :data:`TOP_LINES` strongest float[N, TOP_LINES], 0 =
    none; ``presence``, ``counted`` float/bool[n_bins + 1], the last slot "no stick") — the reference
    :class:`ShiftTable` is checked against (tests, ``benchmarks/containment_speed.py``)."""
    b = _bins(sin_top, e, tt_min, step, len(presence) - 1)
    wt = np.where(counted[b], weight_top, 0.0)
    c = (wt * presence[b]).sum(1) / np.maximum(wt.sum(1), 1e-30)
    return np.where((wt > 0).sum(1) >= 3, c, 0.0)


class ShiftTable:
    """The presence map on a uniform grid in u = ln sin θ, one column per cell scaling: ``table[b, j]`` =
    (presence, counted) at u-bin b after scaling j (a shift by round(ln(1 + e_j) / du) bins), so C(e) of every
    entry and every scaling is one gather of contiguous rows. du is half the 2θ grid's step at its high-angle end
    (d ln sin θ = cot θ dθ; finer below), so a u bin never spans two 2θ bins' worth and rounding a shift moves a line
    by at most a quarter of a 2θ step."""

    def __init__(self, presence: np.ndarray, counted: np.ndarray, strains: np.ndarray, tt_min: float, step: float):
        n = len(presence) - 1  # presence[n]: the "no stick" slot
        inside = np.flatnonzero(counted[:n])
        lo_tt = max(tt_min + step * (inside[0] if len(inside) else 0), step)
        hi_tt = min(tt_min + step * (inside[-1] + 1 if len(inside) else n), 179.0)
        u_lo, u_hi = np.log(np.sin(np.radians(lo_tt / 2))), np.log(np.sin(np.radians(hi_tt / 2)))
        # at most ~200 k rows (60 MB) whatever the grid: near 2θ = 180° cot θ → 0 would ask for millions
        self.du = max(0.25 * np.radians(step) / np.tan(np.radians(hi_tt / 2)), (u_hi - u_lo) / 200_000)
        shifts = np.rint(np.log1p(strains) / self.du).astype(np.int64)
        margin = int(np.abs(shifts).max(initial=0)) + 1
        self.u0 = u_lo - margin * self.du
        n_u = int(np.ceil((u_hi - self.u0) / self.du)) + margin + 1
        u = self.u0 + (np.arange(n_u) + 0.5) * self.du
        b = np.floor((2 * np.degrees(np.arcsin(np.minimum(np.exp(u), 0.9999))) - tt_min) / step).astype(np.int64)
        b = np.where((b >= 0) & (b < n), b, n)
        cols = np.arange(n_u)[:, None] - shifts[None, :]  # a line at u is at u − ln(1 + e) once scaled
        src = np.where((cols >= 0) & (cols < n_u), b[np.clip(cols, 0, n_u - 1)], n)
        self.table = np.zeros((n_u + 1, len(strains), 2), np.float32)  # last row: a stick off the table
        self.table[:n_u, :, 0] = presence[src] * counted[src]
        self.table[:n_u, :, 1] = counted[src]

    def rows(self, log_sin: np.ndarray) -> np.ndarray:
        """int[...]: each stick's row of the table (the last row for none)."""
        r = np.floor((np.asarray(log_sin, np.float64) - self.u0) / self.du)
        n_u = len(self.table) - 1
        return np.where(np.isfinite(r) & (r >= 0) & (r < n_u), r, n_u).astype(np.int64)

    def contained(self, log_sin_top: np.ndarray, weight_top: np.ndarray, chunk: int = 256) -> np.ndarray:
        """float[N, n_strains]: C(e) of each entry at each scaling, the √I-weighted share of its strongest sticks
        on signal; 0 where fewer than 3 of them fall in the measured range."""
        n_s = self.table.shape[1]
        out = np.zeros((len(log_sin_top), n_s), np.float32)
        for s in range(0, len(out), chunk):  # small chunks: the gathered rows stay in cache
            g = self.table[self.rows(log_sin_top[s:s + chunk])].reshape(-1, log_sin_top.shape[1], 2 * n_s)
            w = np.asarray(weight_top[s:s + chunk], np.float32)
            # one batched product gives Σ w·present, Σ w·counted and Σ counted for every scaling
            r = np.matmul(np.stack([w, np.ones_like(w)], 1), g).reshape(-1, 2, n_s, 2)
            num, den, n_lines = r[:, 0, :, 0], r[:, 0, :, 1], r[:, 1, :, 1]
            out[s:s + chunk] = np.where((n_lines >= 3) & (den > 0), num / np.maximum(den, 1e-30), 0.0)
        return out


def strain_grid() -> np.ndarray:
    """float[S]: the isotropic cell scalings e tried, −:data:`MAX_STRAIN` … +:data:`MAX_STRAIN` by
    :data:`STRAIN_STEP`."""
    return np.arange(-MAX_STRAIN, MAX_STRAIN + 1e-9, STRAIN_STEP)


def _smooth(y: np.ndarray, inside: np.ndarray, step: float) -> np.ndarray:
    """A profile's measured part, smoothed by σ = 0.05° (counting noise) and scaled to a maximum of 1."""
    from scipy.ndimage import gaussian_filter1d

    y = gaussian_filter1d(np.where(inside, np.maximum(np.asarray(y, np.float64), 0.0), 0.0), 0.05 / step)
    return y / max(float(y.max()), 1e-30)


def presence_map(presence_profile: np.ndarray, weight: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """(presence float[n_bins + 1], counted bool[n_bins + 1]): where the pattern has a line — min(1, level /
    (:data:`PRESENCE` · max)), widened by ± :data:`TOLERANCE`° — and where it was measured; the last slot stands for
    "no stick" (absent, not counted)."""
    from scipy.ndimage import maximum_filter1d

    inside = np.asarray(weight) > 0
    half = max(int(round(TOLERANCE / step)), 1)
    p = maximum_filter1d(np.clip(_smooth(presence_profile, inside, step) / PRESENCE, 0.0, 1.0), 2 * half + 1)
    return np.append(np.where(inside, p, 0.0), 0.0), np.append(inside, False)


def containment_scores(presence_profile: np.ndarray, coverage_profile: np.ndarray, weight: np.ndarray,
                       tt_min: float, step: float, sticks: StickSines, allowed: np.ndarray | None = None) -> np.ndarray:
    """float[N] in [0, 1]: each entry's containment score (module docstring) in a profile on its grid (bins of
    ``step`` degrees 2θ from ``tt_min``, measured where ``weight`` > 0). ``presence_profile``: where lines are
    (the whole measured signal); ``coverage_profile``: the peaks an entry should explain (the same, or what the
    phases found so far leave). Entries outside ``allowed`` (bool[N]) score −inf."""
    from scipy.signal import find_peaks

    n = len(presence_profile)
    half = max(int(round(TOLERANCE / step)), 1)
    p, counted = presence_map(presence_profile, weight, step)
    cov = _smooth(coverage_profile, np.asarray(weight) > 0, step)
    peaks, _ = find_peaks(cov, prominence=0.03)
    heights = cov[peaks] / max(float(cov[peaks].sum()), 1e-30)
    peak_id = np.full(n + 1, -1, np.int64)  # the measured peak within the tolerance of each bin
    for k, b in enumerate(peaks):
        peak_id[max(b - half, 0):min(b + half + 1, n)] = k  # never index n: that slot means "no stick"
    ok = np.ones(len(sticks), bool) if allowed is None else np.asarray(allowed, bool)
    strains = strain_grid()
    table = ShiftTable(p, counted, strains, tt_min, step)
    rows_ok = np.flatnonzero(ok)
    best_c = table.contained(sticks.log_sin_top[rows_ok], sticks.weight_top[rows_ok]).max(1)
    short = rows_ok[np.argsort(-best_c, kind="stable")[:SHORTLIST]]
    score = np.full(len(sticks), -np.inf)
    score[ok] = 0.0
    if len(peaks) == 0 or len(short) == 0:
        return score
    c = table.contained(sticks.log_sin_top[short], sticks.weight_top[short])
    sin_all = sticks.sin[short]
    rows = np.arange(len(short))[:, None]
    for j, e in enumerate(strains):  # the coverage of the 256 shortlisted entries, stick by stick
        hit = np.zeros((len(short), len(peaks) + 1), bool)
        hit[rows, peak_id[_bins(sin_all, e, tt_min, step, n)] + 1] = True
        cover = hit[:, 1:].astype(np.float64) @ heights
        score[short] = np.maximum(score[short], c[:, j] * cover ** COVERAGE_POWER)
    return score

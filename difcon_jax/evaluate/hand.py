"""HAND baseline (the paper's §4.2, after Suzuki et al.): extremely randomised trees on hand-made features.

Features: the first ten peak positions (degrees 2θ, ascending; missing ones = 90°) and the number of peaks
in 0–90°. Trained on stick patterns (peaks ≥ ``min_rel_intensity`` of the strongest); on rendered or
measured profiles the peaks come from scipy's peak finder. One ExtraTreesClassifier per target (crystal
system, extinction group, space group), scikit-learn.
"""

from __future__ import annotations

import numpy as np

from difcon_jax.crystal.symmetry import num_extinction_groups
from difcon_jax.grid import Grid

N_PEAKS = 10
TT_LIMIT = 90.0


def _features_from_positions(positions: list[np.ndarray]) -> np.ndarray:
    out = np.full((len(positions), N_PEAKS + 1), TT_LIMIT, np.float32)
    for i, p in enumerate(positions):
        p = np.sort(p[(p > 0) & (p <= TT_LIMIT)])
        out[i, :min(N_PEAKS, len(p))] = p[:N_PEAKS]
        out[i, N_PEAKS] = len(p)
    return out


def stick_features(table, rows, min_rel_intensity: float = 0.01) -> np.ndarray:
    """HAND features float[len(rows), F] from the table's stick patterns (peaks above ``min_rel_intensity`` of
    the strongest)."""
    tt = np.asarray(table.two_theta)[rows]
    inten = np.where(np.asarray(table.mask)[rows], np.asarray(table.intensity)[rows], 0)
    keep = inten >= min_rel_intensity * inten.max(1, keepdims=True)
    return _features_from_positions([t[k] for t, k in zip(tt, keep)])


def profile_features(profiles: np.ndarray, grid: Grid, smooth_deg: float = 0.05,
                     prominence: float = 0.01) -> np.ndarray:
    """Peak positions found in profiles float[B, grid.n_bins] (normalised to max 1, on ``grid``: degrees 2θ).

    The profile is smoothed with a Gaussian of ``smooth_deg`` (degrees 2θ) before scipy's ``find_peaks``
    keeps maxima of ``prominence`` or more: without smoothing, counting noise on low-count patterns gives
    hundreds of "peaks" and the first ten carry no information (HAND then predicted one class for the whole
    invariance set). The two settings were chosen on simulated patterns of *training* structures with fresh
    augmentation draws (``python benchmarks/hand_peak_finder.py``), never on test sets or measurements.
    """
    from scipy.ndimage import gaussian_filter1d  # scipy.signal costs ~1 s to import: only when HAND runs
    from scipy.signal import find_peaks

    step = grid.step
    sigma = smooth_deg / step
    pos = []
    for y in profiles:
        if sigma > 0:
            y = gaussian_filter1d(np.asarray(y, np.float64), sigma)
        idx, _ = find_peaks(y, prominence=prominence, distance=max(1, int(0.05 / step)))
        pos.append(grid.centres[idx])
    return _features_from_positions(pos)


class HandModel:
    """Three ExtraTrees classifiers; ``predict(features)`` returns the same keys as the network's predict."""

    def __init__(self, n_estimators: int = 300, seed: int = 0, n_jobs: int = -1):
        from sklearn.ensemble import ExtraTreesClassifier

        self.models = {k: ExtraTreesClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs,
                                               min_samples_leaf=1) for k in ("cs", "eg", "sg")}

    def fit(self, features, crystal_system, extinction_group, space_group) -> "HandModel":
        for k, y in (("cs", crystal_system), ("eg", extinction_group), ("sg", space_group)):
            self.models[k].fit(features, np.asarray(y))
        return self

    def _full(self, key, features, size, offset=0):
        m = self.models[key]
        p = m.predict_proba(features)
        out = np.zeros((len(features), size), np.float64)
        out[:, np.asarray(m.classes_, int) - offset] = p
        return out

    def predict(self, features) -> dict[str, np.ndarray]:

        return {"crystal_system": self._full("cs", features, 7), "extinction_group":
                self._full("eg", features, num_extinction_groups()), "space_group": self._full("sg", features, 230, 1)}

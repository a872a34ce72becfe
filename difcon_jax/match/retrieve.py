"""Retrieval: the reference entries nearest to a pattern's DIFCON representation (cosine similarity), under
the chemistry restraints search-match programs offer (host side, NumPy).

* ``--elements Fe,O``: every listed element must be present;
* ``--only-elements Fe,O,H``: no element outside the list may be present;
* ``--exclude-elements H,C``: none of the listed elements may be present;

and, unless ``--non-ambient``, an entry determined away from room conditions is left out when the library holds its
mineral (by name) at ambient conditions in other space groups only: another polymorph
(:func:`difcon_jax.match.conditions.ambient_preferred`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from difcon_jax.errors import InputError
from difcon_jax.match.conditions import ambient_preferred
from difcon_jax.match.database import ReferenceDB, element_mask


def parse_elements(text: str | None, option: str = "--elements") -> tuple[str, ...]:
    """Element symbols of a comma/space separated list; InputError (one line) naming the bad symbol."""
    if not text:
        return ()
    out = []
    for s in str(text).replace(",", " ").split():
        try:
            element_mask([s])
        except InputError:
            raise InputError(option, f"{s!r} is not a chemical element symbol") from None
        out.append(s[0].upper() + s[1:].lower())
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class Restraints:
    """Chemistry restraints on the candidates (element symbols), and whether entries determined at non-ambient
    conditions are searched when the same phase is held at ambient ones."""
    must: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    non_ambient: bool = False

    def allowed(self, db: ReferenceDB) -> np.ndarray:
        """bool[N]: entries that satisfy every restraint."""
        ok = np.ones(len(db), bool) if self.non_ambient else ambient_preferred(db.name, db.conditions, db.space_group)
        el = np.asarray(db.elements, np.uint8)
        if self.must:
            m = element_mask(self.must)
            ok &= np.all((el & m) == m, axis=1)
        if self.only:
            m = element_mask(self.only)
            ok &= ~np.any(el & ~m, axis=1)
        if self.exclude:
            ok &= ~np.any(el & element_mask(self.exclude), axis=1)
        return ok


def normalise(h: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32)."""
    h = np.asarray(h, np.float32)
    return h / np.maximum(np.linalg.norm(h, axis=-1, keepdims=True), 1e-12)


def top_candidates(h_query: np.ndarray, db_h: np.ndarray, k: int, allowed: np.ndarray | None = None,
                   chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """(indices int[B, k'], cosine similarities float[B, k']), best first, k' = min(k, allowed entries);
    entries outside ``allowed`` (bool[N]) are never returned. Chunked over the database (150 k entries:
    one [B, D] @ [D, chunk] product per chunk)."""
    q = normalise(np.atleast_2d(h_query))
    n = len(db_h)
    ok = np.ones(n, bool) if allowed is None else np.asarray(allowed, bool)
    k = int(min(k, ok.sum()))
    if k == 0:
        return np.zeros((len(q), 0), np.int64), np.zeros((len(q), 0), np.float32)
    best_i = np.zeros((len(q), 0), np.int64)
    best_s = np.zeros((len(q), 0), np.float32)
    for s in range(0, n, chunk):
        sims = q @ normalise(db_h[s:s + chunk]).T
        sims[:, ~ok[s:s + chunk]] = -np.inf
        idx = np.concatenate([best_i, np.broadcast_to(np.arange(s, s + sims.shape[1]), (len(q), sims.shape[1]))], 1)
        val = np.concatenate([best_s, sims], 1)
        top = np.argpartition(-val, k - 1, axis=1)[:, :k]
        best_i, best_s = np.take_along_axis(idx, top, 1), np.take_along_axis(val, top, 1)
    order = np.argsort(-best_s, axis=1, kind="stable")
    return np.take_along_axis(best_i, order, 1), np.take_along_axis(best_s, order, 1)


#: Fingerprint grid for profile retrieval: 0.1° cells, peaks as Gaussians of 0.3° FWHM, √intensity.
FINGERPRINT_STEP = 0.1
FINGERPRINT_FWHM = 0.3


def _gauss_kernel(fwhm_cells: float) -> np.ndarray:
    sigma = fwhm_cells / 2.3548
    half = int(np.ceil(4 * sigma))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def _blur(a: np.ndarray, fwhm_cells: float) -> np.ndarray:
    from scipy.ndimage import convolve1d

    return convolve1d(a, _gauss_kernel(fwhm_cells), axis=-1, mode="constant")


def stick_fingerprints(two_theta: np.ndarray, intensity: np.ndarray, tt_max: float) -> np.ndarray:
    """float32[N, C]: √ of each stick pattern (2θ degrees, intensity [N, P], 0 = none) drawn with Gaussian
    peaks on the fingerprint grid (C = tt_max / 0.1° cells); peaks split linearly between two cells."""
    n_cells = int(round(tt_max / FINGERPRINT_STEP))
    pos = np.asarray(two_theta, np.float64) / FINGERPRINT_STEP - 0.5
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    inten = np.asarray(intensity, np.float64)
    out = np.zeros((len(inten), n_cells + 2), np.float64)
    rows = np.broadcast_to(np.arange(len(inten))[:, None], lo.shape)
    for off, wgt in ((0, 1 - frac), (1, frac)):
        c = np.clip(lo + off, -1, n_cells) + 1
        np.add.at(out, (rows, c), inten * wgt * (inten > 0))
    out = _blur(out[:, 1:-1], FINGERPRINT_FWHM / FINGERPRINT_STEP)
    return np.sqrt(np.maximum(out, 0.0)).astype(np.float32)


def profile_fingerprint(profile: np.ndarray, weight: np.ndarray, tt_min: float, step: float,
                        n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """(fingerprint float32[C], measured cells bool[C]) of a profile on its own grid (bins of ``step``
    degrees from ``tt_min``): cell means, smoothed to the fingerprints' width (peaks are already ~0.1° wide),
    √ of the positive part."""
    centres = tt_min + (np.arange(len(profile)) + 0.5) * step
    cell = np.clip((centres / FINGERPRINT_STEP).astype(np.int64), 0, n_cells - 1)
    sums = np.bincount(cell, np.where(weight > 0, profile, 0.0), n_cells)
    counts = np.bincount(cell, (weight > 0).astype(np.float64), n_cells)
    measured = counts > 0
    mean = np.where(measured, sums / np.maximum(counts, 1), 0.0)
    fwhm_extra = np.sqrt(max(FINGERPRINT_FWHM ** 2 - 0.15 ** 2, 0.0))
    return np.sqrt(np.maximum(_blur(mean, fwhm_extra / FINGERPRINT_STEP), 0.0)).astype(np.float32) * measured, measured


def profile_similarity(fp: np.ndarray, measured: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """float[N]: cosine between a measured fingerprint and every reference's, over the measured cells only."""
    m = measured.astype(np.float32)
    num = refs @ fp
    sq = np.empty(len(refs), np.float32)
    for s in range(0, len(refs), 2048):  # in chunks: refs·refs of a 141 k library at once is a 0.5 GB temporary
        r = refs[s:s + 2048]
        sq[s:s + 2048] = (r * r) @ m
    return num / (np.linalg.norm(fp) * np.sqrt(sq) + 1e-12)

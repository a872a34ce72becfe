"""Powder indexing: a cell from peak positions alone, for a pattern the reference library does not hold
(host side, NumPy; the identify issue's "lattice estimate" for a Pawley check of a novel phase).

In a lattice of system S, every line's Q = 1/d² (Å⁻²) is linear in a few reciprocal-metric parameters θ:

* cubic Q = (h² + k² + l²)·θ₁;  tetragonal Q = (h² + k²)·θ₁ + l²·θ₂;
* hexagonal (trigonal and hexagonal groups, rhombohedral ones on hexagonal axes) Q = ⁴⁄₃(h² + hk + k²)·θ₁ + l²·θ₂;
* orthorhombic Q = h²·θ₁ + k²·θ₂ + l²·θ₃  (θᵢ = 1/aᵢ²).

As TREOR does (Werner, Eriksson & Westdahl 1985), ``p`` of the first low-angle lines are given trial
low-index indices, the p×p system is solved for θ, and every trial cell is scored by how many of the first
lines it indexes; the best trials are refined by least squares (θ and a zero shift) over the lines they index
and judged by de Wolff's figure of merit M20 = Q₂₀ / (2·ε̄·N₂₀) (ε̄ the mean |Q_obs − Q_calc| of the indexed
lines, N₂₀ the number of distinct calculated lines up to the 20th observed one). The answer is the lattice with
the fewest parameters whose best cell passes the test (M20 and lines left unindexed), so a cubic phase is not
reported by its orthorhombic description. Monoclinic and triclinic cells (four and six parameters) are not searched:
such a pattern gets no indexing, and identify answers it as before.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import numpy as np

from difcon_jax.crystal.radiation import WAVELENGTHS
from difcon_jax.grid import Grid

#: lattices searched (:func:`choose_lattice` prefers the fewest parameters)
LATTICES = ("cubic", "hexagonal", "tetragonal", "orthorhombic")


@dataclasses.dataclass(frozen=True)
class IndexSettings:
    """Static settings of the search (set on simulated patterns: results/identify/README.md)."""
    n_lines: int = 20  # observed lines used (the lowest angles)
    min_lines: int = 3  # plus the lattice's parameter count: fewer lines than this, no indexing
    base_lines: int = 6  # the trial indices go to p of the first this many lines
    tolerance: float = 0.04  # degrees 2θ: a line is indexed within this (after the zero shift)
    max_unindexed: int = 2  # of the first n_lines (impurity lines, Kβ)
    min_m20: float = 15.0  # de Wolff's M20 an accepted cell must reach…
    m20_ratio: float = 0.3  # …and this share of the best M20 any lattice reaches
    max_volume: float = 3000.0  # Å³
    max_edge: float = 40.0  # Å: longer cell edges are not searched (their index boxes would not fit in memory)
    min_prominence: float = 0.02  # of the maximum: weaker peaks are not lines…
    min_snr: float = 8.0  # …nor are peaks less prominent than this many times their neighbourhood's noise
    smooth: float = 0.04  # degrees: Gaussian FWHM of the smoothing before peaks are found
    keep: int = 60  # trial cells refined per lattice
    max_violations: int = 1  # observed lines a space group's absences may leave unexplained (absences.py)


@dataclasses.dataclass(frozen=True)
class Indexing:
    """An accepted cell: ``lattice`` (one of :data:`LATTICES`), ``cell`` (a, b, c Å, α, β, γ degrees; the
    conventional hexagonal cell for 'hexagonal'; orthorhombic axes in the order the search found them),
    de Wolff's ``m20``, lines ``indexed`` of ``lines``, the refined ``zero`` shift (degrees 2θ), the observed
    lines ``two_theta`` (degrees, grid scale) and the lattice ``centring`` M20 was counted with."""
    lattice: str
    cell: tuple
    m20: float
    indexed: int
    lines: int
    zero: float
    two_theta: np.ndarray
    centring: str = "P"

    @property
    def volume(self) -> float:
        a, b, c, _, _, gamma = self.cell
        return float(a * b * c * np.sin(np.radians(gamma)))

    def as_dict(self) -> dict:
        return {"lattice": self.lattice, "centring": self.centring, "cell": [round(float(v), 5) for v in self.cell],
                "volume": round(self.volume, 2), "m20": round(float(self.m20), 1),
                "lines_indexed": f"{self.indexed}/{self.lines}", "zero": round(float(self.zero), 4)}


def _line_wavelength(two_theta: np.ndarray, lambda_ref: float, anode: str | None) -> np.ndarray:
    """Å per line on the grid's scale: an unresolved Kα doublet peaks near its mean (λ_ref), a resolved one
    at Kα1 (the doublet splits by ≈ 2 tan θ Δλ/λ; resolved where that exceeds 0.1°); ``anode`` None: lines of
    one wavelength (a monochromator), λ_ref everywhere."""
    if anode is None:
        return np.full(np.shape(two_theta), lambda_ref)
    mean, a1 = WAVELENGTHS[f"{anode}Ka"], WAVELENGTHS[f"{anode}Ka1"]
    return np.where(_doublet_split(two_theta, anode) > 0.1, a1 * lambda_ref / mean, lambda_ref)


def _doublet_split(two_theta, anode: str):
    """Degrees between the Kα1 and Kα2 lines of one d at ``two_theta`` (≈ 2 tan θ Δλ/λ)."""
    mean, a1, a2 = (WAVELENGTHS[f"{anode}Ka{s}"] for s in ("", "1", "2"))
    return np.degrees(2 * np.tan(np.radians(np.asarray(two_theta) / 2)) * (a2 - a1) / mean)


def line_q(two_theta: np.ndarray, zero: float, lambda_ref: float, anode: str | None = "Cu") -> tuple[np.ndarray, np.ndarray]:
    """(Q = 1/d² Å⁻², dQ/d(2θ) Å⁻² per degree) of lines observed at ``two_theta`` (degrees, grid scale) with a
    zero shift ``zero`` (degrees) removed."""
    t = np.asarray(two_theta, np.float64) - zero
    lam = _line_wavelength(t, lambda_ref, anode)
    return (2 * np.sin(np.radians(t / 2)) / lam) ** 2, 4 * np.sin(np.radians(t)) / lam ** 2 * np.pi / 360.0


def observed_lines(y, weight, grid: Grid, anode: str | None = "Cu", settings: IndexSettings = IndexSettings()) -> np.ndarray:
    """float[≤ n_lines]: 2θ (degrees, grid scale) of the lowest-angle peaks of a background-removed profile on
    ``grid`` (sub-bin positions from a parabola through the top three bins), Kα2 shoulders and Kβ lines of
    stronger lines dropped (``anode`` None: lines of one wavelength, nothing dropped)."""
    from scipy.ndimage import gaussian_filter1d, median_filter  # scipy costs ~1 s to import: only when indexing
    from scipy.signal import find_peaks

    y = np.where(np.asarray(weight) > 0, np.asarray(y, np.float64), 0.0)
    if y.max() <= 0:
        return np.zeros(0)
    # the noise varies along a pattern (air scatter and the background's Poisson noise at low angles): a line
    # must stand out of its own neighbourhood's scatter (second differences' MAD over ±2°), on a lightly
    # smoothed profile so one noisy bin is not a peak
    d2 = np.abs(np.convolve(y, [1.0, -2.0, 1.0], mode="same"))
    local = 1.4826 * median_filter(d2, size=int(round(4.0 / grid.step)) | 1, mode="nearest") / np.sqrt(6.0)
    ys = gaussian_filter1d(y, settings.smooth / 2.3548 / grid.step)
    pk, props = find_peaks(ys, prominence=settings.min_prominence * ys.max())
    pk = pk[props["prominences"] >= settings.min_snr * local[pk]]
    y = ys
    inside = np.flatnonzero(np.asarray(weight) > 0)
    margin = int(round(0.5 / grid.step))  # background removal leaves bumps at the measured range's ends
    pk = pk[(pk > max(inside.min() + margin, 0)) & (pk < min(inside.max() - margin, len(y) - 1))]
    a, b, c = y[pk - 1], y[pk], y[pk + 1]
    den = a - 2 * b + c
    shift = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1.0), 0.0)
    tt = grid.centres[pk] + np.clip(shift, -0.5, 0.5) * grid.step
    return tt[~companion_lines(tt, b, anode, grid.step)][:settings.n_lines]


def companion_lines(two_theta: np.ndarray, height: np.ndarray, anode: str | None, step: float) -> np.ndarray:
    """bool[P]: which of the peaks at ``two_theta`` (degrees, grid scale) of heights ``height`` are another
    peak's companion — the Kα2 line of a stronger peak one doublet splitting below (resolved: > 0.1°), or the
    Kβ line (≤ 1/8) of a peak of the same d. ``step``: the grid's bin (degrees). ``anode`` None: one wavelength,
    no companions."""
    tt = np.asarray(two_theta, np.float64)
    b = np.asarray(height, np.float64)
    out = np.zeros(len(tt), bool)
    if anode is None or not len(tt):
        return out
    mean = WAVELENGTHS[f"{anode}Ka"]
    split = _doublet_split(tt, anode)
    # where each peak's Kα parent would be if it were a Kβ line (same d, the filter leaves a few per cent)
    kb = WAVELENGTHS.get(f"{anode}Kb1")
    kb_parent = 2 * np.degrees(np.arcsin(np.minimum(np.sin(np.radians(tt / 2)) * mean / kb, 1.0))) if kb else tt + 1e9
    for i in range(len(tt)):
        # a weaker peak one doublet splitting above a stronger one is its Kα2
        ka2_parent = (np.abs(tt[i] - split[i] - tt) < 0.3 * split[i] + step) & (b > b[i] / 0.75)
        kb_of = (np.abs(kb_parent[i] - tt) < 0.1) & (b > 8 * b[i])  # a Kβ line is ≤ 1/8 of its parent
        out[i] = (split[i] > 0.1 and ka2_parent.any()) or kb_of.any()
    return out


@functools.lru_cache(maxsize=64)
def _vectors(lattice: str, max_index: int) -> np.ndarray:
    """float[M, p]: the distinct coefficient vectors of Q = c·θ for indices up to ``max_index``."""
    r = np.arange(max_index + 1)
    if lattice == "hexagonal":
        s = np.arange(-max_index, max_index + 1)
        h, k, l = (v.ravel() for v in np.meshgrid(s, s, r, indexing="ij"))
        v = np.stack([4.0 / 3.0 * (h * h + h * k + k * k), l * l], 1)
    else:
        h, k, l = (v.ravel() for v in np.meshgrid(r, r, r, indexing="ij"))
        v = {"cubic": lambda: (h * h + k * k + l * l)[:, None],
             "tetragonal": lambda: np.stack([h * h + k * k, l * l], 1)}.get(lattice, lambda: np.stack([h * h, k * k, l * l], 1))()
    v = np.unique(np.asarray(v, np.float64), axis=0)
    return v[np.any(v > 0, axis=1)]


def _cell(lattice: str, theta: np.ndarray) -> tuple:
    e = 1.0 / np.sqrt(theta)
    if lattice == "cubic":
        return (e[0], e[0], e[0], 90.0, 90.0, 90.0)
    if lattice in ("tetragonal", "hexagonal"):
        return (e[0], e[0], e[1], 90.0, 90.0, 120.0 if lattice == "hexagonal" else 90.0)
    return (e[0], e[1], e[2], 90.0, 90.0, 90.0)


def _volume(lattice: str, theta: np.ndarray) -> np.ndarray:
    """Å³ of trial cells θ [T, p]."""
    e = 1.0 / np.sqrt(np.maximum(theta, 1e-12))
    if lattice == "cubic":
        return e[:, 0] ** 3
    if lattice == "tetragonal":
        return e[:, 0] ** 2 * e[:, 1]
    if lattice == "hexagonal":
        return e[:, 0] ** 2 * e[:, 1] * np.sqrt(3) / 2
    return e.prod(1)


def _trials(lattice: str, q: np.ndarray, s: IndexSettings) -> np.ndarray:
    """θ [T, p] of every assignment of low-index base vectors to p of the first ``base_lines`` lines."""
    base = _vectors(lattice, 2 if lattice != "cubic" else 4)
    p = base.shape[1]
    if p == 1:
        theta = (q[:3, None] / base[None, :, 0]).reshape(-1, 1)
    else:
        firsts = base
        if lattice == "orthorhombic":  # an axis permutation of a cell is the same cell: v₁ in sorted form
            firsts = base[np.all(np.diff(base, axis=1) <= 0, axis=1)]
        assign = np.array([(i,) + rest for i in range(len(firsts))
                           for rest in itertools.product(range(len(base)), repeat=p - 1)])
        mats = np.concatenate([firsts[assign[:, :1]], base[assign[:, 1:]]], 1)  # [A, p, p]
        ok = np.abs(np.linalg.det(mats)) > 1e-9
        inv = np.linalg.inv(mats[ok])
        combos = np.array(list(itertools.combinations(range(min(s.base_lines, len(q))), p)))
        theta = np.einsum("aij,cj->cai", inv, q[combos]).reshape(-1, p)
    theta = theta[np.all(theta >= 1.0 / s.max_edge ** 2, axis=1)]
    theta = theta[_volume(lattice, theta) <= s.max_volume]
    return np.unique(np.round(theta, 9), axis=0)


def _quick_count(theta: np.ndarray, quick: np.ndarray, q: np.ndarray, dq: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """int[T]: how many of the lines q are within dq of a calculated line of each trial θ [T, p], the lines
    Q = c·θ with c from ``quick`` [M, p]. The last index (l²) is solved for rather than enumerated: for each
    (h, k) part the nearest l is the one that can explain the line (M / (l range) times less work)."""
    p = theta.shape[1]
    last = int(np.sqrt(quick[:, -1].max()))
    head = np.unique(quick[:, :-1], axis=0) if p > 1 else np.zeros((1, 0))
    out = np.zeros(len(theta), np.int64)
    for i in range(0, len(theta), chunk):
        t = theta[i:i + chunk]
        resid = q[None, None, :] - (t[:, :-1] @ head.T)[:, :, None]  # [t, Mh, lines]
        if p == 1:  # cubic: N = h² + k² + l² takes every value up to the box's but 4ᵃ(8b + 7)
            n = np.clip(np.round(resid / t[:, -1, None, None]), 1, quick[:, 0].max()).astype(np.int64)
            err = np.abs(resid - n * t[:, -1, None, None])
            while np.any(n % 4 == 0):
                n = np.where(n % 4 == 0, n // 4, n)
            err = np.where(n % 8 == 7, np.inf, err)
        else:
            l_sq = np.minimum(np.round(np.sqrt(np.maximum(resid, 0.0) / t[:, -1, None, None])), last) ** 2
            err = np.abs(resid - l_sq * t[:, -1, None, None])
        out[i:i + chunk] = (err <= dq[None, None, :]).any(1).sum(1)
    return out


def _refine(lattice: str, theta: np.ndarray, q_of, g: np.ndarray, tt: np.ndarray, s: IndexSettings):
    """Least squares over the lines θ indexes (assign, solve for θ and the zero shift, three times); returns
    (θ, zero, indexed bool[lines], M20, centring) or None: M20 counts the calculated lines of the lattice
    centring that indexes as many lines with the fewest (an F-centred cubic pattern is not out-scored by a
    small primitive cell that happens to index its few lines)."""
    zero = 0.0
    for widen in (3.0, 2.0, 1.0):  # the zero shift is unknown at first: assign loosely, then tighter
        vec = _vectors(lattice, int(np.ceil(np.sqrt(q_of(tt.max() + 1.0, zero) / theta.min()))) + 1)
        calc = vec @ theta
        qo = q_of(tt, zero)
        j = np.abs(calc[None, :] - qo[:, None]).argmin(1)
        err = np.abs(calc[j] - qo)
        indexed = err <= g * s.tolerance * widen
        if indexed.sum() < len(theta) + 2:
            return None
        a = np.concatenate([vec[j[indexed]], g[indexed, None]], 1)
        sol, *_ = np.linalg.lstsq(a / g[indexed, None], q_of(tt, 0.0)[indexed] / g[indexed], rcond=None)
        if np.any(sol[:-1] < 1.0 / s.max_edge ** 2) or abs(sol[-1]) > 0.2:
            return None
        theta, zero = sol[:-1], float(sol[-1])
    qo = q_of(tt, zero)
    hkl, q = _reflections(lattice, theta, qo.max() + float(g[-1]) * s.tolerance)
    best = None
    for centring in CENTRINGS[lattice]:
        allowed = _centring_allows(centring, hkl)
        calc = np.unique(np.round(q[allowed], 10))
        if not len(calc):
            continue
        err = np.abs(calc[None, :] - qo[:, None]).min(1)
        indexed = err <= g * s.tolerance
        if best is not None and indexed.sum() < best[2].sum():
            continue  # a centring that loses lines is not this pattern's
        n20 = int(np.count_nonzero(calc <= qo[-1] + 1e-12))
        m20 = qo[-1] / (2 * max(float(np.mean(err[indexed])) if indexed.any() else np.inf, 1e-7) * max(n20, 1))
        if best is None or m20 > best[3]:
            best = (theta, zero, indexed, m20, centring)
    return best


#: lattice centrings tried for each lattice's figure of merit (R: obverse rhombohedral on hexagonal axes)
CENTRINGS = {"cubic": ("P", "I", "F"), "tetragonal": ("P", "I"), "hexagonal": ("P", "R"),
             "orthorhombic": ("P", "C", "A", "B", "I", "F")}


def _reflections(lattice: str, theta: np.ndarray, q_max: float) -> tuple[np.ndarray, np.ndarray]:
    """(hkl int[M, 3], Q float[M]) of every reflection with 0 < Q ≤ q_max; h, k signed for the hexagonal
    lattice (whose R centring tells (h, k) from (k, h)), non-negative otherwise (the other centrings' parity
    rules do not see signs)."""
    per_axis = {"cubic": [0, 0, 0], "orthorhombic": [0, 1, 2]}.get(lattice, [0, 0, 1])  # θ of h, k, l
    lim = [int(np.sqrt(q_max / theta[i])) + 1 for i in per_axis]
    lo = [-lim[0], -lim[1], 0] if lattice == "hexagonal" else [0, 0, 0]
    h, k, l = (v.ravel() for v in np.meshgrid(*[np.arange(a, b + 1) for a, b in zip(lo, lim)], indexing="ij"))
    if lattice == "cubic":
        q = (h * h + k * k + l * l) * theta[0]
    elif lattice == "tetragonal":
        q = (h * h + k * k) * theta[0] + l * l * theta[1]
    elif lattice == "hexagonal":
        q = 4.0 / 3.0 * (h * h + h * k + k * k) * theta[0] + l * l * theta[1]
    else:
        q = h * h * theta[0] + k * k * theta[1] + l * l * theta[2]
    keep = (q > 0) & (q <= q_max)
    return np.stack([h, k, l], 1)[keep], q[keep]


def _centring_allows(centring: str, hkl: np.ndarray) -> np.ndarray:
    """bool[M]: the reflections a lattice centring allows."""
    h, k, l = hkl.T
    return {"P": lambda: np.ones(len(hkl), bool), "I": lambda: (h + k + l) % 2 == 0,
            "F": lambda: ((h + k) % 2 == 0) & ((k + l) % 2 == 0), "C": lambda: (h + k) % 2 == 0,
            "A": lambda: (k + l) % 2 == 0, "B": lambda: (h + l) % 2 == 0,
            "R": lambda: (-h + k + l) % 3 == 0}[centring]()


def index_lines(two_theta: np.ndarray, lattice: str, lambda_ref: float, anode: str | None = "Cu",
                settings: IndexSettings = IndexSettings()) -> Indexing | None:
    """The best cell of ``lattice`` for lines at ``two_theta`` (degrees, grid scale, ascending), by M20 among
    those leaving at most ``max_unindexed`` lines unindexed; None when no trial qualifies."""
    s = settings
    tt = np.sort(np.asarray(two_theta, np.float64))[:s.n_lines]
    if len(tt) < s.min_lines + {"cubic": 1, "orthorhombic": 3}.get(lattice, 2):  # + the parameter count
        return None

    def q_of(t, zero):  # Q (Å⁻²) of lines at 2θ = t − zero
        return line_q(t, zero, lambda_ref, anode)[0]

    q, g = line_q(tt, 0.0, lambda_ref, anode)
    theta = _trials(lattice, q, s)
    if not len(theta):
        return None
    quick = _vectors(lattice, {"cubic": 8, "orthorhombic": 6}.get(lattice, 8))
    n_quick = min(10, len(q))
    count = _quick_count(theta, quick, q[:n_quick], g[:n_quick] * s.tolerance * 3.0)
    order = np.lexsort((_volume(lattice, theta), -count))[:s.keep]
    best = None
    for t in theta[order]:
        r = _refine(lattice, t, q_of, g, tt, s)
        if r is None:
            continue
        th, zero, indexed, m20, centring = r
        # impurity lines are allowed in proportion (one per eight lines, at most max_unindexed), and the indexed
        # lines must over-determine the cell: 2p + 2 of them (p parameters plus the zero shift, twice over)
        if (len(tt) - indexed.sum() > min(s.max_unindexed, len(tt) // 8) or indexed.sum() < 2 * len(th) + 2
                or _volume(lattice, th[None])[0] > s.max_volume):
            continue
        if best is None or m20 > best.m20:
            best = Indexing(lattice, tuple(float(v) for v in _cell(lattice, th)), float(m20), int(indexed.sum()),
                            len(tt), zero, tt, centring)
    return best


#: lattices by parameter count: a lattice of an earlier rank is a special case of the later ones (cubic of all;
#: tetragonal and hexagonal of orthorhombic), while the two of rank 2 are not of each other
RANKS = (("cubic",), ("hexagonal", "tetragonal"), ("orthorhombic",))


def choose_lattice(found: dict, settings: IndexSettings = IndexSettings()) -> Indexing | None:
    """The answer among each lattice's best cell (``found``: lattice → :class:`Indexing` or None): the fewest
    parameters (:data:`RANKS`) whose best M20 reaches ``min_m20`` and ``m20_ratio`` of the best M20 of any lattice,
    and within a rank the better M20. A lower-symmetry description of a cell never indexes better than the cell
    itself, while a spurious large high-symmetry cell (which can index a few lines of a tetragonal pattern)
    indexes far worse than the true one; tetragonal and hexagonal cells compete on M20 alone."""
    ok = {k: v for k, v in found.items() if v is not None and v.m20 >= settings.min_m20}
    if not ok:
        return None
    best = max(v.m20 for v in ok.values())
    for rank in RANKS:
        good = [ok[k] for k in rank if k in ok and ok[k].m20 >= settings.m20_ratio * best]
        if good:
            return max(good, key=lambda v: v.m20)
    return None


def index_all(y, weight, grid: Grid, anode: str = "Cu", settings: IndexSettings = IndexSettings()) -> dict:
    """lattice → the best :class:`Indexing` of each of :data:`LATTICES` (or None) for the profile y
    (float[n_bins] on ``grid``, background removed, measured where ``weight`` > 0)."""
    tt = observed_lines(y, weight, grid, anode, settings)
    return {lattice: index_lines(tt, lattice, grid.lambda_ref, anode, settings) for lattice in LATTICES}


def index_pattern(y, weight, grid: Grid, anode: str = "Cu", settings: IndexSettings = IndexSettings()) -> Indexing | None:
    """The accepted cell of the profile y (:func:`index_all`, :func:`choose_lattice`), or None."""
    return choose_lattice(index_all(y, weight, grid, anode, settings), settings)

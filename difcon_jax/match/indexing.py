"""Powder indexing: a cell from peak positions alone, for a pattern the reference library does not hold
(host side, NumPy; the identify issue's "lattice estimate" for a Pawley check of a novel phase).

In a lattice of system S, every line's Q = 1/d² (Å⁻²) is linear in a few reciprocal-metric parameters θ
(cubic 1, hexagonal and tetragonal 2, orthorhombic 3, monoclinic 4: :mod:`~difcon_jax.match.lattices`).

As TREOR does (Werner, Eriksson & Westdahl 1985), ``p`` of the first low-angle lines are given trial
low-index indices, the p×p system is solved for θ, and every trial cell is scored by how many of the first
lines it indexes (a monoclinic trial that indexes the first ten then by all of them: four parameters fit ten
lines too many ways); the best trials are refined by least squares (θ and a zero shift) over the lines they index
and judged by de Wolff's figure of merit M20 = Q₂₀ / (2·ε̄·N₂₀) (ε̄ the mean |Q_obs − Q_calc| of the indexed
lines, N₂₀ the number of distinct calculated lines up to the 20th observed one) and by how far chance falls short
of the fit (:attr:`Indexing.significance`: among thousands of trial cells one fits six random lines with M20 25–50,
so few lines and a modest M20 are refused). The answer is the lattice with the fewest parameters whose best cell
passes the test (M20, significance, lines left unindexed), so a cubic phase is not reported by its orthorhombic
description, nor an orthorhombic one by its monoclinic. Triclinic cells (six parameters) are not searched.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from difcon_jax.crystal.reduced_cell import cell_volume
from difcon_jax.grid import Grid
from difcon_jax.match.lattices import (
    CENTRINGS,
    LATTICES,
    N_PARAMETERS,
    canonical,
    cell_of,
    centring_allows,
    coefficient_vectors,
    monoclinic_base,
    reduce_monoclinic,
    reflections,
    valid,
    volume_of,
)
from difcon_jax.match.spectral_lines import companion_lines, line_q


@dataclasses.dataclass(frozen=True)
class IndexSettings:
    """Static settings of the search (set on simulated patterns: results/identify/README.md)."""
    n_lines: int = 20  # observed lines used (the lowest angles)
    min_lines: int = 3  # plus the lattice's parameter count: fewer lines than this, no indexing
    base_lines: int = 6  # the trial indices go to p of the first this many lines
    tolerance: float = 0.04  # degrees 2θ: a line is indexed within this (after the zero shift)
    max_unindexed: int = 2  # of the first n_lines (impurity lines, Kβ)
    min_m20: float = 15.0  # de Wolff's M20 an accepted cell must reach…
    # …and its fit's improbability by chance (:attr:`Indexing.significance`; random line lists reach 8, structures'
    # wrong cells more: 15 chosen on simulated validation)…
    min_significance: float = 15.0
    m20_ratio: float = 0.3  # …and this share of the best M20 any lattice reaches…
    monoclinic_ratio: float = 0.1  # …but this share of the monoclinic one's (chosen on simulated validation patterns)
    max_volume: float = 3000.0  # Å³
    max_edge: float = 40.0  # Å: longer cell edges are not searched (their index boxes would not fit in memory)
    min_prominence: float = 0.02  # of the maximum: weaker peaks are not lines…
    min_snr: float = 8.0  # …nor are peaks less prominent than this many times their neighbourhood's noise
    smooth: float = 0.04  # degrees: Gaussian FWHM of the smoothing before peaks are found
    keep: int = 60  # trial cells refined per lattice
    # degrees: zero shifts the trial cells are made at. (−0.1, 0, 0.1): more right cells (validation 90 → 103), as
    # many wrong, twice the time, no more right answers (results/identify/README.md, "Empty absences")
    trial_zeros: tuple = (0.0,)
    max_violations: int = 1  # observed lines a space group's absences may leave unexplained (absences.py)
    # only groups of the lattice type M20 was counted with: a primitive group does not explain a centred pattern's
    # missing half of its lines (simulated validation: SG equal, CS up; rruff_dev chose it)
    same_centring: bool = True
    # ln-odds each empty absence gives the groups forbidding it, and each violation (a line a group must call an
    # impurity) takes from them (absences.absence_log_odds; chosen on simulated validation)
    absence_weight: float = 0.7
    violation_weight: float = 1.0
    # a primitive cubic cell's groups weighed with its I (edge ×√2) and F (×2) descriptions' (absences.py; chosen on
    # simulated validation). Every choice: results/identify/README.md
    cubic_descriptions: bool = True


@dataclasses.dataclass(frozen=True)
class Indexing:
    """An accepted cell: ``lattice`` (one of :data:`LATTICES`), ``cell`` (a, b, c Å, α, β, γ degrees; the
    conventional hexagonal cell for 'hexagonal'; orthorhombic axes in the order the search found them; the
    monoclinic cell reduced, b unique, a ≤ c, β ≥ 90°),
    de Wolff's ``m20``, lines ``indexed`` of ``lines``, the refined ``zero`` shift (degrees 2θ), the observed
    lines ``two_theta`` (degrees, grid scale), the lattice ``centring`` M20 was counted with and the number of
    ``trials`` searched."""
    lattice: str
    cell: tuple
    m20: float
    indexed: int
    lines: int
    zero: float
    two_theta: np.ndarray
    centring: str = "P"
    trials: int = 1  # trial cells the search tried for this lattice (:attr:`significance`)

    @property
    def volume(self) -> float:
        return float(cell_volume(self.cell))

    @property
    def significance(self) -> float:
        """−log₁₀ of the number of the search's trial cells expected to index these lines as well by chance: each
        indexed line beyond the p parameters and the zero shift lies within the mean discrepancy of a calculated
        line by chance with probability 2ε̄·N₂₀/Q₂₀ = 1/M20 (de Wolff 1968), and ``trials`` cells were tried, so
        (indexed − p − 1)·log₁₀ M20 − log₁₀ trials. Six lines leave three such lines, which one of the thousands of
        two-parameter trials fits with M20 25–50 (a random list of lines is "indexed"); twenty lines do not."""
        chance = (self.indexed - N_PARAMETERS[self.lattice] - 1) * float(np.log10(max(self.m20, 1.0)))
        return chance - float(np.log10(max(self.trials, 1)))

    def as_dict(self) -> dict:
        return {"lattice": self.lattice, "centring": self.centring, "cell": [round(float(v), 5) for v in self.cell],
                "volume": round(self.volume, 2), "m20": round(float(self.m20), 1),
                "lines_indexed": f"{self.indexed}/{self.lines}", "zero": round(float(self.zero), 4),
                "significance": round(self.significance, 2), "trials": int(self.trials)}


def observed_lines(y, weight, grid: Grid, anode: str | None = "Cu",
                   settings: IndexSettings = IndexSettings()) -> np.ndarray:
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


def _trials(lattice: str, q: np.ndarray, s: IndexSettings) -> np.ndarray:
    """θ [T, p] of every assignment of low-index base vectors to p of the first ``base_lines`` lines."""
    if lattice == "monoclinic":
        base = monoclinic_base()
    else:
        base = coefficient_vectors(lattice, 2 if lattice != "cubic" else 4)
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
        theta = canonical(lattice, np.einsum("aij,cj->cai", inv, q[combos]).reshape(-1, p))
    theta = theta[valid(lattice, theta, s.max_edge)]
    theta = theta[volume_of(lattice, theta) <= s.max_volume]
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


def _quick_count_monoclinic(theta: np.ndarray, q: np.ndarray, dq: np.ndarray, max_index: int = 6,
                            chunk: int = 2048) -> np.ndarray:
    """:func:`_quick_count` of monoclinic trials θ [T, 4]: for each (h, k) with |h|, k ≤ ``max_index``, the l ≥ 0
    nearest either root of θ₃l² + hθ₄l + (h²θ₁ + k²θ₂ − Q) = 0."""
    h, k = (v.ravel().astype(np.float64) for v in np.meshgrid(np.arange(-max_index, max_index + 1),
                                                                np.arange(max_index + 1), indexing="ij"))
    h, k, q, dq = (np.asarray(v, np.float32) for v in (h, k, q, dq))  # single precision: twice as fast, and
    out = np.zeros(len(theta), np.int64)  # its 1e-7 relative error is far inside the tolerance
    for i in range(0, len(theta), chunk):
        t = theta[i:i + chunk, :, None, None].astype(np.float32)  # [t, 4, 1, 1]
        c0 = (h[:, None] ** 2 * t[:, 0] + k[:, None] ** 2 * t[:, 1]) - q[None, None, :]  # [t, Mh, lines]
        b = h[:, None] * t[:, 3]
        root = np.sqrt(np.maximum(b * b - 4 * t[:, 2] * c0, 0.0))
        err = np.full(c0.shape, np.inf)
        for sign in (1.0, -1.0):
            l = np.clip(np.round((-b + sign * root) / (2 * t[:, 2])), 0, 4 * max_index)
            err = np.minimum(err, np.abs(c0 + l * l * t[:, 2] + l * b))
        out[i:i + chunk] = (err <= dq[None, None, :]).any(1).sum(1)
    return out


def _refine(lattice: str, theta: np.ndarray, q_of, g: np.ndarray, tt: np.ndarray, s: IndexSettings,
            zero: float = 0.0):
    """Least squares over the lines θ indexes (assign, solve for θ and the zero shift, three times); returns
    (θ, zero, indexed bool[lines], M20, centring) or None: M20 counts the calculated lines of the lattice
    centring that indexes as many lines with the fewest (an F-centred cubic pattern is not out-scored by a
    small primitive cell that happens to index its few lines). A monoclinic cell comes back reduced. ``zero``
    (degrees): the zero shift the trial was made with, where the refinement starts."""
    for widen in (3.0, 2.0, 1.0):  # the zero shift is unknown at first: assign loosely, then tighter
        edge = max(cell_of(lattice, theta)[:3])  # |h| ≤ a/d_min
        vec = coefficient_vectors(lattice, int(np.ceil(np.sqrt(q_of(tt.max() + 1.0, zero)) * edge)) + 1)
        calc = vec @ theta
        qo = q_of(tt, zero)
        j = np.abs(calc[None, :] - qo[:, None]).argmin(1)
        err = np.abs(calc[j] - qo)
        indexed = err <= g * s.tolerance * widen
        if indexed.sum() < len(theta) + 2:
            return None
        a = np.concatenate([vec[j[indexed]], g[indexed, None]], 1)
        sol, *_ = np.linalg.lstsq(a / g[indexed, None], q_of(tt, 0.0)[indexed] / g[indexed], rcond=None)
        theta, zero = canonical(lattice, sol[None, :-1])[0], float(sol[-1])
        if not valid(lattice, theta[None], s.max_edge)[0] or abs(zero) > 0.2:
            return None
    if lattice == "monoclinic":
        theta = reduce_monoclinic(theta)
    qo = q_of(tt, zero)
    hkl, q = reflections(lattice, theta, qo.max() + float(g[-1]) * s.tolerance)
    best = None
    for centring in CENTRINGS[lattice]:
        allowed = centring_allows(centring, hkl)
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


def index_lines(two_theta: np.ndarray, lattice: str, lambda_ref: float, anode: str | None = "Cu",
                settings: IndexSettings = IndexSettings()) -> Indexing | None:
    """The best cell of ``lattice`` for lines at ``two_theta`` (degrees, grid scale, ascending), by M20 among
    those leaving at most ``max_unindexed`` lines unindexed; None when no trial qualifies."""
    s = settings
    tt = np.sort(np.asarray(two_theta, np.float64))[:s.n_lines]
    if len(tt) < s.min_lines + N_PARAMETERS[lattice]:
        return None

    def q_of(t, zero):  # Q (Å⁻²) of lines at 2θ = t − zero
        return line_q(t, zero, lambda_ref, anode)[0]

    g = line_q(tt, 0.0, lambda_ref, anode)[1]
    thetas, counts, zeros, n_trials = [], [], [], 0
    for z0 in s.trial_zeros:
        q = q_of(tt, z0)
        theta = _trials(lattice, q, s)
        n_trials += len(theta)
        if not len(theta):
            continue
        n_quick = min(10, len(q))
        if lattice == "monoclinic":
            count = _quick_count_monoclinic(theta, q[:n_quick], g[:n_quick] * s.tolerance * 3.0)
            # four parameters fit ten lines a thousand ways (most trials that index them are large spurious cells):
            # those that do are ranked by all the lines, at a tighter tolerance
            theta = theta[count >= count.max() - 1]
            count = _quick_count_monoclinic(theta, q, g * s.tolerance * 2.0)
        else:
            quick = coefficient_vectors(lattice, {"cubic": 8, "orthorhombic": 6}.get(lattice, 8))
            count = _quick_count(theta, quick, q[:n_quick], g[:n_quick] * s.tolerance * 3.0)
        thetas.append(theta)
        counts.append(count)
        zeros.append(np.full(len(theta), z0))
    if not n_trials:
        return None
    theta, count, zero0 = np.concatenate(thetas), np.concatenate(counts), np.concatenate(zeros)
    order = np.lexsort((volume_of(lattice, theta), -count))[:s.keep]
    best = None
    for t, z0 in zip(theta[order], zero0[order]):
        r = _refine(lattice, t, q_of, g, tt, s, z0)
        if r is None:
            continue
        th, zero, indexed, m20, centring = r
        # impurity lines are allowed in proportion (one per eight lines, at most max_unindexed), and the indexed
        # lines must over-determine the cell: 2p + 2 of them (p parameters plus the zero shift, twice over)
        if (len(tt) - indexed.sum() > min(s.max_unindexed, len(tt) // 8) or indexed.sum() < 2 * len(th) + 2
                or volume_of(lattice, th[None])[0] > s.max_volume):
            continue
        if best is None or m20 > best.m20:
            best = Indexing(lattice, tuple(float(v) for v in cell_of(lattice, th)), float(m20), int(indexed.sum()),
                            len(tt), zero, tt, centring, n_trials)
    return best


#: lattices by parameter count: a lattice of an earlier rank is a special case of the later ones (cubic of all;
#: tetragonal and hexagonal of orthorhombic — hexagonal on its orthohexagonal C cell — and orthorhombic of
#: monoclinic), while the two of rank 2 are not of each other
RANKS = (("cubic",), ("hexagonal", "tetragonal"), ("orthorhombic",), ("monoclinic",))


def choose_lattice(found: dict, settings: IndexSettings = IndexSettings()) -> Indexing | None:
    """The answer among each lattice's best cell (``found``: lattice → :class:`Indexing` or None): the fewest
    parameters (:data:`RANKS`) whose best cell's M20 reaches ``min_m20``, its :attr:`~Indexing.significance`
    ``min_significance``, and its M20 ``m20_ratio`` of the best M20 of any other such lattice
    (``monoclinic_ratio`` of the monoclinic one's), and within a rank the better M20. A lower-symmetry
    description of a cell never indexes better than the cell itself, while a spurious large high-symmetry cell
    (which can index a few lines of a tetragonal pattern) indexes far worse than the true one; tetragonal and
    hexagonal cells compete on M20 alone. Four parameters also fit a few lines of a higher-symmetry pattern by a
    small spurious cell whose M20 is higher than the true cell's (caesium chloride's 11 lines: a 29 Å³ monoclinic
    cell, M20 1,700, against its cubic 70 Å³, M20 370): the monoclinic cell must win by more."""
    ok = {k: v for k, v in found.items()
          if v is not None and v.m20 >= settings.min_m20 and v.significance >= settings.min_significance}
    if not ok:
        return None

    def holds(v: Indexing) -> bool:  # v's M20 against every other lattice's (a monoclinic one's at its own ratio)
        return all(v.m20 >= (settings.monoclinic_ratio if o.lattice == "monoclinic" else settings.m20_ratio) * o.m20
                   for o in ok.values() if o is not v)

    for rank in RANKS:
        good = [ok[k] for k in rank if k in ok and holds(ok[k])]
        if good:
            return max(good, key=lambda v: v.m20)
    return None


def index_all(y, weight, grid: Grid, anode: str = "Cu", settings: IndexSettings = IndexSettings()) -> dict:
    """lattice → the best :class:`Indexing` of each of :data:`LATTICES` (or None) for the profile y
    (float[n_bins] on ``grid``, background removed, measured where ``weight`` > 0)."""
    tt = observed_lines(y, weight, grid, anode, settings)
    return {lattice: index_lines(tt, lattice, grid.lambda_ref, anode, settings) for lattice in LATTICES}


def index_pattern(y, weight, grid: Grid, anode: str = "Cu",
                  settings: IndexSettings = IndexSettings()) -> Indexing | None:
    """The accepted cell of the profile y (:func:`index_all`, :func:`choose_lattice`), or None."""
    return choose_lattice(index_all(y, weight, grid, anode, settings), settings)

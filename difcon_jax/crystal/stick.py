"""Powder stick patterns: the paper's Eq. 1–3, vectorised in NumPy (host side).

For every reflection hkl with d ≥ λ / (2 sin θ_max):

* Bragg's law (Eq. 1): 2θ = 2 arcsin(λ / 2d), with 1/d² = hᵀ G* h.
* Structure factor (Eq. 2): F(hkl) = Σ_j occ_j f_j(s) exp(−B_j s²) exp(2πi h·x_j), s = sin θ / λ = 1/(2d),
  f_j from the IT92 four-Gaussian tables (gemmi's copy).
* Intensity (Eq. 3): I = |F|² · m · LP(θ), LP = (1 + cos² 2θ) / (sin² θ cos θ) (no monochromator).

Multiplicities come from the Laue group of the structure's own operations: every hkl in the limiting
sphere is mapped to a canonical member of its orbit under {±R}; the orbit size *is* the powder
multiplicity (the sphere is invariant under the point group). Systematic absences are removed with the
operations' translations: hkl is absent when some (R, t) has hR = h and h·t ∉ ℤ. Reflections whose 2θ
coincide within ``merge_tol`` are merged (intensities and multiplicities summed). Intensities are scaled
so the strongest peak is 100.
"""

from __future__ import annotations

import dataclasses
import functools

import gemmi
import numpy as np

from difcon_jax.crystal.operations import tabulated_group
from difcon_jax.crystal.orientation import PO_SLOTS, orientation_spread, top_slots
from difcon_jax.crystal.radiation import resolve_radiation
from difcon_jax.crystal.structure import Structure
from difcon_jax.crystal.symmetry import labels_for_number

#: Peaks weaker than this fraction of the strongest are dropped (pymatgen keeps > 1e-5 too).
MIN_RELATIVE_INTENSITY = 1e-5


@dataclasses.dataclass(frozen=True)
class StickPattern:
    """Peaks sorted by 2θ. two_theta: degrees; d: Å; intensity: strongest = 100;
    hkl: int32[P, 3] one representative family per peak (the strongest merged one);
    families: per peak, every merged family's representative hkl; multiplicity: int32[P] summed."""

    two_theta: np.ndarray
    d: np.ndarray
    intensity: np.ndarray
    hkl: np.ndarray
    multiplicity: np.ndarray
    family_hkl: np.ndarray  # int32[R, 3]: every merged reflection family, peak by peak
    family_offsets: np.ndarray  # int64[P + 1]: peak i's families are family_hkl[off[i]:off[i+1]]
    wavelength: float | tuple
    po_cos2: np.ndarray | None = None  # float32[P, K] cos²α to c* of the peak's members (March–Dollase)
    po_weight: np.ndarray | None = None  # float32[P, K] their shares (sum 1)

    def __len__(self) -> int:
        return len(self.two_theta)

    @property
    def families(self) -> list[np.ndarray]:
        return np.split(self.family_hkl, self.family_offsets[1:-1])


@functools.lru_cache(maxsize=None)
def _it92(element: str) -> np.ndarray:
    """IT92 coefficients (a1..a4, b1..b4, c) of a neutral element, from gemmi."""

    el = gemmi.Element(element)
    if not el.it92:
        raise ValueError(f"no IT92 form factor for element {element!r}")
    return np.array(el.it92.get_coefs(), dtype=np.float64)


def form_factor(element: str, s2: np.ndarray) -> np.ndarray:
    """Atomic scattering factor f(s) (electrons) for s² = (sin θ / λ)² in Å⁻², shape of ``s2``."""
    c = _it92(element)
    return (c[:4, None] * np.exp(-c[4:8, None] * s2.reshape(1, -1))).sum(0).reshape(s2.shape) + c[8]


def lorentz_polarisation(two_theta_deg, xp=np):
    """LP(θ) = (1 + cos² 2θ) / (sin² θ cos θ) for unpolarised radiation, no monochromator.

    ``xp``: the array namespace (NumPy here; the augmentation kernels pass jax.numpy)."""
    tt = xp.radians(two_theta_deg)
    th = tt / 2
    return (1 + xp.cos(tt) ** 2) / (xp.sin(th) ** 2 * xp.cos(th))


def symmetrised_metric(metric: np.ndarray, laue: np.ndarray) -> np.ndarray:
    """The reciprocal metric averaged over the Laue group, R G* Rᵀ (h -> hR leaves d unchanged).

    A no-op for a cell that obeys its symmetry; for a cell given to fewer digits than its operations
    imply (a 'tetragonal' cell with α = 90.004°) it makes symmetry-equivalent reflections share one d,
    as a refinement with symmetry constraints would."""
    return np.einsum("kij,jl,kml->im", laue, metric, laue) / len(laue)


def metric_inconsistency(structure: Structure) -> float:
    """Largest relative change of the reciprocal metric under symmetrisation (0 for consistent cells)."""
    recip = np.linalg.inv(structure.lattice_matrix()).T
    g = recip @ recip.T
    rots = unique_rotations(structure.rotations).astype(np.float64)
    return float(np.abs(symmetrised_metric(g, rots) - g).max() / np.abs(g).max())


def unique_rotations(rotations: np.ndarray) -> np.ndarray:
    """The distinct rotation matrices int[K, 3, 3] of an operation list (cached: a build meets few sets)."""
    r = np.ascontiguousarray(rotations, np.int32)
    return _unique_rotations(r.tobytes()).copy()


@functools.lru_cache(maxsize=512)
def _unique_rotations(rot_bytes: bytes) -> np.ndarray:
    return np.unique(np.frombuffer(rot_bytes, np.int32).reshape(-1, 3, 3), axis=0)


#: The cost bound of one stick pattern: lattice points in the limiting sphere (|g| ≤ 1/d_min), and index-box
#: points for operation sets enumerated without gemmi's asymmetric unit. 3·10⁶ sphere points is a
#: 140,000 Å³ cell to 120° with Cu Kα (the largest shared structure, 28,088 Å³, has 1.7·10⁵); memory stays
#: below ~2 GB. Bounding the work, not the volume, also refuses tiny wavelengths on ordinary cells.
MAX_SPHERE_POINTS = 3_000_000
MAX_BOX_POINTS = 12_000_000


def _check_reflection_count(lat: np.ndarray, d_min: float) -> None:
    """ValueError when the limiting sphere to ``d_min`` holds more lattice points than the bound above."""
    volume = abs(float(np.linalg.det(lat)))
    sphere = 4.0 / 3.0 * np.pi * volume / d_min**3
    if not sphere <= MAX_SPHERE_POINTS:
        raise ValueError(f"~{sphere:.3g} reflections to d = {d_min:.3g} Å (cell {volume:.0f} Å³) exceed the bound "
                         f"{MAX_SPHERE_POINTS:.0e}; lower 2θ max or use a longer wavelength")


def _reflections(structure: Structure, d_min: float):
    """Unique non-absent reflections with d ≥ d_min: (hkl int[M,3], d float[M], multiplicity int[M],
    cos²α spread float32[M, K] ×2).

    Tabulated settings enumerate gemmi's reciprocal asymmetric unit (C++); other operation sets enumerate
    the whole limiting sphere and reduce it by the Laue group. Either way every reflection's orbit under
    {±R} gives its multiplicity, its label (the lexicographically largest member) and the spread of its
    plane normals for March–Dollase.
    """
    lat = structure.lattice_matrix()
    _check_reflection_count(lat, d_min)
    recip = np.linalg.inv(lat).T  # rows a*, b*, c* (no 2π), so |g| = 1/d
    rots = unique_rotations(structure.rotations)
    laue = np.concatenate([rots, -rots]).astype(np.float64)  # [K, 3, 3]; reflections move as h -> h R
    metric = symmetrised_metric(recip @ recip.T, laue)
    sg = tabulated_group(structure.rotations, structure.translations)  # gemmi's, when tabulated
    if sg is not None:
        canon, mult, po_c2, po_w, n = _orbits_of_asu(structure, sg, lat, recip, rots, laue, metric, d_min)
    else:
        canon, mult, po_c2, po_w, n = _orbits_of_sphere(lat, recip, laue, metric, d_min)
    w = 2 * n + 1
    # Decode the canonical code back to hkl (the lexicographically largest orbit member).
    rep = np.stack([canon // (w * w) - n, (canon // w) % w - n, canon % w - n], -1).astype(np.int32)
    absent = _systematically_absent(structure, rep, w)
    rep, mult, po_c2, po_w = rep[~absent], mult[~absent], po_c2[~absent], po_w[~absent]
    rf = rep.astype(np.float64)
    d = 1.0 / np.sqrt(((rf @ metric) * rf).sum(1))
    return rep, d, mult.astype(np.int32), po_c2, po_w


def _orbits_of_asu(structure, sg, lat, recip, rots, laue, metric, d_min):
    """(canonical codes int64[M], multiplicities, cos²α spread ×2, code offset n) of gemmi's reciprocal
    asymmetric unit of a tabulated setting."""
    cell = gemmi.UnitCell(*structure.cell)
    hkl = np.asarray(gemmi.make_miller_array(cell, sg, d_min * (1 - 1e-9), 0.0, True), np.int64).reshape(-1, 3)
    hkl_f = hkl.astype(np.float64)
    hkl = hkl[((hkl_f @ metric) * hkl_f).sum(1) <= (1 / d_min) ** 2 * (1 + 1e-12)]
    # An image's code is linear in it, so the codes of all K images come from one [M, 3] @ [3, K] product
    # (no [M, K, 3] images): code(h R) = h (R c) + n (w² + w + 1) with c = (w², w, 1). Every image lies
    # in the limiting sphere, so |index i| ≤ |a_i| / d_min bounds the base w and codes stay exact.
    n = int(np.floor(np.linalg.norm(lat, axis=1).max() / d_min + 1e-9))
    w = 2 * n + 1
    c = np.array([w * w, w, 1], np.float64)
    hkl_f = hkl.astype(np.float64)
    codes = hkl_f @ (laue @ c).T + n * (w * w + w + 1)  # [M, K]
    own = hkl_f @ c + n * (w * w + w + 1)
    mult = (len(laue) // (codes == own[:, None]).sum(1)).astype(np.int64)  # orbit size = |Laue| / |stabiliser|
    canon = codes.max(1).astype(np.int64)
    # cos²α is the same for h and −h, so the proper rotations' images (the first half of the Laue list)
    # carry the shares; every distinct member appears |stabiliser| times among them: shares unaffected
    kr = len(rots)
    g = (hkl_f @ (rots.astype(np.float64) @ recip).transpose(1, 0, 2).reshape(3, 3 * kr)).reshape(-1, 3)
    po_c2, po_w = orientation_spread(g, recip[2], None, mult)
    return canon, mult, po_c2, po_w, n


def _orbits_of_sphere(lat, recip, laue, metric, d_min):
    """As :func:`_orbits_of_asu` for an untabulated setting: the whole limiting sphere reduced by the Laue
    group."""
    g_max = 1.0 / d_min
    nmax = np.floor(np.linalg.norm(lat, axis=1) * g_max + 1e-9).astype(int)
    if np.prod(2 * nmax + 1) > MAX_BOX_POINTS:  # an oblique cell: the index box dwarfs the sphere
        raise ValueError(f"index box {tuple(2 * nmax + 1)} to d = {d_min:.3g} Å exceeds {MAX_BOX_POINTS:.0e} "
                         "points; reduce the cell (Niggli) or lower 2θ max")
    ranges = [np.arange(-m, m + 1) for m in nmax]
    hkl = np.stack(np.meshgrid(*ranges, indexing="ij"), -1).reshape(-1, 3)
    hkl_f = hkl.astype(np.float64)
    inv_d2 = ((hkl_f @ metric) * hkl_f).sum(1)
    hkl = hkl[(inv_d2 <= g_max**2 * (1 + 1e-12)) & (inv_d2 > 0)]
    n = int(nmax.max())
    w, k = 2 * n + 1, len(laue)
    images = (hkl.astype(np.float64) @ laue.transpose(1, 0, 2).reshape(3, 3 * k)).reshape(-1, k, 3)
    canon = (((images[..., 0] + n) * w + (images[..., 1] + n)) * w + (images[..., 2] + n)).max(axis=1)
    canon, inverse, mult = np.unique(canon.astype(np.int64), return_inverse=True, return_counts=True)
    po_c2, po_w = orientation_spread(hkl.astype(np.float64) @ recip, recip[2], inverse, mult)
    return canon, mult, po_c2, po_w, n


def _systematically_absent(structure: Structure, rep: np.ndarray, w: int) -> np.ndarray:
    """bool[M]: the structure's own operations' absences of reflections ``rep`` (indices below ``w`` in
    magnitude; :func:`systematically_absent`)."""
    return systematically_absent(rep, structure.rotations, structure.translations, w)


def systematically_absent(hkl: np.ndarray, rotations: np.ndarray, translations: np.ndarray, w: int | None = None) -> np.ndarray:
    """bool[M]: reflections hkl int[M, 3] extinguished by the translation of an operation that fixes them
    (h R = h with h·t not an integer), for operations (R float[K, 3, 3], t float[K, 3]) acting on fractional
    coordinates; with ``w`` (every component of h and h R within ±w/2) one matrix product finds the fixed ones."""
    ops_r = np.asarray(rotations, np.float64)
    rep_f = np.asarray(hkl, np.float64)
    if w is None:
        fixed = np.all(np.einsum("mi,kij->mkj", rep_f, ops_r) == rep_f[:, None, :], axis=-1)  # [M, K]
    else:
        c = np.array([w * w, w, 1], np.float64)  # h R = h exactly when their codes agree (one [M, 3] @ [3, K])
        fixed = (rep_f @ (ops_r @ c).T) == (rep_f @ c)[:, None]  # [M, K]
    phase = rep_f @ np.asarray(translations, np.float64).T  # [M, K]
    nonint = np.abs(phase - np.round(phase)) > 1e-6
    return np.any(fixed & nonint, axis=1)


def structure_factor_sq(structure: Structure, hkl: np.ndarray, d: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """|F(hkl)|² (electrons²) for int[M,3] hkl with spacings d (Å); Eq. 2 with occupancy and Debye–Waller.

    Atoms that share element, occupancy and B (every symmetry image of a site does) share the factor
    f(s)·occ·exp(−B s²), so F = Σ_groups factor_g(s) · Σ_{j ∈ g} exp(2πi h·x_j): the per-atom work is the
    phase alone, summed into groups by one matrix product, and the form factors and Debye–Waller terms
    are evaluated per group instead of per atom.
    """
    s2 = 0.25 / d**2
    elements, el_idx = np.unique(np.asarray(structure.elements), return_inverse=True)
    site_keys = np.column_stack([el_idx, structure.occupancy, structure.b_iso])
    order = np.lexsort(site_keys.T[::-1])  # sites sorted by (element, occ, B): equal keys adjacent
    first = np.ones(len(order), bool)
    first[1:] = np.any(site_keys[order][1:] != site_keys[order][:-1], axis=1)
    groups = site_keys[order][first]  # (element, occ, B) per group
    group_of = np.empty(len(order), np.int64)
    group_of[order] = np.cumsum(first) - 1
    member = np.zeros((structure.num_sites, len(groups)))
    member[np.arange(structure.num_sites), group_of] = 1
    form = [form_factor(str(e), s2) for e in elements]
    factor = np.stack([form[int(e)] * o * np.exp(-s2 * b) for e, o, b in groups], axis=1)  # [M, G]
    # exp(2πi h·x) = Π_k exp(2πi h_k x_k): three small phase tables and complex products replace a
    # sine and a cosine per (reflection, atom). Chunks of ~65 k (reflection, atom) pairs (1 MB of phases)
    # stay in cache: 1.5× faster than 4 M-pair chunks on the shared structures.
    n = int(np.abs(hkl).max()) if len(hkl) else 0
    orders = np.arange(-n, n + 1)
    half = [np.exp(2j * np.pi * orders[n:, None] * structure.frac[None, :, k]) for k in range(3)]  # orders 0…n
    tables = [np.concatenate([t[:0:-1].conj(), t]) for t in half]  # [2n+1, N]: exp(−iφ) = conj(exp(iφ))
    out = np.empty(len(hkl))
    step = max(1, chunk // max(1, structure.num_sites))
    for i in range(0, len(hkl), step):
        sl = slice(i, i + step)
        h = hkl[sl] + n
        phase = tables[0][h[:, 0]]
        phase *= tables[1][h[:, 1]]
        phase *= tables[2][h[:, 2]]
        phase_sums = phase.real @ member + 1j * (phase.imag @ member)  # [m, G], two real BLAS products
        f = (factor[sl] * phase_sums).sum(1)
        out[sl] = f.real**2 + f.imag**2
    return out


def _merge(two_theta, intensity, mult, hkl, po_c2, po_w, tol):
    """Merge reflections whose 2θ differ by < tol into one peak (sums; strongest family's hkl first)."""
    order = np.argsort(two_theta, kind="stable")
    two_theta, intensity, mult, hkl = two_theta[order], intensity[order], mult[order], hkl[order]
    po_c2, po_w = po_c2[order], po_w[order]
    new = np.concatenate([[True], np.diff(two_theta) > tol])
    group = np.cumsum(new) - 1
    n = group[-1] + 1
    inten = np.bincount(group, intensity, minlength=n)
    m = np.bincount(group, mult, minlength=n).astype(np.int32)
    # Intensity-weighted position of merged reflections (they differ by < tol anyway).
    tt = np.bincount(group, two_theta * intensity, minlength=n) / np.maximum(inten, 1e-300)
    starts = np.flatnonzero(new)
    tt = np.where(inten > 0, tt, two_theta[starts])
    # first row of each group by falling intensity; intensities equal to 1e-9 of the strongest tie and go to
    # the larger hkl, so rounding noise in |F|² cannot pick between symmetry-unrelated families of one d
    level = np.round(intensity / max(float(intensity.max(initial=0.0)), 1e-300) * 1e9)
    strongest = np.lexsort((-hkl[:, 2], -hkl[:, 1], -hkl[:, 0], -level, group))[starts]
    best = hkl[strongest].astype(np.int32).reshape(-1, 3)
    # a merged peak's cos²α distribution: its reflections' distributions weighted by intensity share
    # (only peaks that did merge are recomputed; a lone reflection keeps its slots)
    out_c2, out_w = po_c2[starts].copy(), po_w[starts].copy()
    merged = np.flatnonzero(np.bincount(group, minlength=n) > 1)
    if len(merged):
        rows = np.isin(group, merged)
        share = intensity[rows] / np.maximum(inten[group[rows]], 1e-300)
        k = po_c2.shape[1]
        c2, w = top_slots(np.repeat(group[rows], k), po_c2[rows].ravel(), (po_w[rows] * share[:, None]).ravel(), n)
        out_c2[merged], out_w[merged] = c2[merged], w[merged]
    return tt, inten, m, best, (hkl, group), out_c2, out_w


def stick_pattern(structure: Structure, wavelength: str | float = "CuKa", two_theta_max: float = 120.0,
                  two_theta_min: float = 0.0, b_iso: float | None = None, merge_tol: float = 1e-5,
                  min_relative_intensity: float = MIN_RELATIVE_INTENSITY) -> StickPattern:
    """The powder stick pattern of ``structure`` (see module docstring).

    Args:
      wavelength: Å, or a source name (``"CuKa"``, ``"MoKa"``, ``"CuKa12"`` for the Kα1/Kα2 doublet).
      two_theta_max / two_theta_min: range in degrees 2θ.
      b_iso: if given, overrides every atom's B (Å²; 0 = static lattice).
      merge_tol: reflections closer than this (degrees 2θ) are one peak.
    """
    if b_iso is not None:
        structure = structure.with_b_iso(b_iso)
    lines = resolve_radiation(wavelength)
    parts = []
    for lam, weight in lines:
        d_min = lam / (2 * np.sin(np.radians(min(two_theta_max, 179.999) / 2)))
        hkl, d, mult, po_c2, po_w = _reflections(structure, d_min)
        tt = 2 * np.degrees(np.arcsin(np.clip(lam / (2 * d), -1, 1)))
        sel = (tt >= two_theta_min) & (tt <= two_theta_max)
        hkl, d, mult, tt, po_c2, po_w = hkl[sel], d[sel], mult[sel], tt[sel], po_c2[sel], po_w[sel]
        inten = weight * structure_factor_sq(structure, hkl, d) * mult * lorentz_polarisation(tt)
        parts.append((tt, inten, mult, hkl, po_c2, po_w))
    tt, inten, mult, hkl, po_c2, po_w = (np.concatenate([p[i] for p in parts]) for i in range(6))
    if len(tt) == 0:
        empty = np.zeros(0)
        return StickPattern(empty, empty, empty, np.zeros((0, 3), np.int32), np.zeros(0, np.int32),
                            np.zeros((0, 3), np.int32), np.zeros(1, np.int64), wavelength,
                            np.zeros((0, PO_SLOTS), np.float32), np.zeros((0, PO_SLOTS), np.float32))
    if len(lines) == 1:
        tt, inten, mult, best, fams, po_c2, po_w = _merge(tt, inten, mult, hkl, po_c2, po_w, merge_tol)
    else:  # a doublet's Kα1 and Kα2 copies of one reflection stay separate peaks
        order = np.argsort(tt, kind="stable")
        tt, inten, mult, best, po_c2, po_w = tt[order], inten[order], mult[order], hkl[order], po_c2[order], po_w[order]
        fams = (best, np.arange(len(best)))
    keep = inten > min_relative_intensity * inten.max()
    tt, inten, mult, best, po_c2, po_w = tt[keep], inten[keep], mult[keep], best[keep], po_c2[keep], po_w[keep]
    fam_hkl, fam_group = fams
    counts = np.bincount(fam_group, minlength=len(keep))[keep]
    fam_hkl = fam_hkl[keep[fam_group]].astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    d = lines[0][0] / (2 * np.sin(np.radians(tt) / 2)) if len(lines) == 1 else _d_of(best, structure)
    return StickPattern(two_theta=tt, d=d, intensity=100.0 * inten / inten.max(), hkl=best, multiplicity=mult,
                        family_hkl=fam_hkl, family_offsets=offsets, wavelength=wavelength, po_cos2=po_c2,
                        po_weight=po_w)


def _d_of(hkl, structure):
    recip = np.linalg.inv(structure.lattice_matrix()).T
    rots = unique_rotations(structure.rotations).astype(np.float64)
    h = hkl.astype(np.float64)
    return 1.0 / np.sqrt(np.einsum("ni,ij,nj->n", h, symmetrised_metric(recip @ recip.T, rots), h))


def pattern_summary(structure: Structure, pattern: StickPattern) -> dict:
    """The ``simulate --json`` object: labels plus the peak list (hkl = every merged family)."""

    lab = labels_for_number(structure.space_group)
    return {
        "file": structure.source,
        "formula": structure.formula,
        "space_group": lab.space_group,
        "space_group_symbol": lab.space_group_symbol,
        "crystal_system": lab.crystal_system_name,
        "extinction_group": {"id": lab.extinction_group, "symbol": lab.extinction_group_symbol},
        "wavelength": pattern.wavelength,
        "peaks": [
            {"two_theta": round(float(t), 6), "d": round(float(d), 6), "intensity": round(float(i), 4),
             "hkl": [[int(x) for x in h] for h in fam], "multiplicity": int(m)}
            for t, d, i, fam, m in zip(pattern.two_theta, pattern.d, pattern.intensity, pattern.families,
                                       pattern.multiplicity)
        ],
    }

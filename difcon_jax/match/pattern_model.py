"""The whole-pattern model of one phase on the measured grid (device side, pure JAX; vmap over candidates).

A phase is its reflections (hkl, |F|²·m, March–Dollase data along c*) and its reference cell; the
parameter vector ``x`` (layout :data:`PARAMS`) moves the pattern the way a Rietveld refinement does:

* cell: metric G = D (N₀ + Σ_k s_k B_k) D (D = diag(a, b, c) of the reference, N₀ its normalised metric,
  B_k the symmetric strains the structure's rotations allow: the crystal system's constraints in the
  file's own setting), 1/d² = hᵀ G⁻¹ h;
* Bragg's law per line of the source (Kα1 and Kα2, ratio free): 2θ = 2 asin(λ_line / 2d), on the grid's
  λ_ref scale (:func:`doublet_on_grid`), + zero shift + displacement·cos θ (degrees);
* intensity: scale · |F|²m · LP(2θ) (the stick pattern's Eq. 3) · March–Dollase(r) (training kernel);
* profile: split pseudo-Voigt with Caglioti FWHM (U, V, W), mixing η and asymmetry ρ (the training
  renderer's functions), evaluated at bin centres in a window of ``window`` bins around each line;
* plus a constant background (patterns arrive with the background removed).

In the Pawley mode the intensities are free parameters (one per reflection, ≥ 0) and no structure is
used: a test of cell and extinction group alone.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.augment.kernels import Peaks, march_dollase
from difcon_jax.augment.profiles import caglioti_fwhm, split_pseudo_voigt
from difcon_jax.crystal.radiation import WAVELENGTHS
from difcon_jax.crystal.stick import lorentz_polarisation

#: Parameter layout of ``x`` (then 6 strains, then — Pawley only — one intensity per reflection).
PARAMS = ("log_scale", "zero", "displacement", "U", "V", "W", "eta", "asymmetry", "log_po_r", "ka2_ratio",
          "background")
N_BASE = len(PARAMS)
N_STRAIN = 6
IDX = {name: i for i, name in enumerate(PARAMS)}


class Phase(NamedTuple):
    """One candidate's reflections and reference cell (float32 device arrays).

    hkl [P, 3]; f2m [P] (|F|²·m, strongest 1; 0 = padding); po_cos2, po_weight [P, K] (March–Dollase data
    along c*); po_axes [2, P]: cos² of each line with a* and b* (:func:`reciprocal_axis_cos2`; −1 where the phase
    offers no other texture direction); n0 [3, 3] normalised reference metric (Gᵢⱼ / (aᵢ aⱼ)); lengths [3] (Å);
    basis [6, 3, 3] allowed strains."""
    hkl: jax.Array
    f2m: jax.Array
    po_cos2: jax.Array
    po_weight: jax.Array
    po_axes: jax.Array
    n0: jax.Array
    lengths: jax.Array
    basis: jax.Array


#: March–Dollase directions a fit may choose (:func:`with_texture_axis`): c* as the database stores it, a*, b*
TEXTURE_AXES = ("c*", "a*", "b*")


def reciprocal_axis_cos2(hkl: np.ndarray, cell) -> np.ndarray:
    """float64[3, P]: cos² of the angle between each reflection's normal (hkl [P, 3]) and a*, b*, c* of ``cell``
    (Å, degrees), on the host; 0 for padding (hkl = 0). In a triclinic, monoclinic or orthorhombic lattice every
    member of a reflection's Laue family makes the same angle with each of the three (their members differ by
    signs only, and b* — a monoclinic cell's unique axis — is normal to a* and c*), so one value describes the
    family for a texture along any of them."""
    h = np.asarray(hkl, np.float64)
    gstar = np.linalg.inv(cell_to_metric(cell))
    dots = h @ gstar  # [P, 3]: g·a*, g·b*, g·c*
    q = np.einsum("pi,pi->p", dots, h)  # Q = hᵀG*h, as reflection_q, from the products already made
    return np.where(q > 0, dots.T ** 2 / np.maximum(q, 1e-30) / np.diag(gstar)[:, None], 0.0)


def with_texture_axis(phase: Phase, axis):
    """``phase`` with its March–Dollase data along TEXTURE_AXES[axis] (0: c*, as stored; 1: a*; 2: b*: one
    value per line, :attr:`Phase.po_axes`). jnp; ``axis`` may be traced."""
    k = phase.po_cos2.shape[-1]
    alt = jnp.maximum(phase.po_axes[jnp.maximum(axis - 1, 0)], 0.0)
    one = jnp.zeros((k,), phase.po_cos2.dtype).at[0].set(1.0)
    c2 = jnp.where(axis > 0, jnp.zeros_like(phase.po_cos2).at[..., 0].set(alt), phase.po_cos2)
    w = jnp.where(axis > 0, jnp.broadcast_to(one, phase.po_weight.shape), phase.po_weight)
    return phase._replace(po_cos2=c2, po_weight=w)


def cell_to_metric(cell) -> np.ndarray:
    """float64[3, 3] metric G of (a, b, c, α, β, γ) (Å, degrees)."""
    a, b, c, al, be, ga = (float(v) for v in cell)
    ca, cb, cg = (math.cos(math.radians(v)) for v in (al, be, ga))
    return np.array([[a * a, a * b * cg, a * c * cb], [a * b * cg, b * b, b * c * ca], [a * c * cb, b * c * ca, c * c]])


def reflection_q(hkl: np.ndarray, cell) -> np.ndarray:
    """float64[P]: Q = 1/d² (Å⁻²) of reflections ``hkl`` [P, 3] in ``cell`` (Å, degrees), on the host."""
    h = np.asarray(hkl, np.float64)
    return np.einsum("pi,ij,pj->p", h, np.linalg.inv(cell_to_metric(cell)), h)


def voigt_to_matrices(basis6: np.ndarray) -> np.ndarray:
    """float32[6, 3, 3] symmetric matrices of Voigt rows (xx, yy, zz, yz, xz, xy)."""
    b = np.asarray(basis6, np.float32)
    m = np.zeros((6, 3, 3), np.float32)
    for k, (i, j) in enumerate(((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))):
        m[:, i, j] = b[:, k]
        m[:, j, i] = b[:, k]
    return m


def metric(phase: Phase, strain):
    """G [3, 3] (Å²) for strains ``strain`` [6]."""
    n = phase.n0 + jnp.einsum("k,kij->ij", strain, phase.basis)
    return n * phase.lengths[:, None] * phase.lengths[None, :]


def cell_parameters(g):
    """(a, b, c, α, β, γ) [6] (Å, degrees) of a metric G [3, 3]."""
    abc = jnp.sqrt(jnp.diag(g))
    cosines = jnp.stack([g[1, 2] / (abc[1] * abc[2]), g[0, 2] / (abc[0] * abc[2]), g[0, 1] / (abc[0] * abc[1])])
    return jnp.concatenate([abc, jnp.degrees(jnp.arccos(jnp.clip(cosines, -1, 1)))])


def inverse_d2(phase: Phase, strain):
    """1/d² [P] (Å⁻²) of every reflection for strains [6]."""
    gstar = jnp.linalg.inv(metric(phase, strain))
    return jnp.einsum("pi,ij,pj->p", phase.hkl, gstar, phase.hkl)


def line_positions(phase: Phase, x, wavelength: float):
    """2θ [P] (degrees, grid scale) of every reflection at ``wavelength`` (Å) with the zero shift and
    displacement of ``x``."""
    inv_d = jnp.sqrt(jnp.maximum(inverse_d2(phase, x[N_BASE:N_BASE + N_STRAIN]), 1e-12))
    sin_th = jnp.clip(wavelength * inv_d * 0.5, 0.0, 0.9999)
    return 2 * jnp.degrees(jnp.arcsin(sin_th)) + x[IDX["zero"]] + x[IDX["displacement"]] * jnp.sqrt(1 - sin_th ** 2)


def make_phase_pattern(tt_first: float, step: float, n_bins: int, window: int, wavelengths=(WAVELENGTHS["CuKa"], WAVELENGTHS["CuKa"]),
                       pawley: bool = False):
    """``pattern(phase, x, extra_fwhm) -> float[n_bins]``: the phase's profile on the grid (bin j centred
    at ``tt_first + j·step`` degrees), Kα1 and Kα2 at ``wavelengths`` (Å, on the grid's scale:
    :func:`doublet_on_grid`).

    ``extra_fwhm`` (degrees) broadens every line in quadrature: the coarse stage of a fit compares a
    smoothed measurement with a model smoothed alike. Static settings are closed over (one compilation)."""
    offsets = jnp.arange(window) - window // 2
    lam = jnp.asarray(wavelengths, jnp.float32)

    def pattern(phase: Phase, x, extra_fwhm=0.0):
        strain = x[N_BASE:N_BASE + N_STRAIN]
        inv_d = jnp.sqrt(jnp.maximum(inverse_d2(phase, strain), 1e-12))
        sin_th = jnp.clip(lam[:, None] * inv_d[None, :] * 0.5, 0.0, 0.9999)  # [2, P]
        tt = 2 * jnp.degrees(jnp.arcsin(sin_th))
        cos_th = jnp.sqrt(1 - sin_th * sin_th)
        pos = tt + x[IDX["zero"]] + x[IDX["displacement"]] * cos_th
        if pawley:
            amp = jnp.maximum(x[N_BASE + N_STRAIN:], 0.0)[None, :] * jnp.ones_like(tt)
        else:
            peaks = Peaks(tt[0], phase.f2m, phase.po_cos2, phase.po_weight)
            textured = march_dollase(None, peaks, {"po_r": jnp.exp(x[IDX["log_po_r"]])}).intensity
            amp = jnp.exp(x[IDX["log_scale"]]) * textured[None, :] * lorentz_polarisation(tt, xp=jnp)
        live = (phase.f2m > 0)[None, :] & (sin_th < 0.9999)
        amp = jnp.where(live, amp, 0.0) * jnp.stack([1.0, x[IDX["ka2_ratio"]]])[:, None]
        fwhm = caglioti_fwhm(tt, x[IDX["U"]], x[IDX["V"]], x[IDX["W"]], fwhm_min=0.005)
        fwhm = jnp.sqrt(fwhm * fwhm + extra_fwhm * extra_fwhm)
        centre = jnp.round((pos - tt_first) / step).astype(jnp.int32)
        idx = centre[..., None] + offsets  # [2, P, window]
        dx = tt_first + idx * step - pos[..., None]
        dens = split_pseudo_voigt(dx, fwhm[..., None], x[IDX["eta"]], x[IDX["asymmetry"]])
        vals = amp[..., None] * dens * step
        inside = (idx >= 0) & (idx < n_bins)
        out = jnp.zeros(n_bins, jnp.float32).at[jnp.clip(idx, 0, n_bins - 1).ravel()].add(
            jnp.where(inside, vals, 0.0).ravel())
        return out + x[IDX["background"]]

    return pattern


def doublet_on_grid(lambda_ref: float, anode: str = "Cu") -> tuple[float, float]:
    """(Kα1, Kα2) wavelengths (Å) as they appear on a grid of λ_ref: a measurement taken with the doublet and
    converted to λ_ref through d at the Kα mean keeps each line at λ_line · λ_ref / λ_mean."""
    mean = WAVELENGTHS[f"{anode}Ka"]
    return (WAVELENGTHS[f"{anode}Ka1"] * lambda_ref / mean, WAVELENGTHS[f"{anode}Ka2"] * lambda_ref / mean)

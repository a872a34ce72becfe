"""Pawley fits: a cell and an extinction group tested against a measured profile without any atoms.

Every reflection the group allows (one per Laue-equivalent family, lines of identical d pooled) gets a free
intensity ≥ 0; the cell (within the crystal system's constraints), zero shift, displacement, widths and the
Kα2 ratio refine as in the structure fit (:mod:`difcon_jax.match.fit`). A group whose absences are wrong
leaves peaks unexplained or predicts lines where there are none, and its Rwp / χ² shows it.
"""

from __future__ import annotations

import dataclasses

import gemmi
import jax
import numpy as np

from difcon_jax.match.database import metric_basis
from difcon_jax.match.fit import FitSettings, make_fitter, parameter_bounds, phases_from_arrays
from difcon_jax.match.lines import reflection_positions
from difcon_jax.match.pattern_model import N_BASE, cell_to_metric, doublet_on_grid
from difcon_jax.patterns.preprocess import noise_sigma


def reflections_within(cell, q_max: float) -> tuple[np.ndarray, np.ndarray]:
    """(hkl int[M, 3], Q = 1/d² float[M] Å⁻²): every reflection of ``cell`` (Å, degrees) with 0 < Q ≤ ``q_max``."""
    gstar = np.linalg.inv(cell_to_metric(cell))
    lim = np.floor(np.sqrt(q_max * np.diag(np.linalg.inv(gstar)))).astype(int) + 1  # |h| ≤ a/d_min
    hkl = np.stack(np.meshgrid(*[np.arange(-m, m + 1) for m in lim], indexing="ij"), -1).reshape(-1, 3)
    q = np.einsum("pi,ij,pj->p", hkl, gstar, hkl)
    keep = (q > 0) & (q <= q_max)
    return hkl[keep], q[keep]


def pawley_reflections(cell, space_group: int, two_theta_max: float, wavelength: float,
                       max_reflections: int = 160) -> np.ndarray:
    """int[R, 3]: the allowed reflections of ``space_group`` (standard setting, gemmi) for ``cell`` (Å, degrees)
    up to ``two_theta_max`` at ``wavelength`` (Å), one per Laue family and per distinct d (to 1e-6), sorted by
    d descending (the lowest angles first), at most ``max_reflections``."""
    sg = gemmi.find_spacegroup_by_number(int(space_group))
    ops = sg.operations()
    asu = gemmi.ReciprocalAsu(sg)
    d_min = wavelength / (2 * np.sin(np.radians(min(two_theta_max, 179.0) / 2)))
    hkl, inv_d2 = reflections_within(cell, 1 / d_min ** 2)
    keep = np.array([asu.is_in(list(map(int, v))) and not ops.is_systematically_absent(list(map(int, v)))
                     for v in hkl], bool)
    hkl, inv_d2 = hkl[keep], inv_d2[keep]
    order = np.argsort(inv_d2, kind="stable")
    hkl, inv_d2 = hkl[order], inv_d2[order]
    distinct = np.concatenate([[True], np.diff(inv_d2) > 1e-6 * inv_d2[1:]])
    return hkl[distinct][:max_reflections].astype(np.int32)


def pawley_fit(y: np.ndarray, weight: np.ndarray, grid, cell, space_group: int, settings: FitSettings | None = None,
               anode: str = "Cu", max_reflections: int = 160) -> dict:
    """Pawley fit of one (cell, space group) hypothesis; ``grid`` a :class:`~difcon_jax.grid.Grid`.
    Returns {cell, cell_sigma, rwp, reduced_chi2, reflections, free_parameters, intensities, model, x (the
    refined parameter vector, layout :data:`~difcon_jax.match.pattern_model.PARAMS`), two_theta_max (degrees: the
    range fitted — below the grid's end when the cell has more than ``max_reflections`` lines there)}."""

    settings = settings or FitSettings()
    settings = dataclasses.replace(settings, keep=1)
    hkl = pawley_reflections(cell, space_group, grid.tt_max + 5.0, grid.lambda_ref, max_reflections + 1)
    if len(hkl) == 0:
        raise ValueError(f"no allowed reflection of space group {space_group} below {grid.tt_max}° for this cell")
    tt_fitted = grid.tt_max
    if len(hkl) > max_reflections:
        # more lines than the fit has intensities for (a large low-symmetry cell): the fit covers the range up to
        # midway between the last line it holds and the next, and says so, rather than leave the rest unexplained
        # Bragg positions of the cell (no zero shift or displacement: the fit has not run)
        tt = reflection_positions(hkl[max_reflections - 1:max_reflections + 1], cell, np.zeros(N_BASE), grid.lambda_ref)
        tt_fitted = float(tt.mean())
        hkl = hkl[:max_reflections]
        weight = np.where(grid.centres <= tt_fitted, weight, 0.0)
    ops = gemmi.find_spacegroup_by_number(int(space_group)).operations()
    rots = np.array([np.array(op.rot) // gemmi.Op.DEN for op in ops.sym_ops], np.int32)
    basis = metric_basis(rots)[None]
    n, r = len(hkl), max_reflections  # padded to one shape: one compilation for every hypothesis
    live = (np.arange(r) < n).astype(np.float32)[None]
    padded = np.zeros((1, r, 3), np.int32)
    padded[0, :n] = hkl
    ph = phases_from_arrays(np.asarray(cell, np.float64)[None], basis, padded, live,
                            np.zeros((1, r, 2), np.float32), np.ones((1, r, 2), np.float32) * 0.5)
    x0, lo, hi = parameter_bounds(basis, settings, pawley_refl=r)
    hi[:, -r:] *= live
    coarse, fine = make_fitter(grid.tt_min + 0.5 * grid.step, grid.step, grid.n_bins,
                               doublet_on_grid(grid.lambda_ref, anode), settings, pawley=True)
    args = (np.asarray(y, np.float32), np.asarray(weight, np.float32), np.zeros(grid.n_bins, np.float32))
    xc, _, _ = coarse(*args, ph, x0, lo, hi)
    sigma = noise_sigma(y, weight)
    out = jax.tree_util.tree_map(np.asarray, fine(*args, np.float32(sigma), ph, xc, lo, hi))
    return {"cell": out["cell"][0].tolist(), "cell_sigma": out["cell_sigma"][0].tolist(), "rwp": float(out["rwp"][0]),
            "two_theta_max": tt_fitted,
            "reduced_chi2": float(out["cost"][0] / out["dof"][0] / sigma ** 2), "reflections": hkl,
            "free_parameters": int(out["n_free"][0]), "intensities": out["x"][0][-r:][:n], "model": out["model"][0],
            "x": out["x"][0]}


def choose_space_group(fits: dict[int, dict], tolerance: float = 0.05) -> int:
    """The hypothesis a Pawley comparison supports: among the groups whose Rwp is within ``tolerance``
    (relative) of the best, the one allowing the fewest reflections — a group that allows more lines always
    fits at least as well (its extra lines take zero intensity), so equal fits favour the absences that explain
    the missing lines."""
    best = min(f["rwp"] for f in fits.values())
    tied = [g for g, f in fits.items() if f["rwp"] <= best * (1 + tolerance)]
    return min(tied, key=lambda g: (len(fits[g]["reflections"]), fits[g]["rwp"]))

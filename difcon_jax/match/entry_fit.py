"""Library entries fitted as phases: a database's rows as the fitter's stacked phases (with the texture directions
each offers), the coarse-then-fine fit of a set of rows, each fitted row's record, and weight fractions.
The search (:mod:`difcon_jax.match.search`) decides with them."""

from __future__ import annotations

import jax
import numpy as np

from difcon_jax.crystal.symmetry import CRYSTAL_SYSTEMS, crystal_system_of, space_group_symbol
from difcon_jax.grid import Grid
from difcon_jax.match.conditions import describe
from difcon_jax.match.database import ReferenceDB
from difcon_jax.match.fit import bound_hits, make_fitter, parameter_bounds, phases_from_arrays
from difcon_jax.match.lines import reflection_positions
from difcon_jax.match.pattern_model import (
    IDX,
    TEXTURE_AXES,
    cell_to_metric,
    doublet_on_grid,
    reciprocal_axis_cos2,
    with_texture_axis,
)

ORTHORHOMBIC = CRYSTAL_SYSTEMS.index("orthorhombic")


def candidate_phases(db: ReferenceDB, rows: np.ndarray):
    """The stacked :class:`~difcon_jax.match.pattern_model.Phase` of entries ``rows`` (leading axis = rows); the
    triclinic, monoclinic and orthorhombic ones offer a texture along a* and b* besides c*
    (:func:`~difcon_jax.match.pattern_model.reciprocal_axis_cos2`: exact for their families)."""
    basis = db.metric_basis[rows].astype(np.float32)
    axes = np.full((len(rows), 2, db.max_peaks), -1.0)
    for j, i in enumerate(np.asarray(rows)):
        if crystal_system_of(int(db.space_group[i])) <= ORTHORHOMBIC:
            axes[j] = reciprocal_axis_cos2(db.hkl[i], db.cell[i])[:2]
    ph = phases_from_arrays(db.cell[rows], basis, db.hkl[rows], db.f2m[rows].astype(np.float32),
                            db.po_cos2[rows] / 255.0, db.po_weight[rows] / 255.0, axes)
    return ph


def fit_rows(db, rows, y, weight, background, grid: Grid, settings, anode: str = "Cu", sigma: float = 0.0):
    """Coarse fit of every entry in ``rows``, fine fit of the ``settings.fit.keep`` best (``settings``: an
    :class:`~difcon_jax.match.search.IdentifySettings`; ``settings.candidates`` slots, one compilation): the fine
    results (NumPy, one row per distinct candidate kept, with its database ``row``, bounds and ``texture_axis``)."""
    s = settings.fit
    coarse, fine = make_fitter(grid.tt_min + 0.5 * grid.step, grid.step, grid.n_bins,
                               doublet_on_grid(grid.lambda_ref, anode), s)
    n_rows = len(rows)
    rows = np.resize(np.asarray(rows), max(settings.candidates, n_rows))  # fixed shape: one compilation
    ph = candidate_phases(db, rows)
    x0, lo, hi = parameter_bounds(db.metric_basis[rows].astype(np.float32), s)
    args = (np.asarray(y, np.float32), np.asarray(weight, np.float32), np.asarray(background, np.float32))
    xc, cc, axis = coarse(*args, ph, x0, lo, hi)
    cc = np.where(np.isfinite(np.asarray(cc)), np.asarray(cc), np.inf)[:n_rows]
    keep = np.resize(np.argsort(cc, kind="stable")[:s.keep], s.keep)
    sub = jax.vmap(with_texture_axis)(jax.tree_util.tree_map(lambda a: a[keep], ph), np.asarray(axis)[keep])
    out = {k: np.asarray(v) for k, v in fine(*args, np.float32(sigma), sub, np.asarray(xc)[keep], lo[keep],
                                             hi[keep]).items()}
    out["row"] = np.asarray(rows)[keep]
    out["texture_axis"] = np.asarray(axis)[keep]
    out["lower"], out["upper"] = lo[keep], hi[keep]
    distinct = np.unique(keep, return_index=True)[1]  # fewer candidates than slots: each once
    out = {k: v[np.sort(distinct)] for k, v in out.items()}
    out["rwp"] = np.where(np.isfinite(out["rwp"]), out["rwp"], np.inf)
    return out


def weight_fractions(phases: list[dict], db: ReferenceDB) -> list[float]:
    """Hill & Howard: w_p ∝ S_p·(ZMV)_p, S_p the Rietveld scale of |F|²m in electrons² (our scale divided by
    the entry's strongest |F|²m), ZM the cell mass, V the refined cell volume."""
    z = [np.exp(p["_x"][IDX["log_scale"]]) / float(db.f2m_max[p["_row"]]) * float(db.cell_mass[p["_row"]])
         * float(np.sqrt(max(np.linalg.det(cell_to_metric(p["cell"])), 0.0))) for p in phases]
    total = sum(z)
    return [float(v / total) if total > 0 else float("nan") for v in z]


def phase_record(db, out, j, sim_of_row, sigma, ka1: float) -> dict:
    """The record of candidate ``j`` of :func:`fit_rows`' results ``out`` (the public keys ``identify`` reports, the
    arrays the search and plots use under '_' keys); ``sim_of_row``: row → (representation, profile) similarity."""
    row = int(out["row"][j])
    x = out["x"][j]
    live = db.f2m[row] > 0
    sg = int(db.space_group[row])
    return {"name": str(db.name[row]), "code": str(db.code[row]), "formula": str(db.formula[row]),
            "space_group": {"number": sg, "symbol": space_group_symbol(sg)},
            "cell": [round(float(v), 5) for v in out["cell"][j]],
            "cell_sigma": [round(float(v), 5) for v in out["cell_sigma"][j]],
            "reference_cell": [round(float(v), 5) for v in db.cell[row]],
            "rwp": round(float(out["rwp"][j]), 4), "rwp_lines": round(float(out["rwp_lines"][j]), 4),
            "explained": round(float(out["explained"][j]), 4),
            "reduced_chi2": round(float(out["cost"][j] / out["dof"][j] / sigma ** 2), 3),
            "free_parameters": int(out["n_free"][j]),
            "similarity": round(float(sim_of_row[row][0]), 4),
            "profile_similarity": round(float(sim_of_row[row][1]), 4),
            "refined": {"zero": round(float(x[IDX["zero"]]), 4), "displacement": round(float(x[IDX["displacement"]]), 4),
                        "U": round(float(x[IDX["U"]]), 5), "V": round(float(x[IDX["V"]]), 5),
                        "W": round(float(x[IDX["W"]]), 5), "eta": round(float(x[IDX["eta"]]), 3),
                        "asymmetry": round(float(x[IDX["asymmetry"]]), 3),
                        "po_r": round(float(np.exp(x[IDX["log_po_r"]])), 3),
                        "po_axis": TEXTURE_AXES[int(out["texture_axis"][j])],
                        "ka2_ratio": round(float(x[IDX["ka2_ratio"]]), 3)},
            "at_bound": bound_hits(x, out["lower"][j], out["upper"][j]),
            "source": str(db.source[row]), "determined_at": describe(db.conditions[row]), "_row": row, "_x": x,
            # unrounded, for the match test and the further phases' gain
            "_rwp": float(out["rwp"][j]), "_rwp_lines": float(out["rwp_lines"][j]),
            "_explained": float(out["explained"][j]), "_model": out["model"][j] - x[IDX["background"]],
            "_ticks": reflection_positions(db.hkl[row][live], out["cell"][j], x, ka1),
            "_hkl": db.hkl[row][live], "_f2m": db.f2m[row][live].astype(np.float32)}

"""A pattern the library does not hold: its cell from the peak positions (:mod:`~difcon_jax.match.indexing`),
the space groups that cell's absences allow (:mod:`~difcon_jax.match.absences`), ranked as an unmatched
pattern's answer is (:mod:`~difcon_jax.match.decide`) times the odds the positions each leaves empty give it, and
a Pawley fit of the answer (:mod:`~difcon_jax.match.pawley`) drawn as evidence.

This is the identify issue's fallback "checked by Pawley fits where a cell is available": the cell comes from
indexing rather than from a neighbour (whose cell is not the pattern's) or the network's lattice head (15 %
edge error). Triclinic cells are not searched. identify's default for a pattern nothing matches
(``IdentifySettings.index``; ``--no-index`` turns it off): since cells a fit by chance could explain are refused,
four in five cells given on rruff_dev are of the mineral's own lattice and the answers rise
(results/identify/README.md, "Chance fits refused").
"""

from __future__ import annotations

import numpy as np

from difcon_jax.crystal.symmetry import extinction_group_of, space_group_symbol
from difcon_jax.grid import Grid
from difcon_jax.match.absences import (
    GroupFit,
    absence_log_odds,
    allowed_space_groups,
    description_centrings,
    group_violations,
    groups_of_centring,
)
from difcon_jax.match.decide import two_step_answer
from difcon_jax.match.fit import FitSettings
from difcon_jax.match.indexing import IndexSettings, index_pattern
from difcon_jax.match.lines import reflection_positions
from difcon_jax.match.pattern_model import IDX, doublet_on_grid
from difcon_jax.match.pawley import pawley_fit
from difcon_jax.match.spectral_lines import line_q


def _pawley(y: np.ndarray, weight: np.ndarray, grid: Grid, cell, sg: int, anode: str) -> dict:
    """The better (lower Rwp) of two Pawley fits of ``cell`` (Å, degrees; ``sg``'s standard setting) to the profile
    ``y``: the indexed cell is the pattern's, so the refinement may move it by a fraction of a per cent, not search
    ±5 % as a library neighbour's cell needs (a wrong scale would lock onto other lines). The two starts: a grid over
    that fraction refined on the smoothed pattern (its equal-intensity template can prefer a wrong scale where the
    group allows lines the pattern lacks), and the indexed cell itself straight to the fine stage — the smoothed
    stage moves an exact cell among a dense orthorhombic pattern's ~150 free intensities (RRUFF's forsterite
    rruff_0340: 10.217 → 10.166 Å, Rwp 0.90; from the indexed cell 0.17). Both with Le Bail intensities before the
    fine least squares (``FitSettings.le_bail_cycles``) and 48 final iterations, not 16. Mean Rwp of rruff_dev's
    indexed patterns: 0.284 from the grid alone at 16 iterations, 0.238 from the better of two starts, 0.200 at 48
    (46 patterns then); 0.211 → **0.166** with the direct start and Le Bail intensities (the 41 indexed now: median
    0.159 → 0.149, worst 0.897 → 0.376; results/identify/README.md)."""
    starts = (FitSettings(strain_box=0.01, grid_steps=5, fine_iterations=48),
              FitSettings(strain_box=0.01, grid_steps=1, fine_iterations=48, coarse_iterations=0))
    fits = [pawley_fit(y, weight, grid, cell, sg, s, anode=anode) for s in starts]
    return min(fits, key=lambda f: f["rwp"] if np.isfinite(f["rwp"]) else np.inf)


def weigh_allowed(ranking: np.ndarray, violations: dict[int, GroupFit], lattice: str, centring: str,
                  settings: IndexSettings = IndexSettings()) -> tuple[np.ndarray, int] | None:
    """(``ranking`` float[230] kept to the groups an indexed cell allows — their class's violations at most
    ``max_violations`` and, with ``same_centring``, of the cell's lattice type (with ``cubic_descriptions``, a
    primitive cubic cell's I and F descriptions too: :func:`~difcon_jax.match.absences.description_centrings`) —
    times the odds their empty absences give them (:func:`~difcon_jax.match.absences.absence_log_odds`),
    normalised; how many groups are allowed), or None when it keeps nothing of the ranking."""
    ok = allowed_space_groups(violations, settings.max_violations)
    if settings.same_centring:
        types = description_centrings(lattice, centring) if settings.cubic_descriptions else (centring,)
        ok &= np.any([groups_of_centring(lattice, t) for t in types], axis=0)
    if not ok.any():
        return None
    log_odds = absence_log_odds(violations, settings.absence_weight, settings.violation_weight)
    odds = np.exp(log_odds - log_odds[ok].max())  # the best-supported allowed class at 1
    restricted = np.where(ok, np.asarray(ranking, np.float64) * odds, 0.0)
    if not restricted.sum() > 0:
        return None
    return restricted / restricted.sum(), int(ok.sum())


def index_and_check(y: np.ndarray, weight: np.ndarray, grid: Grid, ranking: np.ndarray, anode: str = "Cu",
                    settings: IndexSettings = IndexSettings(), pawley: bool = True) -> tuple[np.ndarray, dict | None]:
    """(ranking float[230] restricted to the groups the indexed cell allows and renormalised, record) for the
    profile y (float[n_bins] on ``grid``, background removed, measured where ``weight`` > 0); (ranking, None)
    unchanged when the pattern does not index or its cell allows none of the ranked groups. The record: the
    indexing (:meth:`~difcon_jax.match.indexing.Indexing.as_dict`), ``allowed_groups`` (how many: their absences
    explain the lines and, with ``same_centring``, their lattice type is the cell's), ``empty_absences`` (the
    answer's class's :attr:`~difcon_jax.match.absences.GroupFit.empty`), ``answer_cell`` (centring and edge, when
    the answer is a primitive cubic cell's I or F description), and with ``pawley`` the Pawley
    fit of the answer's group (cell in its standard setting, cell_sigma, rwp, reduced_chi2) with its curve, ticks,
    reflections and fitted intensities under '_' keys."""
    ix = index_pattern(y, weight, grid, anode, settings)
    if ix is None:
        return ranking, None
    q, g = line_q(ix.two_theta, ix.zero, grid.lambda_ref, anode)
    measured = grid.centres[np.asarray(weight) > 0]
    q_min = float(line_q(measured[:1], ix.zero, grid.lambda_ref, anode)[0][0]) if len(measured) else None
    violations = group_violations(ix.cell, q, g * settings.tolerance, ix.lattice, q_min,
                                  ix.centring if settings.cubic_descriptions else None)
    weighed = weigh_allowed(ranking, violations, ix.lattice, ix.centring, settings)
    if weighed is None:
        return ranking, None
    restricted, n_allowed = weighed
    sg = two_step_answer(restricted)  # the answer identify gives (and the group the Pawley fit below tests)
    rep = min(n for n in violations if extinction_group_of(n) == extinction_group_of(sg))
    # the answer's absences as evidence: calculated positions it forbids that no line occupies
    rec = {**ix.as_dict(), "allowed_groups": n_allowed, "empty_absences": violations[rep].empty}
    letter = space_group_symbol(sg)[0]
    if ix.lattice == "cubic" and letter != ix.centring:  # the answer's cell is a larger description of the indexed one
        rec["answer_cell"] = {"centring": letter, "a": round(float(violations[rep].cell[0]), 5)}
    if pawley:
        fit = _pawley(y, weight, grid, list(violations[rep].cell), sg, anode)  # the group's standard setting
        if not (np.isfinite(fit["rwp"]) and np.all(np.isfinite(fit["cell"]))):
            rec["pawley_note"] = "the Pawley fit of the indexed cell diverged (non-finite values); no fit shown"
            return restricted, rec
        ka1 = doublet_on_grid(grid.lambda_ref, anode)[0]
        rec["pawley"] = {"space_group": {"number": sg, "symbol": space_group_symbol(sg)},
                         "cell": [round(float(v), 5) for v in fit["cell"]],
                         "cell_sigma": [round(float(v), 5) for v in fit["cell_sigma"]],
                         "rwp": round(fit["rwp"], 4), "reduced_chi2": round(fit["reduced_chi2"], 3),
                         "reflections": int(len(fit["reflections"]))}
        if fit["two_theta_max"] < grid.tt_max:  # more lines than the fit holds: the range it covers
            rec["pawley"]["two_theta_max"] = round(fit["two_theta_max"], 2)
        rec["_model"] = fit["model"] - fit["x"][IDX["background"]]  # the constant background is not the phase's
        rec["_ticks"] = reflection_positions(fit["reflections"], fit["cell"], fit["x"], ka1)
        rec["_hkl"], rec["_intensities"] = np.asarray(fit["reflections"]), np.asarray(fit["intensities"])
    return restricted, rec

"""Search–fit–decide for one measured profile (host orchestration over the jitted fitter).

For each phase (up to ``max_phases``): retrieve the ``candidates`` entries nearest to the pattern's DIFCON
representation (the remaining signal's, for the second and third phase), refine all of them coarsely, the
``fit.keep`` best finely, rank by the fit's Rwp (the first phase: a candidate whose own lines fit before any
that do not, :func:`first_phase_order`), and keep the best when its own lines fit (Rwp over them below
``match_rwp``, set on simulated patterns, never on measurements): the first phase when it also explains
``min_explained`` of the signal — or, a mixture, when the further phases bring what all of them explain there —
a further phase when it also lowers the total Rwp by ``min_gain`` (relative). Earlier phases stay fixed while the
next is fitted. When the first phase's mixture explains too little, the next candidates whose own lines fit are
tried as the first phase in turn (``first_phase_tries`` first phases in all: :func:`first_phase_tries`). The phases
found are reported principal first (the largest share of the fitted intensity).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from difcon_jax.errors import InputError
from difcon_jax.grid import Grid
from difcon_jax.match.containment import StickSines, containment_scores
from difcon_jax.match.database import ReferenceDB, stick_table
from difcon_jax.match.entry_fit import fit_rows, phase_record, weight_fractions
from difcon_jax.match.fit import FitSettings, explained_share
from difcon_jax.match.indexing import IndexSettings
from difcon_jax.match.lines import (
    PEAK_SHARE,
    line_fwhm,
    lines_in_window,
    newly_explained,
    unexplained_peaks,
)
from difcon_jax.match.metric import MetricSettings
from difcon_jax.match.pattern_model import IDX, doublet_on_grid
from difcon_jax.match.retrieve import (
    normalise,
    profile_fingerprint,
    profile_similarity,
    stick_fingerprints,
    top_candidates,
)
from difcon_jax.patterns.preprocess import noise_sigma


@dataclasses.dataclass(frozen=True)
class IdentifySettings:
    """How candidates are searched and judged (``identify`` config fields)."""
    candidates: int = 50  # retrieved per phase
    # of which this many by containment (match/containment.py: the entries whose lines are all in the pattern —
    # a mixture's phases, a strained phase), after the representation's half and before the profile fingerprint's
    containment: int = 10
    fit: FitSettings = FitSettings()
    max_phases: int = 3
    # the no-match test, set on the simulated validation axis (benchmarks/identify_axis.py --split validation
    # --absent; results/identify/README.md): 93 % of the fits that name the right group kept, 34 % of the
    # wrong-group fits matched when the parent is not in the library
    match_rwp: float = 0.45  # a first phase matches when the Rwp over its own lines is below this…
    min_explained: float = 0.7  # …and it accounts for this share of the measured signal (above 3σ)
    # …and the measured range holds this many of its lines (:func:`lines_in_window`): one or two lines fix no
    # cell, and any entry with a line there fits them (a thin film's 0.6° window around one peak "matched" a
    # monoclinic borate with c = 3(13) Å); three strongest lines are what a Hanawalt search starts from
    min_lines: int = 3
    # a first phase whose own lines fit but that explains less than ``min_explained`` matches when the further
    # phases found in the remainder (each passing the same line test) bring the share all of them explain to
    # ``min_explained``: a mixture, which no one phase explains (False: the first phase alone must)
    mixtures: bool = True
    # when a first phase's mixture explains too little, the next candidates whose own lines fit are tried as the
    # first phase, this many first phases in all (:func:`first_phase_tries`; 1: the best one only). 2: the thin
    # films' cubic perovskites, whose first phase (K₄MnCl₆) straddled their lines, match again (CS +5 of 86); the
    # simulated validation axis answers exactly as with 1, present and absent parents; rruff_dev CS −1, SG +1 of 689
    # (results/identify/README.md)
    first_phase_tries: int = 2
    # a further phase must lower the total Rwp by this fraction, fit its own lines… — 0.08, set on the simulated
    # mixtures (benchmarks/identify_mixtures.py, 60 pairs): at 0.15 a 30 % phase that was first among the remainder's
    # fits lowered the Rwp of a noisy pattern by 7–14 % and was refused (7 of 22); 0.08 names 70/30 mixtures' minor
    # phase 0.25 → 0.33 with no more spurious further phases on single-phase patterns than 0.15 (1 of 60); 0.04: 2
    min_gain: float = 0.08
    min_new_lines: int = 2  # …and explain this many peaks the phases before it left unexplained (one is no phase)
    min_residual_peak: float = 0.05  # …and the remaining signal must hold a peak this strong (of the maximum)
    # a further phase's gain is judged after the phases before it are refitted with it (:func:`refine_together`)
    refine_together: bool = True
    # phases reported by their share of the fitted intensity, so the symmetry answer (the vote headed by phase 1) is
    # the principal phase's: refined together, a further phase can carry most of the pattern (rruff_dev: 10 of 90
    # mixtures, the answer right 7 more times, none lost, both halves; results/identify/README.md)
    principal_first: bool = True
    # a pattern nothing matches is indexed (cubic to monoclinic), its answer kept to the groups its absences allow
    # and Pawley-fitted (match/novel.py); None: not indexed (``identify --no-index``). On since cells a fit by chance
    # could explain are refused (rruff_dev chose it: SG 0.621 → 0.631, CS 0.763 → 0.779; results/identify/README.md)
    index: IndexSettings | None = IndexSettings()
    # a matched phase whose refined cell is metrically of a higher system answers that system's groups its
    # lines allow (match/metric.py; tolerances set on the simulated validation axis); None: the vote as fitted
    metric: MetricSettings | None = MetricSettings()

    def matches(self, rwp_lines: float, explained: float) -> bool:
        """The match test of a first phase: its lines fit (Rwp over them) and it explains enough of the signal."""
        return float(rwp_lines) < self.match_rwp and float(explained) >= self.min_explained


@dataclasses.dataclass
class SearchIndex:
    """A database made searchable on one grid: its representations (unit rows, or None) and the
    fingerprints of its stick patterns (float32[N, C], :func:`~difcon_jax.match.retrieve.stick_fingerprints`)."""
    db: ReferenceDB
    fingerprints: np.ndarray
    sticks: StickSines

    @classmethod
    def of(cls, db: ReferenceDB, grid: Grid) -> "SearchIndex":
        t = stick_table(db, grid.lambda_ref, grid.tt_max)
        return cls(db, stick_fingerprints(t.two_theta, t.intensity, grid.tt_max), StickSines(t.two_theta, t.intensity))

    def subset(self, rows) -> "SearchIndex":
        """The index of database entries ``rows`` only."""
        return SearchIndex(self.db.subset(rows), self.fingerprints[rows], self.sticks.subset(rows))

    def candidates(self, h, profile, weight, grid: Grid, k: int, allowed, containment: int = 0,
                   whole=None) -> tuple[np.ndarray, dict]:
        """Up to ``k`` entries: half nearest in representation (when the database has them), then ``containment``
        whose lines are all in ``whole`` (the measured signal; default ``profile``) and that explain peaks of
        ``profile`` (:func:`~difcon_jax.match.containment.containment_scores`), the rest most similar in profile;
        returns (rows, {row: (representation similarity, profile similarity)})."""
        fp, measured = profile_fingerprint(profile, weight, grid.tt_min, grid.step, self.fingerprints.shape[1])
        sim_p = profile_similarity(fp, measured, self.fingerprints)
        ok = np.ones(len(self.db), bool) if allowed is None else allowed
        rows: list[int] = []
        with_h = self.db.h is not None and h is not None
        if with_h:
            r, _ = top_candidates(h, self.db.h, k // 2, ok)
            rows = r[0].tolist()
        n_max = min(k, int(ok.sum()))

        def add(order, until):
            for i in order:
                if len(rows) >= until:
                    break
                if ok[i] and int(i) not in rows:
                    rows.append(int(i))

        if containment > 0:
            score = containment_scores(profile if whole is None else whole, profile, weight, grid.tt_min, grid.step,
                                       self.sticks, ok)
            add(np.argsort(-score, kind="stable")[:k], min(len(rows) + containment, n_max))
        add(np.argsort(-np.where(ok, sim_p, -np.inf), kind="stable")[:k], n_max)
        rows_a = np.asarray(rows, np.int64)
        # every candidate's representation similarity, the profile-found ones' too (shown beside each fit)
        sim_r = (normalise(self.db.h[rows_a]) @ normalise(np.atleast_2d(h))[0]).tolist() if with_h and len(rows) \
            else [float("nan")] * len(rows)
        return rows_a, {i: (float(a), float(sim_p[i])) for i, a in zip(rows, sim_r)}


def first_phase_order(rwp, rwp_lines, match_rwp: float | None) -> np.ndarray:
    """int[K]: candidates best first — by Rwp, except that with ``match_rwp`` (mixtures searched) a candidate
    whose own lines fit (Rwp over them < ``match_rwp``) goes before lower-Rwp ones whose lines do not: in a
    mixture the lowest total Rwp can belong to an entry that straddles both phases' lines without fitting its own,
    and the search stopped there; the phase put first must still pass the mixture test."""
    order = np.argsort(np.asarray(rwp), kind="stable")
    if match_rwp is None:
        return order
    fits = np.asarray(rwp_lines)[order] < match_rwp
    if fits[0] or not fits.any():
        return order
    i = int(np.argmax(fits))
    return np.concatenate([order[i:i + 1], np.delete(order, i)])


def search_profile(y, weight, h, embed, index: SearchIndex, allowed, grid: Grid, settings: IdentifySettings,
                   anode: str = "Cu") -> dict:
    """Phases found in one profile (see the module docstring). ``h``: the profile's representation;
    ``embed(profile) -> representation`` embeds the remaining signal for further phases; ``allowed``
    bool[N] the restraints. Returns {'phases', 'candidates', 'match', 'rwp', 'unexplained_peaks', 'model',
    'sigma'} with the private per-phase arrays kept under keys starting with '_'."""
    y = np.asarray(y, np.float64)
    weight = np.asarray(weight, np.float64)
    if not (np.isfinite(y).all() and np.isfinite(weight).all()):
        raise InputError("profile", "non-finite values (NaN or infinity) in the pattern")
    sigma = noise_sigma(y, weight)
    db = index.db
    ka1 = doublet_on_grid(grid.lambda_ref, anode)[0]
    allowed = np.ones(len(db), bool) if allowed is None else np.array(allowed, bool)
    empty = {"phases": [], "candidates": [], "match": False, "rwp": 1.0, "unexplained_peaks": [],
             "model": np.zeros_like(y), "sigma": sigma, "retrieved": np.zeros(0, np.int64), "note": ""}
    rows, sim_of_row = index.candidates(h, y, weight, grid, settings.candidates, allowed, settings.containment, y)
    if len(rows) == 0:
        return empty
    out = fit_rows(db, rows, y, weight, np.zeros_like(y), grid, settings, anode, sigma)
    finite = np.isfinite(out["rwp"]) & np.all(np.isfinite(out["x"]), axis=1)
    if not finite.any():
        return {**empty, "retrieved": rows,
                "note": "every fit of phase 1 diverged (non-finite parameters); no phase reported"}
    out = {key: v[finite] for key, v in out.items()}
    order = first_phase_order(out["rwp"], out["rwp_lines"], settings.match_rwp if settings.mixtures else None)
    ranking = [phase_record(db, out, int(j), sim_of_row, sigma, ka1) for j in order]
    found = {}
    for first in first_phase_tries(ranking, settings):
        found = _phases_from(first, y, weight, embed, index, allowed, grid, settings, anode, sigma, ka1)
        if found["phases"] or found["note"]:
            break
    phases = found.get("phases", [])
    if phases:
        fr = weight_fractions(phases, db)
        areas = [float(np.sum(p["_model"] * weight)) for p in phases]
        for p, w, a in zip(phases, fr, areas):
            p["weight_fraction"] = round(w, 4)
            p["intensity_fraction"] = round(a / max(sum(areas), 1e-30), 4)
        if settings.principal_first:  # the sample's phase is the one that diffracts most (stable: ties keep order)
            phases = sorted(phases, key=lambda p: -p["intensity_fraction"])
        # the principal phase heads the candidates shown and voted, as first_phase_order puts it
        ranking = [phases[0]] + [c for c in ranking if c["_row"] != phases[0]["_row"]]  # (refitted, a new record)
    model = found.get("model", np.zeros_like(y))
    return {"phases": phases, "candidates": ranking, "match": bool(phases), "rwp": found.get("rwp", 1.0),
            "unexplained_peaks": unexplained_peaks(y, model, weight, grid, sigma,
                                                   line_fwhm(phases[0]["_x"], grid), anode) if phases else [],
            "model": model, "sigma": sigma, "retrieved": rows, "note": found.get("note", "")}


def first_phase_tries(ranking: list[dict], settings: IdentifySettings) -> list[dict]:
    """The candidates tried in turn as the first phase: the ranking's first, then — only while each try ends
    with no match because the phases found with it explain too little together — the next candidates whose own
    lines fit (a mixture's first phase can be a wrong entry whose lines the pattern also holds: its mixture fails,
    and the phase that would have carried one is never tried), ``first_phase_tries`` in all."""
    if not ranking:
        return []
    tries = [ranking[0]]
    if settings.mixtures:
        tries += [c for c in ranking[1:] if c["_rwp_lines"] < settings.match_rwp][:settings.first_phase_tries - 1]
    return tries


def refine_together(phases: list[dict], rwp: float, y, weight, db: ReferenceDB, grid: Grid,
                    settings: IdentifySettings, anode: str, sigma: float, ka1: float) -> tuple[list[dict], float]:
    """The earlier phases refitted with the newest one in the model (one pass, each against all the others), as a
    Rietveld refinement refines every phase at once: fitted alone, the first phase of a mixture bends its widths,
    texture and scale over the other phase's lines, leaves them a remainder too small to show their gain and
    takes too large a fraction. Returns (phases, the total Rwp); a refit that diverges or fits worse keeps the
    phase as it was. ``rwp``: the total Rwp of ``phases`` as given."""
    phases = list(phases)
    for j in range(len(phases) - 1):
        others = np.sum([p["_model"] for i, p in enumerate(phases) if i != j], axis=0)
        # the search's fit (coarse on every slot, all holding this entry): a one-candidate shape would cost a
        # one-file identify a compile and ~4 s of tracing, and a fine stage started from the phase's own parameters
        # fits each earlier phase better on its own, which the gain test then credits to the new phase (rruff_dev:
        # 2 of the first 40 answers turned wrong, one as a three-phase mixture) — results/identify/README.md
        out = fit_rows(db, np.array([phases[j]["_row"]]), y, weight, others, grid, settings, anode, sigma)
        if not (np.isfinite(out["rwp"][0]) and np.all(np.isfinite(out["x"][0])) and out["rwp"][0] < rwp):
            continue
        sim = {phases[j]["_row"]: (phases[j]["similarity"], phases[j]["profile_similarity"])}
        phases[j] = phase_record(db, out, 0, sim, sigma, ka1)
        rwp = float(out["rwp"][0])
    return phases, rwp


def _phases_from(first: dict, y, weight, embed, index: SearchIndex, allowed, grid: Grid,
                 settings: IdentifySettings, anode: str, sigma: float, ka1: float) -> dict:
    """The phases found with ``first`` (a fitted candidate's record) as the first phase: {'phases' (empty when
    no match), 'model', 'rwp', 'note'}; the further phases are searched in what ``first`` leaves."""
    db = index.db
    none = {"phases": [], "model": np.zeros_like(y), "rwp": 1.0, "note": ""}
    alone = settings.matches(first["_rwp_lines"], first["_explained"])
    # its lines fit, but it explains too little alone: a match only if further phases explain the rest
    if not (alone or (settings.mixtures and first["_rwp_lines"] < settings.match_rwp)):
        return none
    n_lines = lines_in_window(first["_ticks"], first["_model"], weight, grid, line_fwhm(first["_x"], grid))
    if n_lines < settings.min_lines:
        if not alone:
            return none  # it explains too little by itself: no match, and not for want of lines
        inside = grid.centres[weight > 0]
        return {**none, "note": (f"too few lines to identify a phase: the measured range {inside.min():.2f}–"
                                 f"{inside.max():.2f}° holds {n_lines} line(s) of the best candidate ≥ "
                                 f"{100 * PEAK_SHARE:g} % of its strongest (at least {settings.min_lines} needed; "
                                 "no match)")}
    allowed = np.array(allowed, bool)
    phases, note = [first], ""
    allowed[first["_row"]] = False  # a phase found is not a candidate for the remainder
    background = first["_model"].copy()
    total_rwp = first["_rwp"]
    fwhm = line_fwhm(first["_x"], grid)
    for k in range(1, settings.max_phases):
        rest = np.where(weight > 0, y - background, 0.0)
        if rest.max() < settings.min_residual_peak * y.max() or not np.isfinite(rest).all():
            break
        # a further phase must explain ``min_new_lines`` of the peaks the phases so far leave unexplained
        # (:func:`newly_explained`): with fewer left there is nothing to search for, and the search (retrieval
        # and K fits, as long as phase 1's) is skipped — the same answer as searching and refusing every fit
        if len(unexplained_peaks(y, background, weight, grid, sigma, fwhm, anode)) < settings.min_new_lines:
            break
        rest = np.maximum(rest, 0.0) / rest.max()
        query = embed(rest) if embed is not None else None
        rows, sim_of_row = index.candidates(query, rest, weight, grid, settings.candidates, allowed,
                                            settings.containment, y)
        if len(rows) == 0:
            break
        out = fit_rows(db, rows, y, weight, background, grid, settings, anode, sigma)
        finite = np.isfinite(out["rwp"]) & np.all(np.isfinite(out["x"]), axis=1)
        if not finite.any():
            note = f"every fit of phase {k + 1} diverged (non-finite parameters); no phase reported"
            break
        out = {key: v[finite] for key, v in out.items()}
        best = int(np.argmin(out["rwp"]))
        rwp = float(out["rwp"][best])
        if not (float(out["rwp_lines"][best]) < settings.match_rwp
                and newly_explained(y, background, out["model"][best] - out["x"][best][IDX["background"]], weight,
                                    grid, sigma, fwhm, anode) >= settings.min_new_lines):
            break
        trial = phases + [phase_record(db, out, best, sim_of_row, sigma, ka1)]
        if settings.refine_together:
            trial, rwp = refine_together(trial, rwp, y, weight, db, grid, settings, anode, sigma, ka1)
        if not rwp < total_rwp * (1 - settings.min_gain):
            break
        phases = trial
        allowed[phases[-1]["_row"]] = False
        background = np.sum([p["_model"] for p in phases], axis=0)
        total_rwp = rwp
    if not alone and float(explained_share(background, y, weight, sigma)) < settings.min_explained:
        return {**none, "note": note}  # together they explain too little: no match
    return {"phases": phases, "model": background, "rwp": round(total_rwp, 4), "note": note}

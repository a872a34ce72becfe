"""``identify``: measured files → named phases with refined cells, fit quality and the verified symmetry.

The network gives each pattern a representation and its own symmetry probabilities; the reference database
gives candidates (:class:`~difcon_jax.match.search.SearchIndex`); whole-pattern fits decide
(:func:`~difcon_jax.match.search.search_profile`). The answer's symmetry is the fitted candidates' vote
(:mod:`difcon_jax.match.decide`) when a phase matches, else the network's for a phase outside the library (the
failed fits' vote shown apart, marked unverified). Every good file is answered; bad ones get one line each.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np

from difcon_jax.crystal.radiation import nearest_anode
from difcon_jax.crystal.symmetry import CRYSTAL_SYSTEMS, crystal_system_of, extinction_group_table, space_group_symbol
from difcon_jax.errors import InputError
from difcon_jax.grid import Grid
from difcon_jax.inference.forward import predict
from difcon_jax.inference.library import LIBRARY_FILE, REFERENCES_FILE, representations_match
from difcon_jax.inference.model_dir import PACKAGED_MODEL
from difcon_jax.inference.predict_files import describe, read_model_input
from difcon_jax.inference.predictor import Predictor
from difcon_jax.match.database import read_database
from difcon_jax.match.decide import VoteSettings, matched_ranking, no_match_ranking, space_group_votes, two_step_answer
from difcon_jax.match.indexing import IndexSettings
from difcon_jax.match.lines import measured_line_q, present_lines
from difcon_jax.match.metric import higher_symmetry
from difcon_jax.match.novel import index_and_check
from difcon_jax.match.orders import one_spacing
from difcon_jax.match.pattern_model import reflection_q
from difcon_jax.match.retrieve import Restraints, parse_elements
from difcon_jax.match.search import IdentifySettings, SearchIndex, search_profile
from difcon_jax.match.spectral_lines import line_q
from difcon_jax.patterns.doublet import network_view

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Identifier:
    """A loaded model (its predictor shows the database's kNN votes when the database carries the model's
    representations) with its reference database, ready to identify profiles."""
    predictor: Predictor
    index: SearchIndex
    use_representations: bool

    @property
    def cfg(self):
        return self.predictor.cfg

    @property
    def grid(self) -> Grid:
        return self.predictor.grid

    @classmethod
    def load(cls, model_dir: str | None = None, library: str | None = None,
             predictor: Predictor | None = None) -> "Identifier":
        """``model_dir``'s model (or the already loaded ``predictor`` of it) with the database ``library``
        (default: the model folder's own)."""
        model_dir = model_dir or PACKAGED_MODEL
        predictor = predictor or Predictor.load(model_dir)
        params = predictor.params
        path = library or os.path.join(model_dir, REFERENCES_FILE)
        if library is None and not os.path.exists(path):
            raise ValueError(f"{model_dir}: the model folder has no reference database ({REFERENCES_FILE}); "
                             "give one with --library (built by `difcon-jax library build`)")
        db = read_database(path)
        use_h = db.h is not None and representations_match(db.meta, params)
        # the folder's own file with a kNN vote and no library.npz beside it was read as its library: Predictor.load
        # has said so (one line per cause)
        said = library is None and "knn" in db.meta and not os.path.exists(os.path.join(model_dir, LIBRARY_FILE))
        if db.h is not None and not use_h and not said:
            log.warning("%s: representations made by another model; candidates retrieved by profile only", path)
        knn = None
        if use_h and "knn" in db.meta:
            knn = {"h": db.h, "space_group": db.space_group, **db.meta["knn"]}
        predictor = predictor._replace(library=knn)
        return cls(predictor, SearchIndex.of(db, predictor.grid), use_h)

    def network(self, x: np.ndarray, prior: str = "library") -> dict:
        """Temperature-scaled probabilities for the population ``prior`` names (:mod:`difcon_jax.inference.prior`;
        the library's by default, as ``predict``'s network lines show them), with the database's kNN votes when it
        carries them."""
        return self.predictor(x, blend=self.predictor.library is not None, prior=prior)

    def embed(self, profile: np.ndarray) -> np.ndarray:
        return predict(self.predictor.model, self.predictor.params, np.asarray(profile, np.float32)[None])["representation"]


def _top_groups(p: np.ndarray, top: int) -> list[dict]:
    """The ``top`` most probable space groups of p float[230] (index = number − 1) with p > 0."""
    return [{"number": int(j) + 1, "symbol": space_group_symbol(int(j) + 1), "p": round(float(p[j]), 4)}
            for j in np.argsort(-p, kind="stable")[:top] if p[j] > 0]


def _answer_first(shown: list[dict], sg: int, p: np.ndarray, top: int) -> list[dict]:
    """``shown`` (:func:`_top_groups` of p) led by the answer ``sg`` (a two-step answer need not be p's argmax)."""
    rest = [v for v in shown if v["number"] != sg]
    return ([{"number": sg, "symbol": space_group_symbol(sg), "p": round(float(p[sg - 1]), 4)}] + rest)[:top]


def _public(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def _pseudo_symmetry(ident: Identifier, phase: dict, profile: np.ndarray, weight: np.ndarray, ranking: np.ndarray,
                     votes: np.ndarray, settings: IdentifySettings, anode: str) -> tuple[np.ndarray, dict | None]:
    """:func:`~difcon_jax.match.metric.higher_symmetry` for a matched first ``phase``: its reflections the
    measured range shows (:func:`~difcon_jax.match.lines.present_lines`) are the lines the absences are read
    from; a cubic lattice's description, from the lines of the measured ``profile`` on the phase's scale
    (:func:`~difcon_jax.match.lines.measured_line_q`), its empty positions counted from the lowest Q measured;
    the record also names the group the vote answered (``matched_group``)."""
    db = ident.index.db
    hkl = db.hkl[phase["_row"]][db.f2m[phase["_row"]] > 0]  # the order of the phase's ticks
    shown = present_lines(phase["_ticks"], phase["_model"], weight, ident.grid)
    measured = measured_line_q(phase["_ticks"], reflection_q(hkl, phase["cell"]), profile, weight, ident.grid, anode)
    inside = ident.grid.centres[np.asarray(weight) > 0]
    q_min = float(line_q(inside[:1], 0.0, ident.grid.lambda_ref, anode)[0][0]) if len(inside) else None
    sg_vote = int(np.argmax(ranking)) + 1
    system = CRYSTAL_SYSTEMS[crystal_system_of(phase["space_group"]["number"])]
    out, rec = higher_symmetry(hkl[shown], phase["cell"], phase["reference_cell"], system, ranking, settings.metric,
                               voted=np.asarray(votes) > 0, rhombohedral=phase["space_group"]["symbol"][0] == "R",
                               q_min=q_min, measured=measured)
    if rec is not None:
        rec["matched_group"] = {"number": sg_vote, "symbol": space_group_symbol(sg_vote)}
    return out, rec


def identify_profiles(ident: Identifier, x: np.ndarray, weights: np.ndarray, restraints: Restraints | None = None,
                      settings: IdentifySettings | None = None, top: int = 5, anodes=None,
                      votes_settings: VoteSettings = VoteSettings()) -> list[dict]:
    """One result per profile x[i] (float[n_bins] on the model grid, background removed) measured where
    weights[i] > 0. Keys: phases, candidates (top ``top``), match, rwp, unexplained_peaks, symmetry, network,
    one_spacing (:func:`~difcon_jax.match.orders.one_spacing`: the lines are orders of one reflection, or None),
    indexing (for a pattern nothing matched: its indexed cell and the Pawley fit of the answer, or None), and the
    curves under '_' keys (for plots)."""
    settings = settings or IdentifySettings()
    allowed = (restraints or Restraints()).allowed(ident.index.db)
    if not allowed.any():
        raise InputError("--elements", "no reference entry satisfies the element restraints")
    # the network sees a single-line pattern with the Kα2 it was trained on; the fits see the measurement
    shown, added = network_view(x, ident.grid, weights, anodes)
    pr = ident.network(shown)
    outside = None  # the network's answer for phases outside the library (computed when one is met)
    eg_table = extinction_group_table()
    out = []
    for i in range(len(x)):
        h = pr["representation"][i:i + 1] if ident.use_representations else None
        anode_i = (anodes or ["Cu"] * len(x))[i]
        found = search_profile(x[i], weights[i], h, ident.embed if ident.use_representations else None, ident.index,
                               allowed, ident.grid, settings, anode_i)
        net = describe(pr, i, top, eg_table)  # the network's own answer, as predict's network lines show it
        net["ka2_added"] = bool(added[i])
        votes = space_group_votes(found["candidates"], pr["space_group"][i], votes_settings)
        metric = None
        if found["match"]:
            ranking = matched_ranking(votes, pr["space_group"][i])
            if settings.metric is not None:
                ranking, metric = _pseudo_symmetry(ident, found["phases"][0], x[i], weights[i], ranking, votes,
                                                   settings, anode_i)
        else:
            if outside is None:
                outside = ident.network(shown, prior=votes_settings.no_match_prior)["space_group"]
            ranking = no_match_ranking(votes, outside[i], votes_settings)
        indexing = None
        if not found["match"] and settings.index is not None:  # a novel phase: its own cell and absences
            ranking, indexing = index_and_check(x[i], weights[i], ident.grid, ranking, anode_i, settings.index)
        sg = int(np.argmax(ranking)) + 1 if found["match"] else two_step_answer(ranking)
        source = "fitted candidates and network" if found["match"] else \
            (f"network, for a phase outside the library ({votes_settings.no_match_prior} prior; no match in the "
             "library: unverified)")
        if not found["match"] and found["note"]:  # no match for another reason (too few lines, diverged fits)
            source = f"network ({found['note'].split(':')[0]}; {votes_settings.no_match_prior} prior: unverified)"
        if metric is not None:
            first = found["phases"][0]
            source = (f"fitted candidates and network; the refined cell of {first['name']} "
                      f"({first['space_group']['symbol']}) is metrically {metric['system']} ({metric['shows']}): the "
                      f"{metric['system']} groups its lines allow")
        series = one_spacing(x[i], weights[i], ident.grid, anode_i)
        if series is not None:  # an oriented sample: its lines cannot test a cell or a group (match/orders.py)
            source += f"; the lines are orders of one spacing (d = {series['d']:.3f} Å): the group is untested"
        if indexing is not None:
            source = (f"indexed cell ({indexing['lattice']} {indexing['centring']}, M20 {indexing['m20']:.0f}) and the "
                      "groups its absences allow, ranked by the network (no match in the "
                      "library)")
        symmetry = {"source": source,
                    "crystal_system": CRYSTAL_SYSTEMS[crystal_system_of(sg)],
                    "space_group": {"number": sg, "symbol": space_group_symbol(sg)},
                    "ranking": _answer_first(_top_groups(ranking, top), sg, ranking, top),
                    # with no match the fits' vote is shown apart, marked unverified
                    "votes" if found["match"] else "unverified_votes": _top_groups(votes, top),
                    "metric": metric}
        out.append({"phases": [_public(p) for p in found["phases"]],
                    "candidates": [_public(c) for c in found["candidates"][:top]],
                    "match": found["match"], "rwp": found["rwp"], "unexplained_peaks": found["unexplained_peaks"],
                    "note": found["note"], "one_spacing": series,
                    "symmetry": symmetry, "network": net,
                    "indexing": {k: v for k, v in indexing.items() if not k.startswith("_")} if indexing else None,
                    "_indexing": indexing,
                    "_retrieved": found["retrieved"], "_profile": x[i], "_weight": weights[i], "_model": found["model"],
                    "_phase_models": [p["_model"] for p in found["phases"]],
                    "_ticks": [p["_ticks"] for p in found["phases"]],
                    "_hkl": [p["_hkl"] for p in found["phases"]], "_f2m": [p["_f2m"] for p in found["phases"]],
                    # with no match, the best candidate's fit is still the evidence of why not
                    "_best": found["candidates"][0] if found["candidates"] and not found["phases"] else None})
    return out


def verify_predictions(results: list[dict], profiles: np.ndarray, model_dir: str | None = None,
                       predictor: Predictor | None = None) -> list[dict]:
    """``predict``'s results with ``verified`` and ``answer`` entries each, from :func:`identify_profiles` with
    identify's own settings (the same answer ``identify`` gives):

    * ``verified``: the best-fitting library phase (name, formula, space group, refined cell, Rwp; ``one_spacing``
      when its lines are orders of one reflection) when one matches, else None;
    * ``indexing``: for a pattern nothing matches, its indexed cell and the answer's Pawley fit (identify's
      ``indexing`` record), else None;
    * ``answer``: identify's symmetry answer — ``crystal_system``, ``space_group`` {number, symbol}, ``ranking``
      (as many groups as the network's list), ``source`` (what decided it) and ``verified`` (a phase matched).
      With a match the fitted candidates' vote decides; without one, the network's answer for a phase outside the
      library (``match/decide.py``). On rruff_dev this answer beats the network's own top group on both the
      matched and the unmatched patterns (results/identify/README.md).

    The network's own answer (the top-level lists) stays as it was. Model folders without a reference database
    get ``verified`` None and the network's top group as ``answer``. ``predictor``: the model already loaded by
    ``predict`` (read once)."""
    if not results or not os.path.exists(os.path.join(model_dir or PACKAGED_MODEL, REFERENCES_FILE)):
        return [dict(r, verified=None, indexing=None,
                     answer=network_answer(r, "network (the model folder has no reference library to verify against)"))
                for r in results]
    ident = Identifier.load(model_dir, predictor=predictor)
    weights = np.stack([((ident.grid.centres >= r["coverage"][0]) & (ident.grid.centres <= r["coverage"][1]))
                        .astype(np.float32) for r in results])
    found = identify_profiles(ident, profiles, weights, top=len(results[0]["space_group"]),
                              anodes=[nearest_anode(r["wavelength"]) for r in results])
    keys = ("name", "code", "formula", "space_group", "cell", "cell_sigma", "rwp", "rwp_lines", "explained")
    out = []
    for r, f in zip(results, found):
        sym = f["symmetry"]
        # a match whose lines are orders of one spacing carries that caveat (match/orders.py)
        verified = dict({k: f["phases"][0][k] for k in keys}, one_spacing=f["one_spacing"]) if f["phases"] else None
        answer = {"crystal_system": sym["crystal_system"], "space_group": sym["space_group"],
                  "ranking": sym["ranking"], "source": sym["source"], "verified": bool(f["match"])}
        out.append(dict(r, verified=verified, answer=answer, indexing=f["indexing"]))
    return out


def network_answer(r: dict, source: str) -> dict:
    """``predict``'s ``answer`` entry when nothing verifies it: the network's top space group (result ``r``)."""
    top = r["space_group"][0]
    return {"crystal_system": CRYSTAL_SYSTEMS[crystal_system_of(top["number"])],
            "space_group": {"number": top["number"], "symbol": top["symbol"]}, "ranking": r["space_group"],
            "source": source, "verified": False}


def identify(files, model: str | None = None, library: str | None = None, elements: str | None = None,
             only_elements: str | None = None, exclude_elements: str | None = None, top: int = 5,
             wavelength: float | None = None, settings: IdentifySettings | None = None, index: bool | None = None,
             non_ambient: bool = False):
    """Python API of ``difcon-jax identify``: (results, errors). ``results``: one dict per readable file
    (``file``, ``grid``, ``wavelength`` — Å, the file's own or the one given — plus the keys of
    :func:`identify_profiles`; ``identify --export`` writes them as files: :mod:`difcon_jax.match.export`);
    ``errors``: [(file, one-line reason)]. ``index``: False as ``--no-index`` (patterns nothing matches are not
    indexed), True indexes them (with ``settings.index``, or the default IndexSettings), None as ``settings``
    say. ``non_ambient``: as ``--non-ambient`` (also search the non-ambient entries that are another polymorph of
    a mineral the library holds at ambient conditions: :mod:`difcon_jax.match.conditions`)."""
    files = [files] if isinstance(files, (str, os.PathLike)) else list(files)
    restraints = Restraints(parse_elements(elements, "--elements"), parse_elements(only_elements, "--only-elements"),
                            parse_elements(exclude_elements, "--exclude-elements"), non_ambient)
    ident = Identifier.load(model, library)
    settings = settings or IdentifySettings()
    if index is not None and (settings.index is not None) != index:
        settings = dataclasses.replace(settings, index=IndexSettings() if index else None)
    xs, ws, good, errors, anodes, wavelengths = [], [], [], [], [], []
    for f in files:
        try:
            inp = read_model_input(f, ident.cfg.augment, wavelength)
            x, (lo, hi) = inp.profile, inp.coverage
            w = ((ident.grid.centres >= lo) & (ident.grid.centres <= hi)).astype(np.float32)
            if np.count_nonzero(x[w > 0] > 0.05) < 3:
                raise InputError(f, "no peaks: nothing stands above 5 % of the maximum after background removal")
            xs.append(x)
            ws.append(w)
            good.append(f)
            anodes.append(nearest_anode(inp.measured.wavelength))
            wavelengths.append(float(inp.measured.wavelength))
        except (InputError, ValueError) as e:
            errors.append((str(f), " ".join(str(e).split())))
    if not xs:
        return [], errors
    results = identify_profiles(ident, np.stack(xs), np.stack(ws), restraints, settings, top, anodes)
    # the folders the library was built from: where its entries' own CIFs were (match/export.py)
    roots = [os.path.dirname(s.rstrip("/")) for s in ident.index.db.meta.get("sources", [])]
    for f, r, lam in zip(good, results, wavelengths):
        r["file"] = str(f)
        r["grid"] = ident.grid.as_dict()
        r["wavelength"] = lam
        r["_reference_roots"] = roots
    return results, errors

"""Predictions for users' measured files: top-k crystal systems, extinction groups and space groups."""

from __future__ import annotations

import logging
import os
from typing import NamedTuple

import numpy as np

from difcon_jax.crystal.radiation import nearest_anode
from difcon_jax.crystal.reduced_cell import cell_volume
from difcon_jax.crystal.symmetry import CRYSTAL_SYSTEMS, extinction_group_table, space_group_symbol
from difcon_jax.errors import CheckpointError, InputError
from difcon_jax.files import atomic_savefig
from difcon_jax.grid import Grid
from difcon_jax.inference.model_dir import PACKAGED_MODEL
from difcon_jax.inference.predictor import Predictor
from difcon_jax.patterns.doublet import network_view
from difcon_jax.patterns.preprocess import MIN_COVERAGE_DEG, coverage, to_model_input
from difcon_jax.patterns.reader import read_pattern

log = logging.getLogger(__name__)


class ModelInput(NamedTuple):
    """One measured file on the model's grid: the profile, the reading, the covered 2θ range (degrees at
    λ_ref) and whether it is too narrow to trust."""
    profile: np.ndarray
    measured: object
    coverage: tuple[float, float]
    narrow: bool


def read_model_input(path: str, aug, wavelength: float | None = None) -> ModelInput:
    """A measured file as the model's input, warning (log) about what the user should know."""
    m = read_pattern(path, wavelength)
    if m.wavelength_source == "default":
        log.warning("%s: no wavelength in the file and none given; ASSUMING Cu Kα %s Å (use --wavelength)",
                    path, m.wavelength)
    if m.scans > 1:
        log.warning("%s: %d scans in the file; predicting the first", path, m.scans)
    if m.skipped_lines:
        log.warning("%s: dropped malformed line(s) %s", path, list(m.skipped_lines)[:5])
    if m.offset > 0:
        log.warning("%s: intensities down to %g (a background-subtracted file?); lifted by %g counts, which the "
                    "background removal takes away again", path, -m.offset, m.offset)
    lo, hi = coverage(m, aug)
    narrow = hi - lo < MIN_COVERAGE_DEG
    if narrow:
        log.warning("%s: the scan covers only %.1f–%.1f° 2θ (at %s Å) of the model's %g–%g°; flagged uncertain",
                    path, lo, hi, aug.lambda_ref, aug.two_theta_min, aug.two_theta_max)
    return ModelInput(to_model_input(m, aug), m, (round(float(lo), 3), round(float(hi), 3)), narrow)


def _top(p: np.ndarray, k: int):
    idx = np.argsort(-p)[:k]
    return idx, p[idx]


def describe(pr: dict, i: int, top_k: int, eg_table) -> dict:
    """Top-k crystal systems, extinction groups and space groups of row ``i`` of predict's probabilities, and
    the lattice estimate (Niggli-reduced primitive cell) when the model has a lattice head."""
    cs_i, cs_p = _top(pr["crystal_system"][i], top_k)
    eg_i, eg_p = _top(pr["extinction_group"][i], top_k)
    sg_i, sg_p = _top(pr["space_group"][i], top_k)
    return {
        "crystal_system": [{"label": CRYSTAL_SYSTEMS[j], "p": round(float(p), 4)} for j, p in zip(cs_i, cs_p)],
        "extinction_group": [{"id": int(j), "symbol": eg_table[j]["symbol"], "p": round(float(p), 4)}
                             for j, p in zip(eg_i, eg_p)],
        "space_group": [{"number": int(j) + 1, "symbol": space_group_symbol(int(j) + 1), "p": round(float(p), 4)}
                        for j, p in zip(sg_i, sg_p)],
        **({"lattice_estimate": lattice_estimate(pr["reduced_cell"][i])} if "reduced_cell" in pr else {}),
    }


def lattice_estimate(cell) -> dict:
    """The lattice head's reduced cell as a dict: a, b, c (Å), alpha, beta, gamma (degrees), volume (Å³)."""
    a, b, c, al, be, ga = (float(v) for v in cell)
    volume = float(cell_volume(np.asarray(cell)))
    return {k: round(v, 3 if k in "abc" else 2) for k, v in
            zip(("a", "b", "c", "alpha", "beta", "gamma", "volume"), (a, b, c, al, be, ga, volume))}


def predict_files(files: list[str], model_dir: str | None = None, wavelength: float | None = None,
                  top_k: int = 3, predictor: Predictor | None = None, prior: str = "library"):
    """Returns (results, profiles, errors): one dict per readable file (the ``--json`` schema), the
    processed profiles, and [(file, one-line reason)] for the rest. Every good file is predicted; ``prior``
    the population the answer is for (:mod:`difcon_jax.inference.prior`), recorded in each result."""
    model_dir = model_dir or PACKAGED_MODEL
    predictor = predictor or Predictor.load(model_dir)
    aug = predictor.cfg.augment
    good, errors = [], []
    for f in files:
        try:
            good.append((f, read_model_input(f, aug, wavelength)))
        except (InputError, ValueError) as e:
            errors.append((f, " ".join(str(e).split())))
    if not good:
        return [], np.zeros((0, aug.n_bins), np.float32), errors
    x = np.stack([g.profile for _, g in good])
    # the network sees a single-line (Kα1-only) pattern with the Kα2 it was trained on (patterns/doublet.py)
    centres = predictor.grid.centres
    measured = np.stack([(centres >= g.coverage[0]) & (centres <= g.coverage[1]) for _, g in good])
    shown, added = network_view(x, predictor.grid, measured, [nearest_anode(g.measured.wavelength) for _, g in good])
    pr = predictor(shown, prior=prior)
    shown_prior = predictor.prior_applied(prior)  # 'none' where the model has nothing to correct with
    finite = np.all([np.isfinite(pr[k]).all(axis=1) for k in ("crystal_system", "extinction_group", "space_group")],
                    axis=0)
    if not finite.all():  # NaN parameters or a broken calibration: no answer rather than a NaN one
        raise CheckpointError(f"{model_dir}: the model gives non-finite probabilities (broken parameters or "
                              "calibration)")
    eg_table, grid, below = extinction_group_table(), predictor.grid.as_dict(), float(predictor.calibration["uncertain_below"])
    results = []
    for i, (f, g) in enumerate(good):
        r = {"file": f, "wavelength": g.measured.wavelength, "wavelength_source": g.measured.wavelength_source,
             "coverage": list(g.coverage), "grid": grid, "prior": shown_prior, "ka2_added": bool(added[i]),
             **describe(pr, i, top_k, eg_table)}
        r["uncertain"] = bool(r["space_group"][0]["p"] < below or g.narrow)
        results.append(r)
    return results, x, errors


def plot_predictions(results: list[dict], profiles: np.ndarray, path: str) -> str:
    """One panel per file: the model's input profile (2θ degrees on the reference scale, background removed,
    on the model's own grid: each result's ``grid``) titled with the answer (a result's ``answer``, when
    ``predict`` verified it) and the network's top predictions; PNG at ``path``."""
    import matplotlib  # plotting is optional work: matplotlib loads (file backend) only when a plot is asked for

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.2 * n), squeeze=False)
    for ax, r, y in zip(axes[:, 0], results, profiles):
        ax.plot(Grid.from_dict(r["grid"]).centres, y, lw=0.7, color="black")
        sg = ", ".join(f"{s['symbol']} (#{s['number']}) {s['p']:.2f}" for s in r["space_group"])
        cs = r["crystal_system"][0]
        a = r.get("answer")
        flag = " [uncertain]" if r["uncertain"] else ""  # the network's flag
        head = (f"answer {a['space_group']['symbol']} (#{a['space_group']['number']})"
                f"{', verified' if a['verified'] else ''} | network{flag}: " if a else f"network{flag}: ")
        ax.set_title(f"{os.path.basename(r['file'])}: {head}{cs['label']} {cs['p']:.2f} | {sg}", fontsize=8)
        ax.set_yticks([])
    lam = results[0]["grid"]["lambda_ref"]
    axes[-1, 0].set_xlabel(f"2θ (degrees at {lam:.4f} Å), background removed")
    fig.tight_layout()
    return atomic_savefig(fig, path, dpi=100)

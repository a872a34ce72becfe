"""Temperature scaling and the 'uncertain' threshold, fitted on SIMULATED patterns of the validation
structures only (split 2: held out from training and disjoint from the equivariance test set).

One temperature T divides every head's logits (CS, EG and the 7 SG heads), so the hierarchical p(SG)
stays consistent with p(CS); T minimises the summed negative log-likelihood of the three heads (a grid, then
refined between the best point's neighbours), scored after the correction to the validation structures' own
population (what predict shows them).
The uncertainty threshold is the smallest top-1 space-group probability above which the simulated
validation accuracy reaches ``target_precision`` (0.5 when none does). Real measured patterns are never
used here. The same file stores the training draw's space-group mass and the split's own group frequencies
(:func:`difcon_jax.inference.prior.prior_fields`), from which predictions are corrected to a population's
prior; the threshold is fitted on what predict shows for the validation structures' population (natural). The
strength of that correction (``natural_prior_strength``, :func:`difcon_jax.inference.prior.tempered_target`) is
fitted at the chosen temperature by the same summed NLL.
"""

from __future__ import annotations

import os

import numpy as np

from difcon_jax.augment.render import render_set
from difcon_jax.data.draw import source_row_weights
from difcon_jax.data.split import Split
from difcon_jax.files import atomic_write_json
from difcon_jax.inference.calibration import CALIBRATION_FILE, read_calibration
from difcon_jax.inference.forward import predict_logits, probabilities
from difcon_jax.inference.library import apply_library
from difcon_jax.inference.prior import label_shift, library_fields, prior_fields, tempered_target

#: strengths β of the natural prior's correction tried (:func:`difcon_jax.inference.prior.tempered_target`)
PRIOR_STRENGTHS = np.round(np.linspace(0.0, 1.0, 41), 3)


def _nll(p, labels):
    return -float(np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, None))))


#: the temperature's search: a grid over [0.25, 8] (one step a factor 1.09), then the minimum refined between the
#: best point's neighbours — on the grid alone G's T flipped between 1.68 and 1.83 with the validation renders
#: (the NLL is flat between them), and with it a few answers of the network alone
TEMPERATURE_GRID = np.exp(np.linspace(np.log(0.25), np.log(8.0), 41))


def _fit_temperature(loss) -> tuple[float, float]:
    """(loss, T) minimising ``loss(T)``: the best of :data:`TEMPERATURE_GRID`, refined by a bounded scalar search on
    log T between its grid neighbours (to 1e-4 in log T)."""
    from scipy.optimize import minimize_scalar

    losses = [loss(float(t)) for t in TEMPERATURE_GRID]
    i = int(np.argmin(losses))
    lo, hi = np.log(TEMPERATURE_GRID[max(i - 1, 0)]), np.log(TEMPERATURE_GRID[min(i + 1, len(TEMPERATURE_GRID) - 1)])
    r = minimize_scalar(lambda u: loss(float(np.exp(u))), bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    return (float(r.fun), float(np.exp(r.x))) if r.fun < losses[i] else (float(losses[i]), float(TEMPERATURE_GRID[i]))


def _validation_rows(table, n: int, seed: int):
    """(sorted rows, what they are): ``n`` validation structures of ``table``, or held-out test structures (or
    all) when it has none — said so in the calibration's ``fitted_on``."""
    split = np.asarray(table.split)
    rows, source = np.flatnonzero(split == Split.VALIDATION), "validation structures"
    if len(rows) == 0:  # a table built without a validation split: held-out test structures, said so
        rows, source = np.flatnonzero(split == Split.EQUIVARIANCE_TEST), "held-out test structures (the table has no validation split)"
    if len(rows) == 0:
        rows, source = np.arange(len(table)), "all structures (the table has no held-out split)"
    return np.sort(np.random.default_rng(seed).permutation(rows)[:n]), source


def _uncertain_threshold(p_sg: np.ndarray, sg: np.ndarray, target_precision: float) -> float:
    """The smallest top-1 probability (0.05 steps) above which the top-1 space group of p_sg float[B, 230] is
    right (labels ``sg``, 1–230) at least ``target_precision`` of the time, for ≥ 10 patterns; 0.5 if none."""
    conf = p_sg.max(1)
    correct = p_sg.argmax(1) + 1 == sg
    for t in np.linspace(0.05, 0.95, 19):
        sel = conf >= t
        if sel.sum() >= 10 and correct[sel].mean() >= target_precision:
            return float(t)
    return 0.5


def _heads_nll(pr: dict, cs, eg, sg) -> float:
    return _nll(pr["crystal_system"], cs) + _nll(pr["extinction_group"], eg) + _nll(pr["space_group"], sg - 1)


def fit_prior_strength(probs: dict, cs, eg, sg, fields: dict) -> tuple[float, dict]:
    """(β, {β: summed NLL of the three heads}) for the natural prior's correction of ``probs`` (the heads as
    trained, temperature applied) to the validation structures' population; labels ``cs``, ``eg`` (0-based) and
    ``sg`` (1–230). The smallest NLL on :data:`PRIOR_STRENGTHS`, as the temperature is chosen."""
    t, m = np.asarray(fields["natural_frequency"]), np.asarray(fields["sampling_mass"])
    losses = {float(b): round(_heads_nll(label_shift(probs, tempered_target(t, m, float(b)), m), cs, eg, sg), 5)
              for b in PRIOR_STRENGTHS}
    return min(losses, key=lambda b: (losses[b], -b)), losses


def refit_prior_strength(predictor, table, n: int = 2000, seed: int = 98765) -> dict:
    """``predictor``'s calibration with ``natural_prior_strength`` fitted on ``n`` simulated validation patterns of
    ``table`` (the one it was trained on) at its own temperature (``benchmarks/prior_strength.py``); the fit's
    curve is kept under ``prior_strength_nll``."""
    rows, source = _validation_rows(table, n, seed)
    x = render_set(table, rows, predictor.cfg.augment, seed)
    cs, eg, sg = (np.asarray(getattr(table, k))[rows] for k in ("crystal_system", "extinction_group", "space_group"))
    beta, losses = fit_prior_strength(predictor(x, blend=False, prior="none"), cs, eg, sg, predictor.calibration)
    return {**predictor.calibration, "natural_prior_strength": beta, "prior_strength_nll": losses,
            "prior_strength_fitted_on": f"{len(rows)} simulated patterns of {source}"}


def fit_calibration(cfg, model, params, table, n: int = 500, seed: int = 98765,
                    target_precision: float = 0.8, library: dict | None = None) -> dict:
    """Temperature and ``uncertain`` threshold from ``n`` simulated patterns of validation structures (see the
    module docstring); the threshold is fitted on what predict shows (library blended in)."""
    split = np.asarray(table.split)
    rows, source = _validation_rows(table, n, seed)
    x = render_set(table, rows, cfg.augment, seed)
    cs, eg, sg = (np.asarray(getattr(table, k))[rows] for k in ("crystal_system", "extinction_group", "space_group"))
    logits = predict_logits(model, params, x)  # one forward pass; each candidate T only rescales the logits
    power = float(cfg.data.get("sampling_power", 1.0))
    train = split == Split.TRAIN
    fields = prior_fields(np.asarray(table.space_group)[train], power,
                          source_row_weights(np.asarray(table.source_id)[train], cfg.data.get("source_weights", ())))

    def as_trained(t):  # the network's probabilities at temperature t
        return {k: np.asarray(v) for k, v in probabilities(logits, float(t)).items()}

    def shown(t, strength=1.0):  # …for the validation structures' population
        if not fields:  # a table without training structures has no draw to correct
            return as_trained(t)
        m = np.asarray(fields["sampling_mass"])
        return label_shift(as_trained(t), tempered_target(fields["natural_frequency"], m, strength), m)

    best = _fit_temperature(lambda t: _heads_nll(shown(t), cs, eg, sg))  # T calibrates what is shown: after the prior
    strength = {}
    if fields:  # then the correction's strength at that temperature (inference/prior.tempered_target)
        beta, _ = fit_prior_strength(as_trained(best[1]), cs, eg, sg, fields)
        strength = {"natural_prior_strength": beta}
    pr = apply_library(shown(best[1], strength.get("natural_prior_strength", 1.0)), library)  # what predict shows
    threshold = _uncertain_threshold(pr["space_group"], sg, target_precision)
    return {"temperature": best[1], "uncertain_below": threshold, "fitted_on": f"{len(rows)} simulated patterns of {source}",
            "target_precision": target_precision, "nll_sum": round(best[0], 4), **fields, **strength}


def training_library(library: dict | None, table) -> dict | None:
    """``library`` without the entries that are not training structures of ``table`` (matched by formula and
    space group; an entry the table lacks is left out too), so a validation pattern's votes cannot come from
    the very structure it was rendered from — the threshold would then be fitted on answers too easy. A library
    that does not say which structure each entry is stays whole."""
    if library is None or "formula" not in library:
        return library
    train = np.asarray(table.split) == Split.TRAIN
    known = set(zip(np.asarray(table.formula)[train].tolist(), np.asarray(table.space_group)[train].tolist()))
    keep = np.array([(f, int(s)) in known for f, s in zip(library["formula"].tolist(), library["space_group"])])
    return {**library, **{k: np.asarray(library[k])[keep] for k in ("h", "space_group", "formula")}}


def refit_uncertain(predictor, table, n: int = 500, seed: int = 98765, target_precision: float = 0.8) -> dict:
    """``predictor``'s calibration with the 'uncertain' threshold fitted again on what predict shows for ``n``
    simulated validation patterns of ``table`` (the one its networks were trained on): after member networks
    are added the shown probabilities are their mean, so the threshold fitted for one network no longer holds.
    Each network keeps its own temperature; the library votes with its training structures only
    (:func:`training_library`)."""
    rows, source = _validation_rows(table, n, seed)
    x = render_set(table, rows, predictor.cfg.augment, seed)
    pr = predictor._replace(library=training_library(predictor.library, table))(x, blend=True, prior="natural")
    threshold = _uncertain_threshold(pr["space_group"], np.asarray(table.space_group)[rows], target_precision)
    return {**predictor.calibration, "uncertain_below": threshold, "target_precision": target_precision,
            "uncertain_fitted_on": f"{len(rows)} simulated patterns of {source}, "
                                   f"{1 + len(predictor.members)} networks averaged"}


def write_calibration(workdir: str, calib: dict) -> str:
    """Write ``calibration.json`` into ``workdir`` atomically (read back by
    :func:`difcon_jax.inference.calibration.read_calibration`); returns its path."""
    return atomic_write_json(os.path.join(workdir, CALIBRATION_FILE), calib)


def record_library_frequency(model_dir: str, library_space_groups) -> str | None:
    """Store the space-group frequencies of the reference library a model folder now carries in its
    ``calibration.json`` (``library_frequency``: the population its 'library' answers are for, kept when the
    reference file is left out); returns the path, or None when the folder has no calibration to extend."""
    if not os.path.exists(os.path.join(model_dir, CALIBRATION_FILE)):
        return None
    calib = read_calibration(model_dir)
    calib.update(library_fields(library_space_groups))
    return write_calibration(model_dir, calib)

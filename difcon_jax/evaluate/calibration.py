"""Temperature scaling and the 'uncertain' threshold, fitted on SIMULATED patterns of the validation
structures only (split 2: held out from training and disjoint from the equivariance test set).

One temperature T divides every head's logits (CS, EG and the 7 SG heads), so the hierarchical p(SG)
stays consistent with p(CS); T minimises the summed negative log-likelihood of the three heads on a grid.
The uncertainty threshold is the smallest top-1 space-group probability above which the simulated
validation accuracy reaches ``target_precision`` (0.5 when none does). Real measured patterns are never
used here.
"""

from __future__ import annotations

import json
import os

import numpy as np

from difcon_jax.data.split import Split


def _nll(p, labels):
    return -float(np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, None))))


def fit_calibration(cfg, model, params, table, n: int = 500, seed: int = 98765,
                    target_precision: float = 0.8, library: dict | None = None) -> dict:
    """Temperature and ``uncertain`` threshold from ``n`` simulated patterns of validation structures (see the
    module docstring); the threshold is fitted on what predict shows (library blended in)."""
    from difcon_jax.evaluate.axes import render_set
    from difcon_jax.train.predict import predict_logits, probabilities

    split = np.asarray(table.split)
    rows, source = np.flatnonzero(split == Split.VALIDATION), "validation structures"
    if len(rows) == 0:  # a table built without a validation split: held-out test structures, said so
        rows, source = np.flatnonzero(split == Split.EQUIVARIANCE_TEST), "held-out test structures (the table has no validation split)"
    if len(rows) == 0:
        rows, source = np.arange(len(table)), "all structures (the table has no held-out split)"
    rows = np.sort(np.random.default_rng(seed).permutation(rows)[:n])
    x = render_set(table, rows, cfg.augment, seed, batch=int(cfg.eval.batch_size))
    cs, eg, sg = (np.asarray(getattr(table, k))[rows] for k in ("crystal_system", "extinction_group", "space_group"))
    logits = predict_logits(model, params, x)  # one forward pass; each candidate T only rescales the logits
    best = (np.inf, 1.0)
    for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 41)):
        pr = {k: np.asarray(v) for k, v in probabilities(logits, float(t)).items()}
        loss = _nll(pr["crystal_system"], cs) + _nll(pr["extinction_group"], eg) + _nll(pr["space_group"], sg - 1)
        if loss < best[0]:
            best = (loss, float(t))
    from difcon_jax.evaluate.library import apply_library

    pr = apply_library({k: np.asarray(v) for k, v in probabilities(logits, best[1]).items()}, library)  # the threshold sees what predict shows
    conf = pr["space_group"].max(1)
    correct = pr["space_group"].argmax(1) + 1 == sg
    threshold = 0.5
    for t in np.linspace(0.05, 0.95, 19):
        sel = conf >= t
        if sel.sum() >= 10 and correct[sel].mean() >= target_precision:
            threshold = float(t)
            break
    return {"temperature": best[1], "uncertain_below": threshold, "fitted_on": f"{len(rows)} simulated patterns of {source}",
            "target_precision": target_precision, "nll_sum": round(best[0], 4)}


def write_calibration(workdir: str, calib: dict) -> str:
    """Write ``calibration.json`` into ``workdir`` atomically; returns its path."""
    from difcon_jax.files import atomic_write_json

    return atomic_write_json(os.path.join(workdir, "calibration.json"), calib)


def read_calibration(workdir: str) -> dict:
    """``calibration.json`` of a model folder; uncalibrated defaults when there is none. A file that is there
    but broken (not an object, temperature not a positive number, threshold outside [0, 1]) is an error."""
    from difcon_jax.train.checkpoint import CheckpointError

    path = os.path.join(workdir, "calibration.json")
    if not os.path.exists(path):
        return {"temperature": 1.0, "uncertain_below": 0.5, "fitted_on": "none (uncalibrated)"}
    try:
        with open(path) as fh:
            c = json.load(fh)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: unreadable calibration ({type(e).__name__})") from None
    try:
        t, u = float(c["temperature"]), float(c["uncertain_below"])
    except (TypeError, KeyError, ValueError):
        raise CheckpointError(f"{path}: needs numeric 'temperature' and 'uncertain_below'") from None
    if not (np.isfinite(t) and t > 0 and 0.0 <= u <= 1.0):
        raise CheckpointError(f"{path}: temperature {t} must be > 0 and uncertain_below {u} in [0, 1]")
    return c

"""A model's ``calibration.json``: the temperature that divides every head's logits and the top-1
space-group probability below which an answer is marked uncertain (fitted on simulated validation patterns
by :mod:`difcon_jax.evaluate.calibration`; read here), and the training draw's space-group mass with the
split's own frequencies (counted from the training split; :mod:`difcon_jax.inference.prior`)."""

from __future__ import annotations

import json
import os

import numpy as np

from difcon_jax.errors import CheckpointError
from difcon_jax.inference.prior import check_prior_fields

CALIBRATION_FILE = "calibration.json"
UNCALIBRATED = {"temperature": 1.0, "uncertain_below": 0.5, "fitted_on": "none (uncalibrated)"}


def read_calibration(model_dir: str) -> dict:
    """``calibration.json`` of a model folder; uncalibrated defaults when there is none. A file that is there
    but broken (not an object, temperature not a positive number, threshold outside [0, 1]) is an error."""
    path = os.path.join(model_dir, CALIBRATION_FILE)
    if not os.path.exists(path):
        return dict(UNCALIBRATED)
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
    bad = check_prior_fields(c)
    if bad:
        raise CheckpointError(f"{path}: {bad}")
    return c

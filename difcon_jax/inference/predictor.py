"""A loaded model as one callable: profiles → probabilities as ``predict`` shows them (temperature-scaled,
corrected to the population's space-group prior, blended with the model's reference library), or the
network's own. Every evaluation and every user-facing prediction goes through it, so all of them score the
same thing."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from difcon_jax.grid import Grid
from difcon_jax.inference.calibration import UNCALIBRATED, read_calibration
from difcon_jax.inference.forward import predict
from difcon_jax.inference.library import apply_library, read_library
from difcon_jax.inference.model_dir import load_model
from difcon_jax.inference.prior import label_shift, prior_target


class Predictor(NamedTuple):
    """(config, model, parameters) with the calibration and library they are shown with."""
    cfg: Any
    model: Any
    params: Any
    calibration: dict
    library: dict | None

    @classmethod
    def load(cls, path: str, step: int | None = None) -> "Predictor":
        """The model folder or training directory ``path`` (latest or given checkpoint) with its calibration and
        library (both optional)."""
        cfg, model, params = load_model(path, step)
        return cls(cfg, model, params, read_calibration(path), read_library(path))

    @classmethod
    def of(cls, cfg, model, params, calibration: dict | None = None, library: dict | None = None) -> "Predictor":
        return cls(cfg, model, params, calibration or dict(UNCALIBRATED), library)

    @property
    def temperature(self) -> float:
        return float(self.calibration["temperature"])

    @property
    def grid(self) -> Grid:
        return Grid.of(self.cfg.augment)

    def prior_applied(self, prior: str) -> str:
        """The name of the correction ``self(…, prior=prior)`` makes: ``prior``, or 'none' when this model has
        nothing to correct with (no stored training mass; 'library' without a library or its frequencies)."""
        return prior if prior_target(self.calibration, self.library, prior) is not None else "none"

    def __call__(self, profiles: np.ndarray, blend: bool = True, prior: str = "library") -> dict:
        """Probabilities for profiles float[B, n_bins] (see :func:`difcon_jax.inference.forward.predict`),
        corrected to the space-group frequencies of ``prior`` (:mod:`difcon_jax.inference.prior`: 'library' —
        the reference library's, what ``predict`` shows; 'natural' — the training split's own, the population
        of the simulated axes; 'none' — the training draw's, the heads as trained); with ``blend`` the
        reference library's votes are mixed in as ``predict`` shows them."""
        probs = predict(self.model, self.params, profiles, max_batch=int(self.cfg.eval.batch_size),
                        temperature=self.temperature)
        target = prior_target(self.calibration, self.library, prior)
        if target is not None:
            probs = label_shift(probs, target, np.asarray(self.calibration["sampling_mass"], np.float64))
        return apply_library(probs, self.library) if blend else probs

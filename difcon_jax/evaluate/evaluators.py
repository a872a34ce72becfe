"""Evaluators, after big_vision's ``evaluators/``: each one a set of patterns with labels, rendered or read
once, that scores any predictor ``predictor(profiles, blend=bool) -> probabilities`` (a
:class:`~difcon_jax.inference.predictor.Predictor`, or HAND's forest). ``cfg.eval.axes`` lists the simulated
ones; training runs them every ``cfg.eval.every_steps`` steps, and ``train``, ``evaluate``, ``experiment`` and
``curve`` all score through :func:`run_evaluators`, so they report the same numbers for the same model.

* ``equivariance`` — structures of the held-out split (Split.EQUIVARIANCE_TEST), training augmentation;
* ``invariance`` — training structures, the held-out sources and ranges of ``cfg.eval.invariance``;
* ``training`` — training structures, training augmentation: how well the model fits what it was taught
  (an underfitting model and an overfitting one need opposite remedies);
* a labelled folder of measured patterns (as ``predict`` shows them, and the network alone);
* ``similarity`` — the paper's Fig. 4 summary (representations of S structures × A augmentations).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Callable

import ml_collections
import numpy as np

from difcon_jax.augment.render import render_set
from difcon_jax.data.split import Split
from difcon_jax.evaluate.report import score
from difcon_jax.evaluate.similarity import similarity_summary, similarity_views
from difcon_jax.patterns.labelled import load_labelled

log = logging.getLogger(__name__)
SIMULATED_AXES = ("equivariance", "invariance", "training")


@dataclasses.dataclass
class LabelledSet:
    """Profiles float32[M, n_bins] with their space groups int[M]; ``blend``: score what ``predict`` shows
    (library mixed in) rather than the network alone."""
    name: str
    profiles: np.ndarray
    space_group: np.ndarray
    blend: bool = False
    rows: np.ndarray | None = None  # peak-table rows of a simulated set

    def __call__(self, predictor: Callable) -> dict:
        if not len(self.space_group):
            return {"n": 0}
        return score(predictor(self.profiles, blend=self.blend), self.space_group)


@dataclasses.dataclass
class SimilarityEvaluator:
    """Fig. 4: cosine similarity of the representations of rendered views (kept in ``matrix`` for the plot)."""
    views: np.ndarray
    structure_of_view: np.ndarray
    structures: int
    name: str = "similarity"
    matrix: np.ndarray | None = None

    def __call__(self, predictor: Callable) -> dict:
        h = predictor(self.views, blend=False)["representation"]
        self.matrix, summary = similarity_summary(h, self.structure_of_view)
        return {"structures": self.structures, **summary}


def invariance_augment(cfg):
    """The invariance axis' augmentation config: the model's own (grid, input path, switches) with the
    held-out ``sources`` and ``ranges`` of ``cfg.eval.invariance``."""
    aug = ml_collections.ConfigDict(cfg.augment.to_dict())
    aug.sources = cfg.eval.invariance.sources
    aug.ranges = ml_collections.ConfigDict(cfg.eval.invariance.ranges.to_dict())
    return aug


def simulated_axes(cfg, table, names=SIMULATED_AXES, seed: int = 1234) -> list[LabelledSet]:
    """The simulated axes ``names`` with ``cfg.eval.num_structures`` structures each, rendered once."""
    unknown = sorted(set(names) - set(SIMULATED_AXES))
    if unknown:
        raise ValueError(f"eval.axes: unknown axis {', '.join(unknown)} (known: {', '.join(SIMULATED_AXES)})")
    n, batch = int(cfg.eval.num_structures), int(cfg.eval.batch_size)
    split = np.asarray(table.split)
    rng = np.random.default_rng(seed)  # equivariance then invariance rows, as every earlier report drew them
    drawn = {"equivariance": (np.sort(rng.permutation(np.flatnonzero(split == Split.EQUIVARIANCE_TEST))[:n]), cfg.augment),
             "invariance": (np.sort(rng.permutation(np.flatnonzero(split == Split.TRAIN))[:n]), invariance_augment(cfg)),
             "training": (np.sort(np.random.default_rng(seed + 1).permutation(np.flatnonzero(split == Split.TRAIN))[:n]),
                          cfg.augment)}
    sg = np.asarray(table.space_group)
    return [LabelledSet(name, render_set(table, drawn[name][0], drawn[name][1], seed, batch), sg[drawn[name][0]],
                        rows=drawn[name][0]) for name in names]


def measured_folders(cfg, folders=(), wavelength: float | None = None, network_only: bool = True):
    """([LabelledSet], [(file, reason)] skipped): each labelled folder as ``predict`` shows it and, with
    ``network_only``, a ``<name>_network_only`` set scoring the network without its library."""
    sets, failed = [], []
    for folder in folders:
        x, sgs, bad = load_labelled(folder, cfg.augment, wavelength)
        failed += bad
        name = os.path.basename(os.path.normpath(folder))
        sets.append(LabelledSet(name, x, sgs, blend=True))
        if network_only:
            sets.append(LabelledSet(name + "_network_only", x, sgs, blend=False))
    return sets, failed


def similarity_evaluator(cfg, table, n_structures: int = 100, n_aug: int = 8, seed: int = 7) -> SimilarityEvaluator:
    views, idx, rows = similarity_views(cfg, table, n_structures, n_aug, seed)
    return SimilarityEvaluator(views, idx, int(len(rows)))


def run_evaluators(evaluators, predictor: Callable) -> dict:
    """{evaluator name: its result} for one predictor."""
    return {e.name: e(predictor) for e in evaluators}

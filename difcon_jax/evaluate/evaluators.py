"""Evaluators, after big_vision's ``evaluators/``: each one a set of patterns with labels, rendered or read
once, that scores any predictor ``predictor(profiles, blend=bool) -> probabilities`` (a
:class:`~difcon_jax.inference.predictor.Predictor`, or HAND's forest). ``cfg.eval.axes`` lists the simulated
ones; training runs them every ``cfg.eval.every_steps`` steps, and ``train``, ``evaluate``, ``experiment`` and
``curve`` all score through :func:`run_evaluators`, so they report the same numbers for the same model.

* ``equivariance`` — structures of the held-out split (Split.EQUIVARIANCE_TEST), training augmentation;
* ``invariance`` — training structures, the held-out sources and ranges of ``cfg.eval.invariance``;
* ``training`` — training structures, training augmentation: how well the model fits what it was taught
  (an underfitting model and an overfitting one need opposite remedies);
* ``cross_simulator`` — held-out structures (``cfg.eval.cross_simulator_structures`` of them) rendered by an
  independent simulator (:mod:`difcon_jax.evaluate.lab_renderer`: TCH profiles, axial asymmetry, Kβ, points
  at a random step, Poisson counts) and read through the measured-file path: the renderer's style gap;
* ``textbook`` — the classic phases of :mod:`difcon_jax.evaluate.textbook` rendered by that simulator with and
  without Kα2;
* each set drawn from the table is also scored by how many isotypes of its structures the training split holds
  (:mod:`difcon_jax.evaluate.isotypes`: learned diffraction, or recognised the types it was taught);
* a labelled folder of measured patterns (as ``predict``'s network lines show them, and the network alone);
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
from difcon_jax.crystal.radiation import nearest_anode
from difcon_jax.crystal.symmetry import crystal_system_array
from difcon_jax.data.split import Split
from difcon_jax.evaluate.isotypes import by_isotypes, isotype_counts
from difcon_jax.evaluate.lab_renderer import render_lab_pattern
from difcon_jax.evaluate.report import cell_errors, score
from difcon_jax.evaluate.similarity import similarity_summary, similarity_views
from difcon_jax.evaluate.textbook import textbook_sticks
from difcon_jax.grid import Grid
from difcon_jax.patterns.doublet import network_view
from difcon_jax.patterns.labelled import load_labelled
from difcon_jax.patterns.preprocess import to_model_input

log = logging.getLogger(__name__)
SIMULATED_AXES = ("equivariance", "invariance", "training", "cross_simulator", "textbook")
#: axes ``evaluate`` reports whatever the config lists (independent of our renderer)
INDEPENDENT_AXES = ("cross_simulator", "textbook")


@dataclasses.dataclass
class LabelledSet:
    """Profiles float32[M, n_bins] with their space groups int[M]; ``blend``: score what ``predict`` shows
    (library mixed in) rather than the network alone; ``prior``: the population the set is drawn from
    (:mod:`difcon_jax.inference.prior`: 'natural' for structures drawn from the table's splits, 'library' for
    measured minerals). A calibrated model is also scored without the correction (``without_prior``)."""
    name: str
    profiles: np.ndarray
    space_group: np.ndarray
    blend: bool = False
    rows: np.ndarray | None = None  # peak-table rows of a simulated set
    reduced_cell: np.ndarray | None = None  # float[M, 6] true reduced cells (Å, degrees), when the table has them
    prior: str = "natural"
    # measured files and the lab simulator's patterns as predict and identify show them to the network (a single-line
    # pattern with Kα2 added: patterns/doublet.py); None: ``profiles`` themselves (the training renderer's views)
    shown: np.ndarray | None = None
    # int[M]: training rows of the same structure type (evaluate/isotypes.py), when the set is drawn from a table
    isotypes: np.ndarray | None = None

    def __call__(self, predictor: Callable) -> dict:
        if not len(self.space_group):
            return {"n": 0}
        x = self.profiles if self.shown is None else self.shown
        applied = predictor.prior_applied(self.prior) if hasattr(predictor, "prior_applied") else "none"
        probs = predictor(x, blend=self.blend, prior=self.prior) if applied != "none" else \
            predictor(x, blend=self.blend)
        out = score(probs, self.space_group)
        if applied != "none":  # a Predictor with a stored prior for this population
            raw = score(predictor(x, blend=self.blend, prior="none"), self.space_group)
            out["prior"] = self.prior
            out["without_prior"] = {k: raw[k] for k in ("acc_cs", "acc_eg", "acc_sg", "top5_sg")}
        if "reduced_cell" in probs and self.reduced_cell is not None:  # the lattice head's error
            out.update(cell_errors(probs["reduced_cell"], self.reduced_cell))
        if self.isotypes is not None:  # learned diffraction, or recognised the types it was taught?
            sg_pred = np.asarray(probs["space_group"]).argmax(1) + 1
            cs_true = crystal_system_array()[np.asarray(self.space_group)]
            out["by_isotypes"] = by_isotypes(sg_pred == self.space_group,
                                             np.asarray(probs["crystal_system"]).argmax(1) == cs_true, self.isotypes)
        return out


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
    """The simulated axes ``names`` (``cfg.eval.num_structures`` structures each; the cross-simulator axis
    ``cfg.eval.cross_simulator_structures``), rendered once."""
    unknown = sorted(set(names) - set(SIMULATED_AXES))
    if unknown:
        raise ValueError(f"eval.axes: unknown axis {', '.join(unknown)} (known: {', '.join(SIMULATED_AXES)})")
    n = int(cfg.eval.num_structures)
    split = np.asarray(table.split)
    rng = np.random.default_rng(seed)  # equivariance then invariance rows, as every earlier report drew them
    drawn = {"equivariance": (np.sort(rng.permutation(np.flatnonzero(split == Split.EQUIVARIANCE_TEST))[:n]), cfg.augment),
             "invariance": (np.sort(rng.permutation(np.flatnonzero(split == Split.TRAIN))[:n]), invariance_augment(cfg)),
             "training": (np.sort(np.random.default_rng(seed + 1).permutation(np.flatnonzero(split == Split.TRAIN))[:n]),
                          cfg.augment)}
    sg = np.asarray(table.space_group)
    out = []
    parsed: dict = {}  # the table's formulas parsed once for every axis's isotype counts
    for name in names:
        if name == "cross_simulator":
            out.append(cross_simulator_set(cfg, table, seed + 2, parsed))
        elif name == "textbook":
            out.append(textbook_set(cfg, seed + 3))
        else:
            rows, aug = drawn[name]
            out.append(LabelledSet(name, render_set(table, rows, aug, seed), sg[rows], rows=rows,
                                   reduced_cell=_cells(table, rows), isotypes=_isotypes(table, rows, parsed)))
    return out


def _isotypes(table, rows, parsed: dict | None = None) -> np.ndarray:
    """int[len(rows)]: each row's isotypes in the training split (:mod:`difcon_jax.evaluate.isotypes`)."""
    return isotype_counts(table.space_group, table.formula, np.asarray(table.split) == Split.TRAIN, rows,
                          cache=parsed)


def cross_simulator_set(cfg, table, seed: int, parsed: dict | None = None) -> LabelledSet:
    """Held-out structures' sticks rendered by the independent lab simulator (80 % with Kα2), then read as
    measured files: ``cfg.eval.cross_simulator_structures`` of them."""
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(np.asarray(table.split) == Split.EQUIVARIANCE_TEST)
    rows = np.sort(rng.permutation(rows)[:int(cfg.eval.cross_simulator_structures)])
    xs = []
    for r in rows:
        m = np.asarray(table.mask[r])
        lab = render_lab_pattern(rng, np.asarray(table.two_theta[r])[m], np.asarray(table.intensity[r])[m],
                                 np.asarray(table.po_cos2[r])[m], np.asarray(table.po_weight[r])[m],
                                 lambda_ref=float(cfg.augment.lambda_ref), ka2=bool(rng.random() < 0.8))
        xs.append(to_model_input(lab, cfg.augment))
    x = np.stack(xs) if xs else np.zeros((0, cfg.augment.n_bins), np.float32)
    return LabelledSet("cross_simulator", x, np.asarray(table.space_group)[rows], rows=rows,
                       reduced_cell=_cells(table, rows), shown=network_view(x, Grid.of(cfg.augment))[0],
                       isotypes=_isotypes(table, rows, parsed))


def _cells(table, rows) -> np.ndarray | None:
    return None if table.reduced_cell is None else np.asarray(table.reduced_cell[rows], np.float64)


def textbook_set(cfg, seed: int) -> LabelledSet:
    """Every textbook phase rendered by the independent lab simulator twice: with and without Kα2."""
    rng = np.random.default_rng(seed)
    lam = float(cfg.augment.lambda_ref)
    sticks = textbook_sticks(float(cfg.augment.two_theta_max) + 5.0, lam)
    xs, sgs = [], []
    for ka2 in (True, False):
        for name, sg, tt, intensity in sticks:
            xs.append(to_model_input(render_lab_pattern(rng, tt, intensity, lambda_ref=lam, ka2=ka2, source=name),
                                     cfg.augment))
            sgs.append(sg)
    # classic known phases, not drawn from the table: the known-phase population of the library, as a user's are
    x = np.stack(xs)
    return LabelledSet("textbook", x, np.asarray(sgs), prior="library", shown=network_view(x, Grid.of(cfg.augment))[0])


def measured_folders(cfg, folders=(), wavelength: float | None = None, network_only: bool = True):
    """([LabelledSet], [(file, reason)] skipped): each labelled folder as ``predict``'s network lines show it (the
    heads with the library's kNN vote; ``predict``'s answer, decided by whole-pattern fits, is scored by
    ``benchmarks/predict_answer.py``) and, with ``network_only``, a ``<name>_network_only`` set scoring the network
    without its library."""
    sets, failed = [], []
    for folder in folders:
        x, sgs, bad = load_labelled(folder, cfg.augment, wavelength)
        failed += bad
        name = os.path.basename(os.path.normpath(folder))
        grid = Grid.of(cfg.augment)
        shown = network_view(x, grid, None, [nearest_anode(wavelength or grid.lambda_ref)] * len(x))[0]
        sets.append(LabelledSet(name, x, sgs, blend=True, prior="library", shown=shown))
        if network_only:
            sets.append(LabelledSet(name + "_network_only", x, sgs, blend=False, prior="library", shown=shown))
    return sets, failed


def similarity_evaluator(cfg, table, n_structures: int = 100, n_aug: int = 8, seed: int = 7) -> SimilarityEvaluator:
    views, idx, rows = similarity_views(cfg, table, n_structures, n_aug, seed)
    return SimilarityEvaluator(views, idx, int(len(rows)))


def run_evaluators(evaluators, predictor: Callable) -> dict:
    """{evaluator name: its result} for one predictor."""
    return {e.name: e(predictor) for e in evaluators}

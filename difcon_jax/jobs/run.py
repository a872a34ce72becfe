"""``train_and_evaluate(cfg, workdir)``: the whole job behind ``difcon-jax train`` (flax examples' shape: the CLI
only parses arguments and calls this). Train (resuming), then on process 0: calibration on the validation
structures, the reference library of training structures when the config asks for one, and the
equivariance / invariance summary."""

from __future__ import annotations

import logging
import os

import jax
import numpy as np

from difcon_jax.data.prepare import prepare_table
from difcon_jax.data.split import Split
from difcon_jax.evaluate.calibration import fit_calibration, write_calibration
from difcon_jax.evaluate.evaluators import run_evaluators, simulated_axes
from difcon_jax.evaluate.report import write_summary
from difcon_jax.inference.library import LIBRARY_FILE, build_library, write_library
from difcon_jax.inference.model_dir import load_model, model_of
from difcon_jax.inference.predictor import Predictor
from difcon_jax.inference.prior import library_fields
from difcon_jax.train.loop import train

log = logging.getLogger(__name__)


def library_rows(cfg, table, splits=(Split.TRAIN,)) -> np.ndarray:
    """Rows of the reference library: the given splits, filtered by ``cfg.eval.library_sources`` (substrings
    of the source id; empty = every source), capped at ``cfg.eval.library_max_structures`` (0 = no cap)."""
    keep = np.isin(np.asarray(table.split), splits)
    sources = tuple(cfg.eval.library_sources or ())
    if sources:
        src = np.asarray(table.source_id).astype(str)
        keep &= np.any([np.char.find(src, s) >= 0 for s in sources], axis=0)
    rows = np.flatnonzero(keep)
    cap = int(cfg.eval.library_max_structures)
    if cap and len(rows) > cap:
        rows = np.sort(np.random.default_rng(0).permutation(rows)[:cap])
    return rows


def calibrate_and_index(cfg, model, params, table, workdir: str) -> tuple[dict, dict | None]:
    """(calibration, library): the reference library (``cfg.eval.library_views`` > 0) of training
    structures, then temperature and ``uncertain`` threshold on simulated validation patterns as predict
    will show them. Structures of the held-out splits named in ``cfg.eval.library_extra_splits`` join the
    library only after calibration (more references for measured patterns; the validation structures
    must not be found by the threshold's own fit). Both are written into ``workdir``."""
    library = None
    views = int(cfg.eval.library_views)
    rows = library_rows(cfg, table) if views > 0 else np.zeros(0, int)
    if views > 0 and len(rows) == 0:
        log.warning("no training structures match library_sources %s; no reference library",
                    tuple(cfg.eval.library_sources))
    if len(rows):
        batch = int(cfg.eval.batch_size)
        library = build_library(cfg, model, params, table, rows, views=views, batch=batch)
        library.update(k=int(cfg.eval.library_k), tau=float(cfg.eval.library_tau), alpha=float(cfg.eval.library_alpha))
    calib = fit_calibration(cfg, model, params, table, n=int(cfg.eval.num_structures), library=library)
    if library is None:  # a library of an earlier run with other settings must not outlive them
        if os.path.exists(os.path.join(workdir, LIBRARY_FILE)):
            os.remove(os.path.join(workdir, LIBRARY_FILE))
    else:
        extra = tuple(cfg.eval.library_extra_splits or ())
        extra_rows = library_rows(cfg, table, extra) if extra else np.zeros(0, int)
        if len(extra_rows):
            more = build_library(cfg, model, params, table, extra_rows, views=views, batch=batch)
            library.update(h=np.concatenate([library["h"], more["h"]]),
                           space_group=np.concatenate([library["space_group"], more["space_group"]]))
        write_library(workdir, library, library["k"], library["tau"], library["alpha"])
        calib.update(library_fields(library["space_group"]))  # the population 'library' answers are for
    write_calibration(workdir, calib)
    return calib, library


def scores_during_training(cfg, table, evaluators=None):
    """``on_eval(step, params)`` for :func:`~difcon_jax.train.loop.train`: the evaluators of ``cfg.eval.axes``
    (rendered now, once, unless given) scored with the parameters of the step — accuracies into metrics.jsonl, so a run's
    learning curve needs no extra pass. None when ``cfg.eval.every_steps`` is 0."""
    if int(cfg.eval.every_steps) <= 0:
        return None
    evaluators = evaluators if evaluators is not None else simulated_axes(cfg, table, tuple(cfg.eval.axes))
    model = model_of(cfg)

    def on_eval(step, params):
        predictor = Predictor.of(cfg, model, params)  # uncalibrated (T = 1): calibration comes after training
        return {name: {k: round(r.get(k, 0.0), 4) for k in ("acc_cs", "acc_sg", "top5_sg")}
                | ({"cell_err": round(r["cell_edge_rel_err_median"], 4)} if "cell_n" in r else {})
                for name, r in run_evaluators(evaluators, predictor).items()}
    return on_eval


def train_and_evaluate(cfg, workdir: str, evaluate: bool = True, evaluators=None) -> dict:
    """Train ``cfg`` in ``workdir`` and (process 0) calibrate, index and score it on ``cfg.eval.axes`` (or on
    ``evaluators`` already rendered, as the Table 2 experiment shares them between models); writes
    eval_summary.json and returns the summary."""
    on_eval = None
    if int(cfg.eval.every_steps) > 0 and jax.process_index() == 0:
        on_eval = scores_during_training(cfg, prepare_table(cfg, workdir), evaluators)
    last = train(cfg, workdir, on_eval).metrics
    report = {"mode": cfg.mode, "steps": int(cfg.num_steps), "train_metrics": last}
    if not evaluate or jax.process_index() != 0:
        return report
    cfg2, model, params = load_model(workdir)
    table = prepare_table(cfg2, workdir)
    calib, library = calibrate_and_index(cfg2, model, params, table, workdir)
    predictor = Predictor.of(cfg2, model, params, calib, library)
    evaluators = evaluators if evaluators is not None else simulated_axes(cfg2, table, tuple(cfg2.eval.axes))
    report.update(calibration=calib, **run_evaluators(evaluators, predictor))
    report["summary_path"] = write_summary(workdir, report)
    return report

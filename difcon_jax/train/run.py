"""``train_and_evaluate(cfg, workdir)``: the whole job behind ``difcon-jax train`` (flax examples' shape: the CLI
only parses arguments and calls this). Train (resuming), then on process 0: calibration on the validation
structures, the reference library of training structures when the config asks for one, and the
equivariance / invariance summary."""

from __future__ import annotations

import numpy as np


def calibrate_and_index(cfg, model, params, table, workdir: str) -> tuple[dict, dict | None]:
    """(calibration, library): the reference library (``cfg.eval.library_views`` > 0) of training
    structures, then temperature and ``uncertain`` threshold on simulated validation patterns as predict
    will show them. Both are written into ``workdir``."""
    from difcon_jax.evaluate.calibration import fit_calibration, write_calibration
    from difcon_jax.evaluate.library import build_library, write_library

    library = None
    views = int(cfg.eval.get("library_views", 0))
    if views > 0:
        rows = np.flatnonzero(np.asarray(table.split) == 0)
        cap = int(cfg.eval.get("library_max_structures", 0))
        if cap and len(rows) > cap:
            rows = np.sort(np.random.default_rng(0).permutation(rows)[:cap])
        library = build_library(cfg, model, params, table, rows, views=views, batch=int(cfg.eval.batch_size))
        k, tau, alpha = int(cfg.eval.library_k), float(cfg.eval.library_tau), float(cfg.eval.library_alpha)
        write_library(workdir, library, k, tau, alpha)
        library.update(k=k, tau=tau, alpha=alpha)
    calib = fit_calibration(cfg, model, params, table, n=int(cfg.eval.num_structures), library=library)
    write_calibration(workdir, calib)
    return calib, library


def train_and_evaluate(cfg, workdir: str, evaluate: bool = True) -> dict:
    """Train ``cfg`` in ``workdir`` and (process 0) calibrate, index and score it; returns the summary."""
    import jax

    from difcon_jax.evaluate.axes import evaluate_axes
    from difcon_jax.evaluate.report import write_summary
    from difcon_jax.train.loop import load_trained, prepare_table, train

    last = train(cfg, workdir)
    report = {"mode": cfg.mode, "steps": int(cfg.num_steps), "train_metrics": last}
    if not evaluate or jax.process_index() != 0:
        return report
    cfg2, model, params = load_trained(workdir)
    table = prepare_table(cfg2, workdir)
    calib, _ = calibrate_and_index(cfg2, model, params, table, workdir)
    report.update(calibration=calib, **evaluate_axes(cfg2, model, params, table, temperature=calib["temperature"]))
    report["summary_path"] = write_summary(workdir, report)
    return report

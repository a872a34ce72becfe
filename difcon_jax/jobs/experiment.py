"""One command for the project's Table 2: HAND, CNNstatic, CNNaug and DIFCON trained on the same
synthetic structures and scored on the same equivariance / invariance sets and measured folders."""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from difcon_jax.config import load_config
from difcon_jax.data.prepare import prepare_table
from difcon_jax.data.split import Split
from difcon_jax.evaluate.confusion import write_confusions
from difcon_jax.evaluate.evaluators import measured_folders, run_evaluators, similarity_evaluator, simulated_axes
from difcon_jax.evaluate.hand import HandModel, profile_features, stick_features
from difcon_jax.evaluate.report import write_report
from difcon_jax.evaluate.similarity import similarity_png
from difcon_jax.files import atomic_write_json, atomic_write_text
from difcon_jax.grid import Grid
from difcon_jax.inference.predictor import Predictor
from difcon_jax.jobs.run import train_and_evaluate

log = logging.getLogger(__name__)


def run_experiment(workdir: str, config_path: str, overrides: list[str], modes: list[str],
                   experimental: list[str], wavelength: float | None = None, command: str = "") -> dict:
    """The project's Table 2: train each mode of ``modes`` (and HAND) from one config, score every axis and
    measured folder with the same evaluators (rendered once), write ``report.md``/``.json``, confusions and
    Fig. 4 into ``workdir``."""
    os.makedirs(workdir, exist_ok=True)
    base = load_config(config_path, overrides)
    table_dir = base.data.table or os.path.join(workdir, "data")
    table = prepare_table(base, workdir)  # synthesises WORKDIR/data once (cfg.data.table empty)
    overrides = list(overrides) + [f"data.table={table_dir!r}"]
    simulated = simulated_axes(base, table, tuple(base.eval.axes))
    measured, failed = measured_folders(base, experimental, wavelength, network_only=int(base.eval.library_views) > 0)
    for f, reason in failed:
        log.warning("skipped %s", reason)
    results, timing = {}, {}

    t0 = time.time()
    train_rows = np.flatnonzero(np.asarray(table.split) == Split.TRAIN)
    hand = HandModel().fit(stick_features(table, train_rows), np.asarray(table.crystal_system)[train_rows],
                           np.asarray(table.extinction_group)[train_rows], np.asarray(table.space_group)[train_rows])
    grid = Grid.of(base.augment)
    results["HAND"] = run_evaluators(simulated + measured,
                                     lambda x, blend=True, prior="none": hand.predict(profile_features(x, grid)))
    timing["HAND"] = round(time.time() - t0, 1)

    similarity = similarity_evaluator(base, table)
    names = {"cnn_static": "CNNstatic", "cnn_aug": "CNNaug", "difcon": "DIFCON", "simclr": "SimCLR"}
    for mode in modes:
        t0 = time.time()
        name, wd = names.get(mode, mode), os.path.join(workdir, mode)
        cfg = load_config(config_path, overrides + [f"mode={mode!r}"])
        summary = train_and_evaluate(cfg, wd, evaluators=simulated)  # the `train` command's own path
        results[name] = {e.name: summary[e.name] for e in simulated}
        results[name].update(run_evaluators(measured + [similarity], Predictor.load(wd)))
        similarity_png(similarity.matrix, results[name]["similarity"], f"{name}: cosine similarity (Fig. 4)",
                       os.path.join(workdir, f"similarity_{name}.png"))
        timing[name] = round(time.time() - t0, 1)

    jpath, mpath = write_report(workdir, results)
    for model_name, res in results.items():
        for set_name, r in res.items():
            if set_name != "similarity":
                write_confusions(r, f"{model_name}: {set_name} (n={r.get('n')})",
                                 os.path.join(workdir, f"confusion_{{level}}_{model_name}_{set_name}.png"))
    meta = {"command": command, "config": config_path, "overrides": overrides, "structures": len(table),
            "train_structures": int(len(train_rows)), "seconds": timing}
    atomic_write_json(os.path.join(workdir, "experiment.json"), meta)
    atomic_write_text(mpath, open(mpath).read() + f"\nCommand: `{command}`\n\nStructures: {len(table)} synthetic "
                      f"({len(train_rows)} training); seconds per model: {timing}\n")
    return results

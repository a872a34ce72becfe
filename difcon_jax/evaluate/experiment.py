"""One command for the project's Table 2: HAND, CNNstatic, CNNaug and DIFCON trained on the same
synthetic structures and scored on the same equivariance / invariance sets and measured folders."""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from difcon_jax.data.split import Split


def run_experiment(workdir: str, config_path: str, overrides: list[str], modes: list[str],
                   experimental: list[str], wavelength: float | None = None, command: str = "") -> dict:
    """The project's Table 2: train each mode of ``modes`` (and HAND) from one config, score every axis and
    measured folder, write ``report.md``/``.json``, confusions and Fig. 4 into ``workdir``."""
    from difcon_jax.config import load_config
    from difcon_jax.evaluate.axes import axis_sets, load_experimental
    from difcon_jax.evaluate.confusion import write_confusions
    from difcon_jax.evaluate.hand import HandModel, profile_features, stick_features
    from difcon_jax.evaluate.report import score, write_report
    from difcon_jax.evaluate.similarity import similarity_matrix, similarity_png
    from difcon_jax.files import atomic_write_json, atomic_write_text
    from difcon_jax.train.loop import load_trained, prepare_table, train
    from difcon_jax.train.predict import predict
    from difcon_jax.train.run import calibrate_and_index

    os.makedirs(workdir, exist_ok=True)
    base = load_config(config_path, overrides)
    table_dir = base.data.table or os.path.join(workdir, "data")
    table = prepare_table(base, workdir)  # synthesises WORKDIR/data once (cfg.data.table empty)
    overrides = list(overrides) + [f"data.table={table_dir!r}"]
    sets = axis_sets(base, table)
    exp = {}
    for folder in experimental:
        x, sgs, failed = load_experimental(base, folder, wavelength)
        for f, reason in failed:
            print(f"difcon-jax: skipped {reason}", file=sys.stderr)
        exp[os.path.basename(os.path.normpath(folder))] = (x, sgs)
    sg_all = np.asarray(table.space_group)
    results, timing = {}, {}

    t0 = time.time()
    train_rows = np.flatnonzero(np.asarray(table.split) == Split.TRAIN)
    hand = HandModel().fit(stick_features(table, train_rows), np.asarray(table.crystal_system)[train_rows],
                           np.asarray(table.extinction_group)[train_rows], sg_all[train_rows])
    tt_max = float(base.augment.two_theta_max)  # the model grid's range (0–90° or 0–120°)
    results["HAND"] = {axis: score(hand.predict(profile_features(x, tt_max)), sg_all[rows])
                       for axis, (rows, x) in sets.items()}
    results["HAND"].update({name: score(hand.predict(profile_features(x, tt_max)), s)
                            for name, (x, s) in exp.items() if len(x)})
    timing["HAND"] = round(time.time() - t0, 1)

    names = {"cnn_static": "CNNstatic", "cnn_aug": "CNNaug", "difcon": "DIFCON", "simclr": "SimCLR"}
    for mode in modes:
        t0 = time.time()
        wd = os.path.join(workdir, mode)
        cfg = load_config(config_path, overrides + [f"mode={mode!r}"])
        train(cfg, wd)
        cfg, model, params = load_trained(wd)
        calib, _ = calibrate_and_index(cfg, model, params, table, wd)
        t = calib["temperature"]
        res = {axis: score(predict(model, params, x, temperature=t), sg_all[rows]) for axis, (rows, x) in sets.items()}
        res.update({name: score(predict(model, params, x, temperature=t), s) for name, (x, s) in exp.items() if len(x)})
        sim, res["similarity"] = similarity_matrix(cfg, model, params, table)
        similarity_png(sim, res["similarity"], f"{names.get(mode, mode)}: cosine similarity (Fig. 4)",
                       os.path.join(workdir, f"similarity_{names.get(mode, mode)}.png"))
        results[names.get(mode, mode)] = res
        timing[names.get(mode, mode)] = round(time.time() - t0, 1)

    jpath, mpath = write_report(workdir, results)
    for model_name, res in results.items():
        for set_name, r in res.items():
            write_confusions(r, f"{model_name}: {set_name} (n={r.get('n')})",
                             os.path.join(workdir, f"confusion_{{level}}_{model_name}_{set_name}.png"))
    meta = {"command": command, "config": config_path, "overrides": overrides, "structures": len(table),
            "train_structures": int(len(train_rows)), "seconds": timing}
    atomic_write_json(os.path.join(workdir, "experiment.json"), meta)
    atomic_write_text(mpath, open(mpath).read() + f"\nCommand: `{command}`\n\nStructures: {len(table)} synthetic "
                      f"({len(train_rows)} training); seconds per model: {timing}\n")
    return results

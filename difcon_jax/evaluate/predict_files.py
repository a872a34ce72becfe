"""Predictions for users' measured files: top-k crystal systems, extinction groups and space groups."""

from __future__ import annotations

import os
import sys

import numpy as np

from difcon_jax.crystal.symmetry import CRYSTAL_SYSTEMS, extinction_group_table, space_group_symbol
from difcon_jax.files import atomic_savefig

PACKAGED_MODEL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pretrained", "difcon_cpu")


def _top(p: np.ndarray, k: int):
    idx = np.argsort(-p)[:k]
    return idx, p[idx]


def predict_files(files: list[str], model_dir: str | None = None, wavelength: float | None = None,
                  top_k: int = 3):
    """Returns (results, profiles, errors): one dict per readable file (the ``--json`` schema), the
    processed profiles, and [(file, one-line reason)] for the rest. Every good file is predicted."""
    from difcon_jax.errors import InputError
    from difcon_jax.evaluate.calibration import read_calibration
    from difcon_jax.evaluate.library import apply_library, read_library
    from difcon_jax.patterns import read_pattern, to_model_input
    from difcon_jax.patterns.preprocess import MIN_COVERAGE_DEG, coverage
    from difcon_jax.train.checkpoint import CheckpointError
    from difcon_jax.train.loop import load_trained
    from difcon_jax.train.predict import predict

    model_dir = model_dir or PACKAGED_MODEL
    cfg, model, params = load_trained(model_dir)
    calib = read_calibration(model_dir)
    a = cfg.augment
    good, xs, errors, metas = [], [], [], []
    for f in files:
        try:
            m = read_pattern(f, wavelength)
            if m.wavelength_source == "default":
                print(f"difcon-jax: WARNING {f}: no wavelength in the file and none given; ASSUMING Cu Kα "
                      f"{m.wavelength} Å (use --wavelength)", file=sys.stderr)
            if m.scans > 1:
                print(f"difcon-jax: WARNING {f}: {m.scans} scans in the file; predicting the first", file=sys.stderr)
            if m.skipped_lines:
                print(f"difcon-jax: WARNING {f}: dropped malformed line(s) {list(m.skipped_lines)[:5]}", file=sys.stderr)
            lo, hi = coverage(m, a)
            narrow = hi - lo < MIN_COVERAGE_DEG
            if narrow:
                print(f"difcon-jax: WARNING {f}: the scan covers only {lo:.1f}–{hi:.1f}° 2θ (at {a.lambda_ref} Å) of "
                      f"the model's {a.get('two_theta_min', 0.0):g}–{a.two_theta_max:g}°; flagged uncertain",
                      file=sys.stderr)
            xs.append(to_model_input(m, a))
            good.append(f)
            metas.append((m, narrow, (round(float(lo), 3), round(float(hi), 3))))
        except (InputError, ValueError) as e:
            errors.append((f, " ".join(str(e).split())))
    if not xs:
        return [], np.zeros((0, a.n_bins), np.float32), errors
    x = np.stack(xs)
    pr = apply_library(predict(model, params, x, temperature=float(calib["temperature"])), read_library(model_dir))
    finite = np.all([np.isfinite(pr[k]).all(axis=1) for k in ("crystal_system", "extinction_group", "space_group")],
                    axis=0)
    if not finite.all():  # NaN parameters or a broken calibration: no answer rather than a NaN one
        raise CheckpointError(f"{model_dir}: the model gives non-finite probabilities (broken parameters or "
                              "calibration)")
    eg_table = extinction_group_table()
    results = []
    for i, f in enumerate(good):
        cs_i, cs_p = _top(pr["crystal_system"][i], top_k)
        eg_i, eg_p = _top(pr["extinction_group"][i], top_k)
        sg_i, sg_p = _top(pr["space_group"][i], top_k)
        results.append({
            "file": f,
            "wavelength": metas[i][0].wavelength, "wavelength_source": metas[i][0].wavelength_source,
            "coverage": list(metas[i][2]),
            "grid": {"tt_min": float(a.get("two_theta_min", 0.0)), "tt_max": float(a.two_theta_max), "n_bins": int(a.n_bins)},
            "crystal_system": [{"label": CRYSTAL_SYSTEMS[j], "p": round(float(p), 4)} for j, p in zip(cs_i, cs_p)],
            "extinction_group": [{"id": int(j), "symbol": eg_table[j]["symbol"], "p": round(float(p), 4)}
                                 for j, p in zip(eg_i, eg_p)],
            "space_group": [{"number": int(j) + 1, "symbol": space_group_symbol(int(j) + 1), "p": round(float(p), 4)}
                            for j, p in zip(sg_i, sg_p)],
            "uncertain": bool(sg_p[0] < float(calib["uncertain_below"]) or metas[i][1]),
        })
    return results, x, errors


def plot_predictions(results: list[dict], profiles: np.ndarray, path: str) -> str:
    """One panel per file: the model's input profile (2θ degrees on the reference scale, background removed,
    on the model's own grid: each result's ``grid``) titled with the top predictions; PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.2 * n), squeeze=False)
    for ax, r, y in zip(axes[:, 0], results, profiles):
        g = r["grid"]
        x = g["tt_min"] + (np.arange(len(y)) + 0.5) * (g["tt_max"] - g["tt_min"]) / len(y)
        ax.plot(x, y, lw=0.7, color="black")
        sg = ", ".join(f"{s['symbol']} (#{s['number']}) {s['p']:.2f}" for s in r["space_group"])
        cs = r["crystal_system"][0]
        ax.set_title(f"{os.path.basename(r['file'])}: {cs['label']} {cs['p']:.2f} | {sg}"
                     + ("  [uncertain]" if r["uncertain"] else ""), fontsize=8)
        ax.set_yticks([])
    axes[-1, 0].set_xlabel("2θ (degrees, Cu Kα scale), background removed")
    fig.tight_layout()
    return atomic_savefig(fig, path, dpi=100)

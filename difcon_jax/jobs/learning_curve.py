"""Learning curve: every kept checkpoint of a training directory scored on the equivariance axis and on
labelled folders of measured patterns, against the samples seen (step × batch size).

Checkpoints are kept by ``cfg.ckpt_keep_period``; the patterns are rendered / read once and every step is
a forward pass. Measured patterns are only scored here, never trained on or calibrated with.
"""

from __future__ import annotations

import difcon_jax.checkpoint as ckpt
from difcon_jax.data.prepare import prepare_table
from difcon_jax.evaluate.evaluators import measured_folders, run_evaluators, simulated_axes
from difcon_jax.files import atomic_savefig, atomic_write_json
from difcon_jax.inference.calibration import read_calibration
from difcon_jax.inference.model_dir import load_model, read_model_config
from difcon_jax.inference.predictor import Predictor


def learning_curve(workdir: str, experimental: list[str] = (), wavelength: float | None = None,
                   seed: int = 1234) -> dict:
    """{'steps': [...], 'samples_seen': [...], '<set>': {'n': M, 'acc_cs': [...], 'acc_sg': [...], 'top5_sg': [...]}}:
    the equivariance axis (the evaluator ``train`` and ``evaluate`` use, so the last point is their number)
    and each measured folder scored by the network alone (the run's library indexes its final parameters
    only), every kept checkpoint at the run's calibration temperature."""
    cfg = read_model_config(workdir)
    table = prepare_table(cfg, workdir)
    evaluators = simulated_axes(cfg, table, ("equivariance",), seed)
    evaluators += [e for e in measured_folders(cfg, experimental, wavelength)[0] if not e.blend]
    calibration = read_calibration(workdir)
    steps = sorted(int(s) for s in ckpt.manager(workdir).all_steps())
    curve = {"steps": steps, "samples_seen": [s * int(cfg.batch_size) for s in steps],
             **{e.name: {"n": int(len(e.space_group)), "acc_cs": [], "acc_sg": [], "top5_sg": []} for e in evaluators}}
    for step in steps:
        cfg_s, model, params = load_model(workdir, step)
        scores = run_evaluators(evaluators, Predictor.of(cfg_s, model, params, calibration))
        for name, r in scores.items():
            for k in ("acc_cs", "acc_sg", "top5_sg"):
                curve[name][k].append(round(float(r.get(k, 0.0)), 4))
    return curve


def write_learning_curve(curve: dict, out_stem: str, title: str = "") -> tuple[str, str]:
    """``out_stem.json`` and ``out_stem.png`` (accuracy against samples seen, log axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    jpath = atomic_write_json(out_stem + ".json", curve)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    names = [k for k in curve if isinstance(curve[k], dict)]
    for i, name in enumerate(names):
        c = f"C{i}"
        ax.plot(curve["samples_seen"], curve[name]["acc_cs"], "o--", color=c, ms=3, label=f"{name} CS")
        ax.plot(curve["samples_seen"], curve[name]["acc_sg"], "o-", color=c, ms=3, label=f"{name} SG")
        ax.plot(curve["samples_seen"], curve[name]["top5_sg"], ":", color=c, label=f"{name} SG top-5")
    ax.set_xscale("log")
    ax.set_xlabel("training samples seen (structures × augmentations)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(title or "learning curve", fontsize=9)
    fig.tight_layout()
    return jpath, atomic_savefig(fig, out_stem + ".png", dpi=110)

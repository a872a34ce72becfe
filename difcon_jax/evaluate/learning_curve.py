"""Learning curve: every kept checkpoint of a training directory scored on the equivariance axis and on
labelled folders of measured patterns, against the samples seen (step × batch size).

Checkpoints are kept by ``cfg.ckpt_keep_period``; the patterns are rendered / read once and every step is
a forward pass. Measured patterns are only scored here, never trained on or calibrated with.
"""

from __future__ import annotations

import os

import numpy as np

from difcon_jax.data.split import Split
from difcon_jax.files import atomic_savefig, atomic_write_json


def learning_curve(workdir: str, experimental: list[str] = (), n_structures: int = 500,
                   wavelength: float | None = None, seed: int = 1234) -> dict:
    """{'steps': [...], 'samples_seen': [...], '<set>': {'acc_cs': [...], 'acc_sg': [...], 'top5_sg': [...]}}."""
    import jax
    import ml_collections

    from difcon_jax.evaluate.axes import load_experimental, render_set
    from difcon_jax.evaluate.report import score
    from difcon_jax.train import checkpoint as ckpt
    from difcon_jax.train.loop import build, prepare_table
    from difcon_jax.train.predict import predict
    from difcon_jax.train.step import init_state

    cfg = ml_collections.ConfigDict(ckpt.read_config(workdir))
    model, tx = build(cfg)
    table = prepare_table(cfg, workdir)
    rows = np.flatnonzero(np.asarray(table.split) == Split.EQUIVARIANCE_TEST)
    rows = np.sort(np.random.default_rng(seed).permutation(rows)[:n_structures])
    sets = {"equivariance": (render_set(table, rows, cfg.augment, seed, batch=int(cfg.eval.batch_size)),
                             np.asarray(table.space_group)[rows])}
    for folder in experimental:
        x, sgs, _ = load_experimental(cfg, folder, wavelength)
        sets[os.path.basename(os.path.normpath(folder))] = (x, sgs)
    mngr = ckpt.manager(workdir)
    abstract = jax.eval_shape(lambda: init_state(cfg, model, tx, jax.random.key(0)))
    steps = sorted(int(s) for s in mngr.all_steps())
    curve = {"steps": steps, "samples_seen": [s * int(cfg.batch_size) for s in steps],
             **{name: {"n": int(len(y)), "acc_cs": [], "acc_sg": [], "top5_sg": []} for name, (_, y) in sets.items()}}
    for step in steps:
        state, _ = ckpt.restore(mngr, abstract, step)
        for name, (x, y) in sets.items():
            r = score(predict(model, state.params, x), y) if len(y) else {"acc_cs": 0.0, "acc_sg": 0.0, "top5_sg": 0.0}
            for k in ("acc_cs", "acc_sg", "top5_sg"):
                curve[name][k].append(round(float(r[k]), 4))
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

"""Simulated test axes: render each structure once under an augmentation config and score the model.

* equivariance — structures of the held-out split (split == 1), training augmentation ranges;
* invariance — training structures, the disjoint invariance-test ranges (configs/augment_invariance.py).
"""

from __future__ import annotations

import json
import os

import jax
import jax.numpy as jnp
import numpy as np


def render_set(table, rows: np.ndarray, aug_cfg, seed: int, batch: int = 256) -> np.ndarray:
    """float32[len(rows), n_bins]: one augmentation per structure (deterministic in ``seed``)."""
    from difcon_jax.augment import device_table, gather, make_augment_batch

    augment = jax.jit(make_augment_batch(aug_cfg))
    dev = device_table(table.subset(rows))
    out = []
    for i in range(0, len(rows), batch):
        idx = np.arange(i, min(i + batch, len(rows)))
        pad = np.resize(idx, batch)  # fixed shape: one compilation
        out.append(np.asarray(augment(jax.random.fold_in(jax.random.key(seed), i), gather(dev, jnp.asarray(pad))))[:len(idx)])
    return np.concatenate(out) if out else np.zeros((0, aug_cfg.n_bins), np.float32)


def accuracy_report(probs: dict, space_group: np.ndarray, crystal_system: np.ndarray,
                    extinction_group: np.ndarray) -> dict:
    sg_pred = probs["space_group"].argmax(1) + 1
    cs_pred = probs["crystal_system"].argmax(1)
    top5 = np.argsort(-probs["space_group"], axis=1)[:, :5] + 1
    from difcon_jax.crystal.symmetry import crystal_system_array

    cs_of_sg = crystal_system_array()
    return {
        "n": int(len(space_group)),
        "acc_cs": float(np.mean(cs_pred == crystal_system)),
        "acc_eg": float(np.mean(probs["extinction_group"].argmax(1) == extinction_group)),
        "acc_sg": float(np.mean(sg_pred == space_group)),
        "top5_sg": float(np.mean((top5 == space_group[:, None]).any(1))),
        "sg_inconsistent_with_cs": float(np.mean(cs_of_sg[sg_pred] != cs_pred)),
    }


def evaluate_axes(cfg, model, params, table, seed: int = 1234) -> dict:
    """Accuracy on the equivariance and invariance axes (cfg.eval.num_structures structures each)."""
    from difcon_jax.config import default_config_path, load_config
    from difcon_jax.train.predict import predict

    n = int(cfg.eval.num_structures)
    split = np.asarray(table.split)
    rng = np.random.default_rng(seed)
    inv_cfg = load_config(default_config_path(cfg.eval.invariance_config))
    inv_cfg.unlock()
    for k in ("n_bins", "two_theta_min", "two_theta_max", "lambda_ref", "render_stride"):
        inv_cfg[k] = cfg.augment[k]
    report = {}
    for axis, rows, aug in (("equivariance", np.flatnonzero(split == 1), cfg.augment),
                            ("invariance", np.flatnonzero(split == 0), inv_cfg)):
        rows = np.sort(rng.permutation(rows)[:n])
        if len(rows) == 0:
            report[axis] = {"n": 0}
            continue
        x = render_set(table, rows, aug, seed, batch=int(cfg.eval.batch_size))
        probs = predict(model, params, x)
        report[axis] = accuracy_report(probs, np.asarray(table.space_group)[rows],
                                       np.asarray(table.crystal_system)[rows], np.asarray(table.extinction_group)[rows])
    return report


def write_summary(workdir: str, report: dict) -> str:
    path = os.path.join(workdir, "eval_summary.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(report, fh, indent=1)
    os.replace(tmp, path)
    return path

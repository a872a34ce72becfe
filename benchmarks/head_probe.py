"""Is it the heads or the encoder that underfits? A model's frozen representation h of fresh training-split renders,
and a new head fitted to it: if a wider head on the same features answers better than the model's own heads, the
heads are short of capacity (``configs/difcon_heads.py`` trains such a head in place); if not, the encoder is.

    python benchmarks/head_probe.py --table runs/real_fill [--model DIR] [--passes 30] [--hidden 1024,1024]

Training features: ``--passes`` × ``--per-pass`` training rows drawn uniformly (the natural population the axes
are scored on), each rendered once by the model's own augmentation; the probe (LayerNorm, Dense → LayerNorm → GELU
per hidden width, dropout 0.1, a flat 230-way softmax; AdamW, cosine from 2e-3) is scored beside the model's own
heads (natural prior, as ``evaluate`` reports them) on ``evaluate``'s equivariance, training and cross-simulator
rows. ~6 min on the 2-core VM at the defaults. Prints a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import flax.linen as nn
import jax
import numpy as np
import optax

from difcon_jax.augment.render import render_set
from difcon_jax.crystal.symmetry import crystal_system_array, extinction_group_array
from difcon_jax.data.prepare import prepare_table
from difcon_jax.data.split import Split
from difcon_jax.evaluate.evaluators import simulated_axes
from difcon_jax.evaluate.report import score
from difcon_jax.inference.forward import predict_logits
from difcon_jax.inference.model_dir import PACKAGED_MODEL
from difcon_jax.inference.predictor import Predictor

AXES = ("equivariance", "training", "cross_simulator")


class Probe(nn.Module):
    hidden: tuple

    @nn.compact
    def __call__(self, h, train: bool = False):
        x = nn.LayerNorm()(h)
        for w in self.hidden:
            x = nn.Dropout(0.1, deterministic=not train)(nn.gelu(nn.LayerNorm()(nn.Dense(w)(x))))
        return nn.Dense(230)(x)


def features(predictor, profiles) -> np.ndarray:
    return np.asarray(predict_logits(predictor.model, predictor.params, profiles, 256)["representation"], np.float32)


def marginals(p_sg: np.ndarray) -> dict:
    """The probe's p(SG) float[M, 230] with the crystal-system and extinction-group probabilities it implies (sums
    over their space groups), as :func:`difcon_jax.evaluate.report.score` reads a model's heads."""
    def summed(group_of):
        out = np.zeros((len(p_sg), int(group_of[1:].max()) + 1))
        np.add.at(out.T, group_of[1:], p_sg.T)
        return out
    return {"space_group": p_sg, "crystal_system": summed(crystal_system_array()),
            "extinction_group": summed(extinction_group_array())}


def scores(probs: dict, sg: np.ndarray) -> dict:
    """CS / SG / SG top-5 by :func:`difcon_jax.evaluate.report.score` (what ``evaluate`` reports)."""
    s = score(probs, sg)
    return {"cs": round(s["acc_cs"], 4), "sg": round(s["acc_sg"], 4), "top5": round(s["top5_sg"], 4)}


def fit_probe(x, y, hidden, epochs: int, seed: int = 0):
    """A :class:`Probe`'s parameters fitted to features float[N, D] and space groups int[N] (1–230)."""
    model = Probe(tuple(hidden))
    params = model.init(jax.random.key(seed), x[:2])
    batch = 1024
    steps = epochs * (len(x) // batch)
    warmup = min(200, max(1, steps // 10))
    tx = optax.adamw(optax.warmup_cosine_decay_schedule(0.0, 2e-3, warmup, max(steps, warmup + 1)), weight_decay=1e-4)
    opt = tx.init(params)

    @jax.jit
    def step(params, opt, xb, yb, key):
        def loss(p):
            logits = model.apply(p, xb, train=True, rngs={"dropout": key})
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()
        value, grads = jax.value_and_grad(loss)(params)
        updates, opt = tx.update(grads, opt, params)
        return optax.apply_updates(params, updates), opt, value

    rng, key, n = np.random.default_rng(seed), jax.random.key(seed + 1), 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x) - batch + 1, batch):
            b = order[i:i + batch]
            params, opt, _ = step(params, opt, x[b], y[b] - 1, jax.random.fold_in(key, n))
            n += 1
    return jax.jit(lambda h: jax.nn.softmax(model.apply(params, h)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=PACKAGED_MODEL)
    ap.add_argument("--table", required=True, help="the peak table the model was trained on")
    ap.add_argument("--passes", type=int, default=30)
    ap.add_argument("--per-pass", type=int, default=8192)
    ap.add_argument("--hidden", default="1024,1024", help="the probe's hidden widths (comma-separated)")
    ap.add_argument("--epochs", type=int, default=8)
    args = ap.parse_args()
    t0 = time.time()
    predictor = Predictor.load(args.model)
    cfg = predictor.cfg
    cfg.data.table = args.table
    table = prepare_table(cfg, args.model)
    train = np.flatnonzero(np.asarray(table.split) == Split.TRAIN)
    sg = np.asarray(table.space_group)
    xs, ys = [], []
    for p in range(args.passes):  # one fresh render per drawn row and pass
        rows = np.sort(np.random.default_rng(100 + p).choice(train, min(args.per_pass, len(train)), replace=False))
        xs.append(features(predictor, render_set(table, rows, cfg.augment, 500 + p, 256)))
        ys.append(sg[rows])
    x, y = np.concatenate(xs), np.concatenate(ys)
    hidden = [int(v) for v in args.hidden.split(",") if v.strip()]
    probe = fit_probe(x, y, hidden, args.epochs)
    out = {}
    for s in simulated_axes(cfg, table, names=AXES):
        shown = s.profiles if s.shown is None else s.shown
        own = scores(predictor(shown, blend=False, prior="natural"), s.space_group)
        new = scores(marginals(np.asarray(probe(features(predictor, shown)), np.float64)), s.space_group)
        out[s.name] = {"model": own, "probe": new, "n": int(len(s.space_group))}
        print(f"{s.name:16s} n={len(s.space_group):5d}  model's heads {own}  probe {new}", flush=True)
    print(json.dumps({"benchmark": "head_probe", "model": args.model, "features": int(len(x)), "hidden": hidden,
                      "epochs": args.epochs, "seconds": round(time.time() - t0, 1), **out}))


if __name__ == "__main__":
    main()

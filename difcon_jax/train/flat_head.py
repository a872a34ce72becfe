"""A flat space-group head (:class:`~difcon_jax.models.resnet1d.FlatHead`) fitted on a trained model's *frozen*
representation h, host side: training rows drawn as the model's training drew them, each rendered once per pass by
the model's own augmentation (:func:`~difcon_jax.augment.render.render_set`), encoded once, and the head fitted on
these fixed features for a few epochs (AdamW, warm-up then cosine, dropout). The encoder's forward pass is what
costs; reusing each render for every epoch is what makes the head cheap on two cores (245,760 features: ~5 min to
render and encode, ~1 min to fit), where an in-place heads-only run renders every step anew
(results/network_axes/README.md, "A flat space-group head").

Shapes: h float32[N, D] (D the representation's width), space groups int[N] (1–230).
"""

from __future__ import annotations

from typing import Callable

import jax
import numpy as np
import optax

from difcon_jax.augment.render import render_set
from difcon_jax.data.draw import source_row_weights
from difcon_jax.data.split import Split
from difcon_jax.inference.forward import predict_logits
from difcon_jax.inference.prior import draw_mass
from difcon_jax.models.resnet1d import FlatHead
from difcon_jax.train.parallel import draw_from_cdf, sampling_cdf


def training_draw(cfg, table, natural: bool = False) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(training rows int[n], their cumulative draw probabilities float64[n] or None for uniform, the draw's mass
    per space group float64[230]): as ``cfg.data`` draws them (``sampling_power``, ``source_weights``), or every
    training structure equally often with ``natural``."""
    train = np.flatnonzero(np.asarray(table.split) == Split.TRAIN)
    sg = np.asarray(table.space_group)[train]
    power = 1.0 if natural else float(cfg.data.sampling_power)
    weights = None if natural else source_row_weights(np.asarray(table.source_id)[train],
                                                       cfg.data.get("source_weights", ()))
    return train, sampling_cdf(sg, power, weights), draw_mass(sg, power, weights)


def draw_rows(train: np.ndarray, cdf: np.ndarray | None, n: int, seed: int) -> np.ndarray:
    """int[n] sorted rows of ``train`` (:func:`training_draw`): without replacement when the draw is uniform, by
    ``cdf`` with replacement otherwise."""
    rng = np.random.default_rng(seed)
    if cdf is None:
        return np.sort(rng.choice(train, min(n, len(train)), replace=False))
    return np.sort(train[draw_from_cdf(rng, cdf, n)])


def representations(model, params, profiles: np.ndarray, batch: int = 256) -> np.ndarray:
    """h float32[M, D] of profiles float32[M, n_bins]."""
    return np.asarray(predict_logits(model, params, profiles, batch)["representation"], np.float32)


def frozen_features(cfg, model, params, table, passes: int, per_pass: int, natural: bool = False,
                    seed: int = 100, progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(h float32[passes·per_pass, D], space groups int[…]): ``passes`` draws of ``per_pass`` training rows
    (:func:`training_draw`), one fresh render of each by ``cfg.augment`` per pass (render seed ``seed`` + 400 +
    pass), encoded by the frozen ``params``. ``progress(pass)`` after each pass."""
    train, cdf, _ = training_draw(cfg, table, natural)
    sg = np.asarray(table.space_group)
    xs, ys = [], []
    for p in range(passes):
        rows = draw_rows(train, cdf, per_pass, seed + p)
        xs.append(representations(model, params, render_set(table, rows, cfg.augment, seed + 400 + p)))
        ys.append(sg[rows])
        if progress is not None:
            progress(p)
    return np.concatenate(xs), np.concatenate(ys)


def fit_flat_head(h: np.ndarray, space_group: np.ndarray, dims, epochs: int = 8, learning_rate: float = 2e-3,
                  batch: int = 1024, weight_decay: float = 1e-4, dropout: float = 0.1, seed: int = 0) -> dict:
    """A :class:`FlatHead`'s parameters fitted to features ``h`` float[N, D] and space groups int[N] (1–230):
    softmax cross-entropy, AdamW, warm-up (a tenth of the steps, at most 200) then cosine from ``learning_rate``,
    ``epochs`` shuffled passes over the features in batches of ``batch`` (the last partial batch dropped)."""
    h = np.asarray(h, np.float32)
    y = np.asarray(space_group, np.int32) - 1
    batch = min(int(batch), len(h))
    head = FlatHead(tuple(int(d) for d in dims), dropout=float(dropout))
    params = head.init(jax.random.key(seed), h[:2])["params"]
    steps = int(epochs) * (len(h) // batch)
    warmup = min(200, max(1, steps // 10))
    tx = optax.adamw(optax.warmup_cosine_decay_schedule(0.0, learning_rate, warmup, max(steps, warmup + 1)),
                     weight_decay=weight_decay)
    opt = tx.init(params)

    @jax.jit
    def step(params, opt, hb, yb, key):
        def loss(p):
            logits = head.apply({"params": p}, hb, train=True, rngs={"dropout": key})
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()
        grads = jax.grad(loss)(params)
        updates, opt = tx.update(grads, opt, params)
        return optax.apply_updates(params, updates), opt

    rng, key, n = np.random.default_rng(seed), jax.random.key(seed + 1), 0
    for _ in range(int(epochs)):
        order = rng.permutation(len(h))
        for i in range(0, len(h) - batch + 1, batch):
            b = order[i:i + batch]
            params, opt = step(params, opt, h[b], y[b], jax.random.fold_in(key, n))
            n += 1
    return jax.tree_util.tree_map(np.asarray, params)


def flat_head_probabilities(dims, head_params, h: np.ndarray) -> np.ndarray:
    """float64[M, 230]: a fitted :class:`FlatHead`'s softmax for features h float[M, D] (no dropout)."""
    logits = FlatHead(tuple(int(d) for d in dims)).apply({"params": head_params}, np.asarray(h, np.float32))
    return np.asarray(jax.nn.softmax(logits, -1), np.float64)

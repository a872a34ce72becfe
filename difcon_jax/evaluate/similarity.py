"""The paper's Fig. 4: cosine similarity of representations for S structures × A augmentations.

A representation invariant to experimental effects puts the A views of one structure close together
(bright diagonal blocks) and different structures apart. Reported: the mean cosine similarity within
structures, between structures, and the share of views whose nearest other view is of the same structure.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.augment import device_table, gather, make_augment_batch
from difcon_jax.data.split import Split
from difcon_jax.files import atomic_savefig


def similarity_views(cfg, table, n_structures: int = 100, n_aug: int = 8, seed: int = 7):
    """(views float32[S·A, n_bins] ordered structure-major, structure index int[S·A], table rows int[S]): ``n_aug``
    training augmentations of ``n_structures`` held-out structures (all structures when fewer than 2 are)."""
    rows = np.flatnonzero(np.asarray(table.split) == Split.EQUIVARIANCE_TEST)
    if len(rows) < 2:
        rows = np.arange(len(table))
    rows = np.sort(np.random.default_rng(seed).permutation(rows)[:n_structures])
    dev = device_table(table.subset(rows))
    augment = jax.jit(make_augment_batch(cfg.augment))
    idx = jnp.repeat(jnp.arange(len(rows)), n_aug)
    views = []
    for i in range(0, len(idx), 256):
        chunk = idx[i:i + 256]
        views.append(np.asarray(augment(jax.random.fold_in(jax.random.key(seed), i), gather(dev, chunk))))
    return np.concatenate(views), np.asarray(idx), rows


def similarity_summary(h: np.ndarray, idx: np.ndarray):
    """(cos-similarity float32[V, V], summary) of representations h float[V, D] of views of structures ``idx``."""
    h = h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
    sim = (h @ h.T).astype(np.float32)
    same = np.equal.outer(idx, idx)
    off = ~np.eye(len(idx), dtype=bool)
    nearest = np.where(off, sim, -np.inf).argmax(1)
    summary = {"augmentations": int(len(idx) // max(1, len(np.unique(idx)))),
               "mean_within": float(sim[same & off].mean()), "mean_between": float(sim[~same].mean()),
               "nearest_view_same_structure": float(np.mean(idx[nearest] == idx))}
    return sim, summary


def similarity_png(sim: np.ndarray, summary: dict, title: str, path: str) -> str:
    """The Fig. 4 cosine-similarity matrix (views grouped by structure) as a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5.4))
    # the colour range spans what occurs (encoder features after GELU and pooling are mostly positive, so a
    # fixed -1…1 scale would wash the structure blocks out); the scale is printed on the colour bar
    lo = float(np.percentile(sim, 1))
    im = ax.imshow(sim, cmap="viridis", vmin=min(lo, 0.99), vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, label="cosine similarity")
    ax.set_title(f"{title}\nwithin {summary['mean_within']:.2f}, between {summary['mean_between']:.2f}, "
                 f"nearest view same structure {summary['nearest_view_same_structure']:.2f}", fontsize=8)
    ax.set_xlabel(f"{summary['structures']} structures × {summary['augmentations']} augmentations")
    fig.tight_layout()
    return atomic_savefig(fig, path, dpi=100)

"""Rendering a set of peak-table rows once, under an augmentation config: the simulated patterns the
evaluation axes, calibration and the reference library are scored on (host loop over fixed-size batches of
the jitted, vmapped pipeline)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.augment import device_table, gather, make_augment_batch


def render_set(table, rows: np.ndarray, aug_cfg, seed: int, batch: int = 256) -> np.ndarray:
    """float32[len(rows), n_bins]: one augmentation per structure of ``table`` rows ``rows`` (deterministic
    in ``seed``)."""
    augment = jax.jit(make_augment_batch(aug_cfg))
    dev = device_table(table.subset(rows))
    out = []
    for i in range(0, len(rows), batch):
        idx = np.arange(i, min(i + batch, len(rows)))
        pad = np.resize(idx, batch)  # fixed shape: one compilation
        out.append(np.asarray(augment(jax.random.fold_in(jax.random.key(seed), i), gather(dev, jnp.asarray(pad))))[:len(idx)])
    return np.concatenate(out) if out else np.zeros((0, aug_cfg.n_bins), np.float32)

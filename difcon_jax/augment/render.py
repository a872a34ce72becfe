"""Rendering a set of peak-table rows once, under an augmentation config: the simulated patterns the
evaluation axes, calibration and the reference library are scored on (host loop over fixed-size batches of
the jitted, vmapped pipeline)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.augment import kernels as K
from difcon_jax.augment import make_augment_batch
from difcon_jax.augment.pipeline import host_peaks

_COMPILED: dict[str, object] = {}


def _jitted_augment(aug_cfg):
    """The jitted batch pipeline for ``aug_cfg``, one per distinct config in the process: a calibration, a
    library's views and the evaluation axes render under the same settings, and each fresh closure would be
    traced and compiled again."""
    key = aug_cfg.to_json(sort_keys=True)
    if key not in _COMPILED:
        if len(_COMPILED) >= 8:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = jax.jit(make_augment_batch(aug_cfg))
    return _COMPILED[key]


def render_set(table, rows: np.ndarray, aug_cfg, seed: int, batch: int = 256) -> np.ndarray:
    """float32[len(rows), n_bins]: one augmentation per structure of ``table`` rows ``rows`` (deterministic
    in ``seed``)."""
    augment = _jitted_augment(aug_cfg)
    rows = np.asarray(rows)
    host = host_peaks(table, rows)  # batches gathered on the host: the program sees [batch, P] whatever the table
    out = []
    for i in range(0, len(rows), batch):
        idx = np.arange(i, min(i + batch, len(rows)))
        pad = np.resize(idx, batch)  # fixed shape: one compilation
        peaks = K.Peaks(*(jnp.asarray(a[pad]) for a in host))
        out.append(np.asarray(augment(jax.random.fold_in(jax.random.key(seed), i), peaks))[:len(idx)])
    return np.concatenate(out) if out else np.zeros((0, aug_cfg.n_bins), np.float32)

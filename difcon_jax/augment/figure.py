"""The paper's Fig. 2 picture: one structure's clean pattern above K random augmentations (PNG)."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.augment.kernels import Peaks
from difcon_jax.augment.params import neutral_params, sample_params_batch
from difcon_jax.augment.pipeline import make_grid, make_simulate
from difcon_jax.crystal import read_cif, stick_pattern
from difcon_jax.crystal.symmetry import labels_for_number
from difcon_jax.data.peak_table import pad_peaks
from difcon_jax.files import atomic_savefig


def augmentation_figure(cif_path: str, out_png: str, cfg, k: int = 8, seed: int = 0, max_peaks: int = 256,
                        title: str | None = None) -> str:
    """Render ``cif_path`` clean and under ``k`` augmentations drawn from ``cfg``; write ``out_png``."""
    import matplotlib  # plotting is optional work: matplotlib loads (file backend) only when a figure is made

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    st = read_cif(cif_path)
    sp = stick_pattern(st, float(cfg.lambda_ref), float(cfg.two_theta_max))
    tt, inten, _, _, c2, w = pad_peaks(sp.two_theta, sp.intensity, max_peaks, sp.po_cos2, sp.po_weight)
    peaks = Peaks(jnp.asarray(tt), jnp.asarray(inten), jnp.asarray(c2, jnp.float32), jnp.asarray(w, jnp.float32))
    simulate = jax.jit(make_simulate(cfg))
    key = jax.random.key(seed)
    clean = np.asarray(simulate(key, peaks, neutral_params(cfg)))
    params = sample_params_batch(jax.random.fold_in(key, 1), k, cfg)
    keys = jax.random.split(jax.random.fold_in(key, 2), k)
    views = np.asarray(jax.vmap(simulate, in_axes=(0, None, 0))(keys, peaks, params))
    x = np.asarray(make_grid(cfg).centres)

    lab = labels_for_number(st.space_group)
    fig, ax = plt.subplots(figsize=(10, 1.2 * (k + 2)))
    ax.plot(x, clean + k + 0.3, color="black", lw=0.8)
    ax.text(x[-1], k + 0.5, "clean (Cu Kα1)", ha="right", fontsize=8)
    for i in range(k):
        ax.plot(x, views[i] + (k - 1 - i), lw=0.6)
        src = f"λ={float(params['lambda1'][i]):.4f} Å, η={float(params['eta'][i]):.2f}, " \
              f"shift={float(params['zero_shift'][i]):+.3f}°, r={float(params['po_r'][i]):.2f}"
        ax.text(x[-1], k - 1 - i + 0.5, src, ha="right", fontsize=7)
    ax.set_xlabel("2θ (degrees, Cu Kα scale)")
    ax.set_yticks([])
    ax.set_xlim(x[0], x[-1])
    ax.set_title(title or f"{os.path.basename(cif_path)}: {st.formula}, {lab.space_group_symbol} "
                          f"(#{lab.space_group}), {lab.crystal_system_name}")
    fig.tight_layout()
    return atomic_savefig(fig, out_png, dpi=110)

"""Background removal shared by training and measured patterns: one function, one path.

Measured patterns carry instrument backgrounds (air scatter, fluorescence, amorphous humps) that no
training distribution covers, so both sides go through the same SNIP removal on the model grid: training
views after their synthetic background and noise (:func:`background_removal` kernel in the pipeline),
measured files after resampling (:func:`difcon_jax.patterns.preprocess.to_model_input`). Whatever SNIP
leaves (a residual of a broad hump, a clipped cluster of overlapping peaks) the network sees in training too.

SNIP (statistics-sensitive non-linear iterative peak clipping; Ryan et al. 1988, decreasing windows as in
Morháč & Matoušek 2008): for w = W … 1, b_i ← min(b_i, (b_{i−w} + b_{i+w}) / 2). It runs on cells of
``cell_bins`` bins (mean-pooled: the background is smooth, and it is ~cell_bins² cheaper than per bin); the
baseline is interpolated back to the bins and subtracted. Outside the measured range the profile is
replaced by its edge values before clipping (zero padding would drag the baseline down at the edges) and
set to zero after.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from difcon_jax.augment.profiles import upsample_cells


def snip_baseline(y, half_window: int):
    """SNIP baseline of ``y`` float[n] with decreasing half-windows ``half_window`` … 1 (samples).

    Up to 32 clipping passes are unrolled (static slices fuse into a few loops); longer windows use a loop."""
    n = y.shape[0]
    w0 = int(half_window)
    if w0 < 1:
        return y
    z = jnp.pad(y, w0, mode="edge")
    if w0 <= 32:
        for w in range(w0, 0, -1):
            core = z[w0:w0 + n]
            clipped = jnp.minimum(core, 0.5 * (z[w0 - w:w0 - w + n] + z[w0 + w:w0 + w + n]))
            z = jnp.concatenate([z[:w0], clipped, z[w0 + n:]])
        return z[w0:w0 + n]

    def clip(i, z):
        w = w0 - i
        left = lax.dynamic_slice(z, (w0 - w,), (n,))
        right = lax.dynamic_slice(z, (w0 + w,), (n,))
        core = lax.dynamic_slice(z, (w0,), (n,))
        return lax.dynamic_update_slice(z, jnp.minimum(core, 0.5 * (left + right)), (w0,))

    return lax.fori_loop(0, w0, clip, z)[w0:w0 + n]


def subtract_background(profile, inside, cell_bins: int, half_window_cells: int):
    """float[n] profile minus its SNIP baseline inside the measured bins ``inside`` (bool[n]), zero outside.

    ``cell_bins`` must divide n; ``half_window_cells`` is the SNIP half-window in cells."""
    n = profile.shape[0]
    if n % cell_bins:
        raise ValueError(f"{n} bins are not a multiple of the background cell ({cell_bins} bins)")
    idx = jnp.arange(n)
    lo = jnp.min(jnp.where(inside, idx, n - 1))  # first / last measured bin (plain min/max reductions: an
    hi = jnp.max(jnp.where(inside, idx, 0))  # argmax is a variadic reduce, several times slower on a CPU)
    filled = jnp.where(idx < lo, profile[lo], jnp.where(idx > hi, profile[hi], profile))  # edge values outside
    coarse = filled.reshape(-1, cell_bins).mean(1)
    base_c = snip_baseline(coarse, half_window_cells)
    # linear between cell centres, constant beyond the first and last (edge padding): jnp.interp's answer
    # without a search per bin
    base = upsample_cells(jnp.pad(base_c, 1, mode="edge"), cell_bins)
    return jnp.where(inside, jnp.maximum(profile - base, 0.0), 0.0)


def removal_settings(cfg) -> tuple[int, int] | None:
    """(cell_bins, half_window_cells) from an augmentation config, or None when removal is off."""
    window = float(cfg.get("background_removal_deg", 0.0) or 0.0)
    if window <= 0:
        return None
    step = (cfg.two_theta_max - cfg.two_theta_min) / cfg.n_bins
    cell_bins = max(1, int(round(float(cfg.background_cell_deg) / step)))
    return cell_bins, max(1, int(round(window / (cell_bins * step))))


def make_background_removal(cfg):
    """``remove(key, profile, params, centres) -> profile`` kernel for the pipeline (identity when off):
    the measured range is [params['measure_low'], params['measure_high']], as in ``crop_pad``."""
    settings = removal_settings(cfg)

    def remove(key, profile, params, centres):
        if settings is None:  # static switch from the config
            return profile
        inside = (centres >= params["measure_low"]) & (centres <= params["measure_high"])
        return subtract_background(profile, inside, *settings)

    return remove


_host_fns: dict = {}


def subtract_background_host(profile, inside, cfg):
    """The same removal for one measured profile on the host (NumPy in, NumPy out), jitted once per grid."""
    import numpy as np

    settings = removal_settings(cfg)
    if settings is None:
        raise ValueError("background removal is off in this config")
    fn = _host_fns.get(settings)
    if fn is None:
        fn = _host_fns[settings] = jax.jit(lambda p, m: subtract_background(p, m, *settings))
    return np.asarray(fn(jnp.asarray(profile, jnp.float32), jnp.asarray(inside)))

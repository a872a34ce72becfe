"""Background removal shared by training and measured patterns: one function, one path.

Measured patterns carry instrument backgrounds (air scatter, fluorescence, amorphous humps) that no
training distribution covers, so both sides go through the same SNIP removal on the model grid: training
views after their synthetic background and noise (:func:`background_removal` kernel in the pipeline),
measured files after resampling (:func:`difcon_jax.patterns.preprocess.to_model_input`). Whatever SNIP
leaves (a residual of a broad hump, a clipped cluster of overlapping peaks) the network sees in training too.

SNIP (statistics-sensitive non-linear iterative peak clipping; Ryan et al. 1988, decreasing windows as in
Morháč & Matoušek 2008): for w = W … 1, b_i ← min(b_i, (b_{i−w} + b_{i+w}) / 2). It runs on cells of
``cell_bins`` bins (mean-pooled: the background is smooth, and it is ~cell_bins² cheaper than per bin); the
baseline is interpolated back to the bins and subtracted. Cells are the means of their measured bins; near
the measured range's ends the clipping windows are cut to the cells inside it (:func:`snip_baseline`: padding
with the edge value would leave a spike under a background that falls steeply at the scan's start, zero
padding would drag the baseline down), the baseline goes on along its edge slope beyond them, and the profile is
set to zero outside the range.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from difcon_jax.augment.profiles import measured_bins, upsample_cells
from difcon_jax.grid import Grid


def snip_baseline(y, half_window: int, first=0, last=None):
    """SNIP baseline of ``y`` float[n] with decreasing half-windows ``half_window`` … 1 (samples), on the
    samples ``first`` … ``last`` (int scalars, may be traced; default all): near either end the window is cut
    to the samples inside, w_i = min(w, i − first, last − i).

    Why cut windows, not padding: a background that falls steeply at the scan's start (air scatter ∝ 1/2θ²)
    padded with its edge value turns concave there, and SNIP clips the baseline under it — a spike left over
    the first degree (0.37 of the strongest line under the test's air scatter), which the network reads as a
    low-angle line (a large cell). Cut windows follow any smooth background to the edge; a line within
    ``half_window`` of the edge is clipped only as far as the shorter window reaches."""
    n = y.shape[0]
    w0 = int(half_window)
    if w0 < 1:
        return y
    i = jnp.arange(n)
    last = n - 1 if last is None else last
    room = jnp.clip(jnp.minimum(i - first, last - i), 0, w0)  # the longest window inside, per sample

    def clip(w, z):
        ww = jnp.minimum(w, room)
        return jnp.minimum(z, 0.5 * (z[i - ww] + z[i + ww]))

    if w0 <= 32:  # unrolled: the passes fuse into a few loops
        for w in range(w0, 0, -1):
            y = clip(w, y)
        return y
    return lax.fori_loop(0, w0, lambda k, z: clip(w0 - k, z), y)


def subtract_background(profile, first, last, cell_bins: int, half_window_cells: int):
    """float[n] profile minus its SNIP baseline on the measured bins ``first`` … ``last`` (int scalars,
    inclusive), zero outside.

    ``cell_bins`` must divide n; ``half_window_cells`` is the SNIP half-window in cells. The cells are the
    means of their measured bins; the clipping stays inside the measured cells (:func:`snip_baseline`) and the
    baseline is extrapolated beyond them along its edge slope. The measured range enters as two indices, not a
    mask, so the counts per cell and the extrapolation are scalar arithmetic and the bins are read once for the
    means and once for the subtraction."""
    n = profile.shape[0]
    if n % cell_bins:
        raise ValueError(f"{n} bins are not a multiple of the background cell ({cell_bins} bins)")
    idx = jnp.arange(n)
    inside = (idx >= first) & (idx <= last)
    start = jnp.arange(n // cell_bins) * cell_bins  # first bin of each cell
    count = jnp.clip(jnp.minimum(last + 1, start + cell_bins) - jnp.maximum(first, start), 0, cell_bins)
    coarse = jnp.where(inside, profile, 0.0).reshape(-1, cell_bins).sum(1) / jnp.maximum(count, 1).astype(profile.dtype)
    c = jnp.arange(n // cell_bins)
    lo, hi = first // cell_bins, last // cell_bins  # the first / last measured cell
    # cells outside [lo, hi] are never clipped nor read by a window inside it: no fill needed
    base_c = snip_baseline(coarse, half_window_cells, lo, hi)
    # beyond the first / last measured cell the baseline goes on along its edge slope, so the measured bins
    # before the first cell's centre (and after the last's) follow a steep background too
    lo1, hi1 = jnp.minimum(lo + 1, hi), jnp.maximum(hi - 1, lo)
    base_c = jnp.where(c < lo, base_c[lo] + (c - lo) * (base_c[lo1] - base_c[lo]),
                       jnp.where(c > hi, base_c[hi] + (c - hi) * (base_c[hi] - base_c[hi1]), base_c))
    # linear between cell centres, constant beyond the array's first and last (edge padding): jnp.interp's
    # answer without a search per bin
    base = upsample_cells(jnp.pad(base_c, 1, mode="edge"), cell_bins)
    return jnp.where(inside, jnp.maximum(profile - base, 0.0), 0.0)


def removal_settings(cfg) -> tuple[int, int] | None:
    """(cell_bins, half_window_cells) from an augmentation config, or None when removal is off."""
    window = float(cfg.background_removal_deg)
    if window <= 0:
        return None
    step = Grid.of(cfg).step
    cell_bins = max(1, int(round(float(cfg.background_cell_deg) / step)))
    return cell_bins, max(1, int(round(window / (cell_bins * step))))


def make_background_removal(cfg):
    """``remove(key, profile, params, centres) -> profile`` kernel for the pipeline (identity when off):
    the measured range is [params['measure_low'], params['measure_high']], as in ``crop_pad``."""
    settings = removal_settings(cfg)

    def remove(key, profile, params, centres):
        if settings is None:  # static switch from the config
            return profile
        return subtract_background(profile, *measured_bins(params, centres), *settings)

    return remove


_host_fns: dict = {}


def subtract_background_host(profile, inside, cfg):
    """The same removal for one measured profile on the host (NumPy in, NumPy out), jitted once per grid;
    ``inside``: bool[n] the measured bins (their first … last run is the measured range)."""

    settings = removal_settings(cfg)
    if settings is None:
        raise ValueError("background removal is off in this config")
    covered = np.flatnonzero(np.asarray(inside))
    if not len(covered):
        return np.zeros(np.shape(profile), np.float32)
    fn = _host_fns.get(settings)
    if fn is None:
        fn = _host_fns[settings] = jax.jit(lambda p, a, b: subtract_background(p, a, b, *settings))
    # the measured bins are one run (resample_to_grid covers first … last); bins inside it without data are 0
    return np.asarray(fn(jnp.asarray(profile, jnp.float32), jnp.int32(covered[0]), jnp.int32(covered[-1])))

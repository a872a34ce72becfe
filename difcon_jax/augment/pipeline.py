"""The composed augmentation pipeline: ``simulate(key, peaks, params) -> profile[n_bins]`` and its batched,
two-view form for Barlow Twins. Built by factories that close over the static config (house style 1).

Order (physics first, detector last): source wavelength → preferred orientation → intensity noise →
impurities → Kα2 → zero shift → displacement → position noise → widths (Caglioti ⊕ Scherrer) → back to the
reference 2θ scale → peak cropping → pseudo-Voigt rendering (binning) → smooth background → background
noise + counting noise (one Gaussian draw) → crop & pad → background removal (SNIP, the same function the
measured patterns go through; :mod:`difcon_jax.augment.background`) → renormalisation.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.augment import kernels as K
from difcon_jax.augment.background import make_background_removal
from difcon_jax.augment.params import sample_params_batch
from difcon_jax.augment.profiles import RenderGrid, render_peaks
from difcon_jax.grid import Grid


def make_grid(cfg) -> RenderGrid:
    """The renderer's view of the model's grid (:class:`difcon_jax.grid.Grid` of the config) with its cells of
    ``render_stride`` bins and the window the widest peak (``fwhm_max``) needs."""
    g = Grid.of(cfg)
    return RenderGrid(g.n_bins, g.tt_min, g.tt_max, cfg.render_stride, cfg.fwhm_max)


class Stages(NamedTuple):
    """The pipeline as three one-example functions (composed by :func:`make_simulate`): the work per peak,
    the rendering, the work per bin. Kept apart so a batch can render in cache-sized groups while the cheap
    per-peak and per-bin passes run as one wide vmap (:func:`make_simulate_batch`)."""

    sticks: Callable  # (key, peaks, params) -> (two_theta[P'], intensity[P'], fwhm[P']) on the reference scale
    render: Callable  # (two_theta, intensity, fwhm, params) -> float32[n_bins]
    finish: Callable  # (key, profile, params) -> float32[n_bins], background … renormalisation


def make_stages(cfg) -> Stages:
    """The three stages of the pipeline for an augmentation config (static settings closed over)."""
    grid = make_grid(cfg)
    centres = grid.centres
    lam_ref = float(cfg.lambda_ref)
    slots, ka2 = int(cfg.impurity_slots), bool(cfg.ka2)
    fmin, fmax = float(cfg.fwhm_min), float(cfg.fwhm_max)
    remove_background = make_background_removal(cfg)

    def sticks(key, peaks: K.Peaks, params):
        ks = jax.random.split(key, 5)  # 0–2 here, 3–4 in finish: the same split on both sides
        p = K.to_source_scale(None, peaks, params, lam_ref)
        p = K.march_dollase(None, p, params)
        p = K.peak_intensity_noise(ks[0], p, params)
        p = K.impurity_peaks(ks[1], p, params, slots)
        if ka2:  # static switch from the config, not a traced value
            p = K.ka2_doublet(None, p, params)
        p = K.zero_shift(None, p, params)
        p = K.sample_displacement(None, p, params)
        p = K.peak_position_noise(ks[2], p, params)
        fwhm_src = K.peak_widths(p.two_theta, params, fmin, fmax)
        tt, fwhm, ok = K.to_reference_scale(p.two_theta, fwhm_src, params, lam_ref)
        p = K.peak_cropping(None, p._replace(two_theta=tt, intensity=jnp.where(ok, p.intensity, 0.0)), params)
        return p.two_theta, p.intensity, jnp.clip(fwhm, fmin, fmax)

    def render(two_theta, intensity, fwhm, params):
        return render_peaks(two_theta, intensity, fwhm, params["eta"], params["rho"], grid)

    def finish(key, y, params):
        ks = jax.random.split(key, 5)
        y = K.smooth_background(ks[3], y, params, centres)
        y = K.detector_noise(ks[4], y, params)  # background noise + counting statistics, one draw
        y = K.crop_pad(None, y, params, centres)
        y = remove_background(None, y, params, centres)
        return K.renormalise(None, y)

    return Stages(sticks, render, finish)


def make_simulate(cfg):
    """``simulate(key, peaks: Peaks, params: dict) -> float32[n_bins]`` for one example."""
    st = make_stages(cfg)

    def simulate(key, peaks: K.Peaks, params):
        return st.finish(key, st.render(*st.sticks(key, peaks, params), params), params)

    return simulate


def vmap_in_chunks(fn, chunk: int):
    """``jax.vmap(fn)`` evaluated ``chunk`` examples per device at a time (``chunk`` ≤ 0: one vmap).

    Why: on a CPU the renderer's [P, window] intermediates for a whole batch (tens of MB) stream through
    memory; in groups of a few patterns they stay in cache, 2–3× faster (benchmarks/augment_throughput.py).
    Cheap passes lose by it, and accelerators want one wide vmap, so configs for them set
    ``augment_chunk = 0``. With the batch in D contiguous per-device blocks (the ``data`` mesh), iteration t
    takes examples t·chunk … (t + 1)·chunk − 1 of every block: each device keeps working on its own rows (no
    communication), and on one device the groups are contiguous rows, so the stacked outputs are the batch
    as it is (a reshape, no transpose of the [B, n_bins] result). Results equal the vmap's, example for example.
    """
    batched = jax.vmap(fn)
    if chunk <= 0:
        return batched

    def mapped(*args):
        b = jax.tree_util.tree_leaves(args)[0].shape[0]
        devices = jax.device_count()
        if b % (chunk * devices) or b // (chunk * devices) <= 1:
            return batched(*args)
        n = b // (chunk * devices)  # loop iterations

        def split(a):  # [B, …] -> [n, D·chunk, …]: iteration-major, then device block, then row in group
            a = jnp.moveaxis(a.reshape((devices, n, chunk) + a.shape[1:]), 1, 0)
            return a.reshape((n, devices * chunk) + a.shape[3:])

        def join(o):  # the inverse: [n, D·chunk, …] -> [B, …]
            o = jnp.moveaxis(o.reshape((n, devices, chunk) + o.shape[2:]), 0, 1)
            return o.reshape((b,) + o.shape[3:])

        out = jax.lax.map(lambda a: batched(*a), jax.tree_util.tree_map(split, args))
        return jax.tree_util.tree_map(join, out)

    return mapped


#: Render group per device when a config says "auto" (augment_chunk < 0) and the backend is a CPU.
CPU_RENDER_CHUNK = 8


def render_chunk(cfg) -> int:
    """Patterns per device rendered at a time: ``cfg.augment_chunk`` when ≥ 0 (0 = one vmap), and when
    negative ("auto") :data:`CPU_RENDER_CHUNK` on a CPU, one vmap on an accelerator (read at trace time)."""
    chunk = int(cfg.augment_chunk)
    if chunk < 0:
        return CPU_RENDER_CHUNK if jax.default_backend() == "cpu" else 0
    return chunk


def make_simulate_batch(cfg):
    """``simulate_batch(keys[B], peaks[B], params: dict of [B]) -> float32[B, n_bins]``: :func:`make_simulate`
    over a batch — per-peak and per-bin stages as one vmap, the renderer in groups of ``cfg.augment_chunk``
    examples per device (:func:`vmap_in_chunks`)."""
    st = make_stages(cfg)
    render = vmap_in_chunks(st.render, render_chunk(cfg))

    def simulate_batch(keys, peaks: K.Peaks, params):
        tt, inten, fwhm = jax.vmap(st.sticks)(keys, peaks, params)
        return jax.vmap(st.finish)(keys, render(tt, inten, fwhm, params), params)

    return simulate_batch


def make_augment_batch(cfg):
    """``augment(key, peaks: Peaks with leading batch axis) -> float32[B, n_bins]``: fresh parameters
    (LHS over the profile parameters) and keys per example, everything on the device."""
    simulate_batch = make_simulate_batch(cfg)

    def augment(key, peaks: K.Peaks):
        b = peaks.two_theta.shape[0]
        k_par, k_sim = jax.random.split(key)
        params = sample_params_batch(k_par, b, cfg)
        return simulate_batch(jax.random.split(k_sim, b), peaks, params)

    return augment


def make_two_views(cfg):
    """``two_views(key, peaks) -> (view_a, view_b)``: the same structures under independent augmentations."""
    augment = make_augment_batch(cfg)

    def two_views(key, peaks: K.Peaks):
        return augment(jax.random.fold_in(key, 0), peaks), augment(jax.random.fold_in(key, 1), peaks)

    return two_views


def host_peaks(table, rows=None) -> K.Peaks:
    """The peak table's arrays (rows ``rows``, all when None) as one :class:`Peaks` of NumPy float32 arrays
    (intensities 0 where masked)."""
    sel = slice(None) if rows is None else np.asarray(rows)
    inten = np.where(np.asarray(table.mask)[sel], np.asarray(table.intensity, np.float32)[sel], 0.0)
    return K.Peaks(np.asarray(table.two_theta, np.float32)[sel], inten.astype(np.float32),
                   np.asarray(table.po_cos2, np.float32)[sel], np.asarray(table.po_weight, np.float32)[sel])


def device_table(table, dtype=jnp.float32) -> K.Peaks:
    """The peak table's arrays as one on-device :class:`Peaks` (intensities 0 where masked)."""
    return K.Peaks(*(jnp.asarray(a, dtype) for a in host_peaks(table)))


def gather(peaks: K.Peaks, index) -> K.Peaks:
    """Rows ``index`` (int[B]) of an on-device table: the batch is gathered on the device."""
    return jax.tree_util.tree_map(lambda a: jnp.take(a, index, axis=0), peaks)

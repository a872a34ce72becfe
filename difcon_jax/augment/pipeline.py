"""The composed augmentation pipeline: ``simulate(key, peaks, params) -> profile[n_bins]`` and its batched,
two-view form for Barlow Twins. Built by factories that close over the static config (house style 1).

Order (physics first, detector last): source wavelength → preferred orientation → intensity noise →
impurities → Kα2 → zero shift → displacement → position noise → widths (Caglioti ⊕ Scherrer) → back to the
reference 2θ scale → peak cropping → pseudo-Voigt rendering (binning) → smooth background → background
noise + counting noise (one Gaussian draw) → crop & pad → background removal (SNIP, the same function the
measured patterns go through; :mod:`difcon_jax.augment.background`) → renormalisation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from difcon_jax.augment import kernels as K
from difcon_jax.augment.background import make_background_removal
from difcon_jax.augment.params import sample_params_batch
from difcon_jax.augment.profiles import Grid, render_peaks


def make_grid(cfg) -> Grid:
    """The model's 2θ grid from an augmentation config: ``n_bins`` bins over two_theta_min–two_theta_max
    (degrees, at ``lambda_ref``), renderer cells of ``render_stride`` bins."""
    return Grid(cfg.n_bins, cfg.two_theta_min, cfg.two_theta_max, cfg.render_stride, cfg.fwhm_max)


def make_simulate(cfg):
    """``simulate(key, peaks: Peaks, params: dict) -> float32[n_bins]`` for one example."""
    grid = make_grid(cfg)
    centres = grid.centres
    lam_ref = float(cfg.lambda_ref)
    slots, ka2 = int(cfg.impurity_slots), bool(cfg.ka2)
    fmin, fmax = float(cfg.fwhm_min), float(cfg.fwhm_max)
    remove_background = make_background_removal(cfg)

    def simulate(key, peaks: K.Peaks, params):
        ks = jax.random.split(key, 5)
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
        p = p._replace(two_theta=tt, intensity=jnp.where(ok, p.intensity, 0.0))
        p = K.peak_cropping(None, p, params)
        y = render_peaks(p.two_theta, p.intensity, jnp.clip(fwhm, fmin, fmax), params["eta"], params["rho"], grid)
        y = K.smooth_background(ks[3], y, params, centres)
        y = K.detector_noise(ks[4], y, params)  # background noise + counting statistics, one draw
        y = K.crop_pad(None, y, params, centres)
        y = remove_background(None, y, params, centres)
        return K.renormalise(None, y)

    return simulate


def make_augment_batch(cfg):
    """``augment(key, peaks: Peaks with leading batch axis) -> float32[B, n_bins]``: fresh parameters
    (LHS over the profile parameters) and keys per example, everything on the device."""
    simulate = make_simulate(cfg)

    def augment(key, peaks: K.Peaks):
        b = peaks.two_theta.shape[0]
        k_par, k_sim = jax.random.split(key)
        params = sample_params_batch(k_par, b, cfg)
        return jax.vmap(simulate)(jax.random.split(k_sim, b), peaks, params)

    return augment


def make_two_views(cfg):
    """``two_views(key, peaks) -> (view_a, view_b)``: the same structures under independent augmentations."""
    augment = make_augment_batch(cfg)

    def two_views(key, peaks: K.Peaks):
        return augment(jax.random.fold_in(key, 0), peaks), augment(jax.random.fold_in(key, 1), peaks)

    return two_views


def device_table(table, dtype=jnp.float32) -> K.Peaks:
    """The peak table's arrays as one on-device :class:`Peaks` (intensities 0 where masked)."""
    import numpy as np

    inten = np.where(np.asarray(table.mask), np.asarray(table.intensity, np.float32), 0.0)
    return K.Peaks(jnp.asarray(np.asarray(table.two_theta), dtype), jnp.asarray(inten, dtype),
                   jnp.asarray(np.asarray(table.po_cos2), dtype), jnp.asarray(np.asarray(table.po_weight), dtype))


def gather(peaks: K.Peaks, index) -> K.Peaks:
    """Rows ``index`` (int[B]) of an on-device table: the batch is gathered on the device."""
    return jax.tree_util.tree_map(lambda a: jnp.take(a, index, axis=0), peaks)

"""Augmentation kernels: pure functions on ONE example, ``f(key, x, params)``; batch with ``jax.vmap``.

``x`` is a :class:`Peaks` (stick pattern, positions in degrees 2θ) or a profile ``float[n_bins]``;
``params`` is a dict of scalars drawn by :mod:`difcon_jax.augment.params`. Kernels never branch in Python
on traced values; a disabled effect is the identity through its parameter (zero shift 0, r = 1, ...).

Table 1 of the paper: :func:`zero_shift`, :func:`peak_position_noise`, :func:`peak_cropping`,
:func:`peak_intensity_noise`, binning (:func:`difcon_jax.augment.profiles.bin_sticks`),
:func:`impurity_peaks`, the asymmetric pseudo-Voigt with Caglioti FWHM (:func:`peak_widths` and
:func:`difcon_jax.augment.profiles.render_peaks`), :func:`background_noise`, :func:`crop_pad`,
:func:`renormalise`.
Beyond Table 1: :func:`ka2_doublet`, :func:`sample_displacement`, :func:`march_dollase`,
:func:`smooth_background` (Chebyshev + amorphous hump), :func:`counting_noise` (fused with the
background noise in :func:`detector_noise`), crystallite-size
(Scherrer) broadening in :func:`peak_widths`, and the source wavelength (:func:`to_source_scale`,
:func:`to_reference_scale`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.augment.noise_stream import hash_normal
from difcon_jax.augment.profiles import caglioti_fwhm, measured_bins
from difcon_jax.crystal.stick import lorentz_polarisation as _lp

#: Goniometer radius (mm) for sample displacement: a common laboratory Bragg–Brentano value.
GONIOMETER_RADIUS_MM = 240.0
#: Scherrer constant for spherical crystallites.
SCHERRER_K = 0.9


class Peaks(NamedTuple):
    """One stick pattern. two_theta, intensity: float[P] (degrees, area; 0 = no peak);
    po_cos2, po_weight: float[P, K] March–Dollase data (see the peak-table format)."""

    two_theta: jax.Array
    intensity: jax.Array
    po_cos2: jax.Array
    po_weight: jax.Array


def _sin_theta(tt):
    return jnp.sin(jnp.radians(tt) / 2)


def _two_theta(sin_theta):
    return 2 * jnp.degrees(jnp.arcsin(jnp.clip(sin_theta, -1.0, 1.0)))


def lorentz_polarisation(two_theta):
    """LP(θ) of the stick pattern (crystal/stick.py, Eq. 3), evaluated with jax.numpy."""
    return _lp(two_theta, xp=jnp)


def to_source_scale(key, peaks: Peaks, params, lambda_ref: float, max_two_theta: float = 150.0) -> Peaks:
    """Re-express a pattern simulated at ``lambda_ref`` (Å) for the source ``params['lambda1']``.

    Same d-spacings: sin θ_src = (λ_src/λ_ref) sin θ_ref. Intensities are re-weighted by
    LP(θ_src)/LP(θ_ref); reflections beyond the instrument's ``max_two_theta`` vanish.
    """
    s = _sin_theta(peaks.two_theta) * params["lambda1"] / lambda_ref
    ok = (s < _sin_theta(max_two_theta)) & (peaks.intensity > 0)
    tt = jnp.where(ok, _two_theta(s), 0.0)
    safe_tt = jnp.where(ok, tt, 90.0)
    w = lorentz_polarisation(safe_tt) / lorentz_polarisation(jnp.where(ok, peaks.two_theta, 90.0))
    return peaks._replace(two_theta=tt, intensity=jnp.where(ok, peaks.intensity * w, 0.0))


def to_reference_scale(two_theta_src, fwhm_src, params, lambda_ref: float):
    """Map source-scale positions and FWHMs (degrees) back to the reference-wavelength 2θ scale (through d).

    FWHM maps with the local derivative dθ_ref/dθ_src = (λ_ref cos θ_src)/(λ_src cos θ_ref). Positions that
    have no reference-scale angle (sin θ_ref > 1) get intensity-free position 0 from the caller's mask.
    """
    s_ref = _sin_theta(two_theta_src) * lambda_ref / params["lambda1"]
    ok = s_ref < 1.0
    tt_ref = jnp.where(ok, _two_theta(s_ref), 0.0)
    cos_src = jnp.cos(jnp.radians(two_theta_src) / 2)
    cos_ref = jnp.sqrt(jnp.maximum(1 - s_ref**2, 1e-6))
    return tt_ref, fwhm_src * (lambda_ref * cos_src) / (params["lambda1"] * cos_ref), ok


def zero_shift(key, peaks: Peaks, params) -> Peaks:
    """Table 1 'zero shift': every peak moves by the same δ = params['zero_shift'] (degrees 2θ)."""
    return peaks._replace(two_theta=peaks.two_theta + params["zero_shift"])


def sample_displacement(key, peaks: Peaks, params) -> Peaks:
    """Specimen displacement s (mm, params['displacement']): Δ2θ = −2 s cos θ / R (radians), R = 240 mm."""
    th = jnp.radians(peaks.two_theta) / 2
    return peaks._replace(two_theta=peaks.two_theta
                          - jnp.degrees(2 * params["displacement"] * jnp.cos(th) / GONIOMETER_RADIUS_MM))


def peak_position_noise(key, peaks: Peaks, params) -> Peaks:
    """Table 1 'peak position noise': independent N(0, σ²) per peak, σ = params['position_noise'] (deg)."""
    eps = jax.random.normal(key, peaks.two_theta.shape)
    return peaks._replace(two_theta=peaks.two_theta + params["position_noise"] * eps)


def peak_intensity_noise(key, peaks: Peaks, params) -> Peaks:
    """Table 1 'intensity noise': I ← I · max(0, 1 + σ ε), σ = params['intensity_noise']."""
    eps = jax.random.normal(key, peaks.intensity.shape)
    return peaks._replace(intensity=peaks.intensity * jnp.maximum(0.0, 1 + params["intensity_noise"] * eps))


def peak_cropping(key, peaks: Peaks, params) -> Peaks:
    """Table 1 'peak cropping': peaks below params['crop_low'] or above params['crop_high'] (deg) vanish."""
    keep = (peaks.two_theta >= params["crop_low"]) & (peaks.two_theta <= params["crop_high"])
    return peaks._replace(intensity=jnp.where(keep, peaks.intensity, 0.0))


def march_dollase(key, peaks: Peaks, params) -> Peaks:
    """Preferred orientation (March–Dollase), r = params['po_r'] (1 = random powder).

    P(α) = (r² cos²α + sin²α / r)^(−3/2), averaged over the members of each peak (po_cos2/po_weight).
    Normalisation: the March function integrates to 1 over orientations, so ⟨P⟩ over a random set of
    plane normals is 1 — a texture redistributes intensity between peaks, it does not change the total
    in expectation (tested).
    """
    r = params["po_r"]
    xp = np if isinstance(peaks.po_cos2, np.ndarray) else jnp  # host callers (the lab renderer) stay in NumPy
    p = (r * r * peaks.po_cos2 + (1 - peaks.po_cos2) / r) ** -1.5
    factor = (p * peaks.po_weight).sum(-1) / xp.maximum(peaks.po_weight.sum(-1), 1e-12)
    return peaks._replace(intensity=peaks.intensity * factor)


def impurity_peaks(key, peaks: Peaks, params, n_slots: int, two_theta_range=(5.0, 115.0)) -> Peaks:
    """Table 1 'impurity peaks': appends ``n_slots`` peaks; the first params['impurity_count'] are live,
    at uniform positions with intensities up to params['impurity_intensity'] × the strongest peak."""
    k1, k2 = jax.random.split(key)
    pos = jax.random.uniform(k1, (n_slots,), minval=two_theta_range[0], maxval=two_theta_range[1])
    live = jnp.arange(n_slots) < jnp.floor(params["impurity_count"])
    amp = jax.random.uniform(k2, (n_slots,)) * params["impurity_intensity"] * peaks.intensity.max()
    k = peaks.po_cos2.shape[-1]
    w = jnp.zeros((n_slots, k)).at[:, 0].set(1.0)
    return Peaks(jnp.concatenate([peaks.two_theta, pos]), jnp.concatenate([peaks.intensity, jnp.where(live, amp, 0.0)]),
                 jnp.concatenate([peaks.po_cos2, jnp.zeros((n_slots, k))]), jnp.concatenate([peaks.po_weight, w]))


def ka2_doublet(key, peaks: Peaks, params) -> Peaks:
    """Kα1/Kα2 doublet: each peak gets a copy at sin θ₂ = (λ₂/λ₁) sin θ₁ with params['ka2_ratio'] of
    its intensity (0 for a monochromatic source). Doubles the peak count (static shape)."""
    s2 = _sin_theta(peaks.two_theta) * params["lambda2"] / params["lambda1"]
    ok = (s2 < 0.999) & (peaks.intensity > 0)
    tt2 = jnp.where(ok, _two_theta(s2), 0.0)
    i2 = jnp.where(ok, peaks.intensity * params["ka2_ratio"], 0.0)
    cat = jnp.concatenate
    return Peaks(cat([peaks.two_theta, tt2]), cat([peaks.intensity, i2]), cat([peaks.po_cos2, peaks.po_cos2]),
                 cat([peaks.po_weight, peaks.po_weight]))


def peak_widths(two_theta, params, fwhm_min: float, fwhm_max: float):
    """FWHM per peak (degrees): Caglioti (U, V, W, P) combined in quadrature with Scherrer size broadening
    Kλ/(L cos θ) for crystallite size L = params['crystallite_size'] (nm) at λ = params['lambda1'] (Å)."""
    cag = caglioti_fwhm(two_theta, params["U"], params["V"], params["W"], params["P"], fwhm_min, fwhm_max)
    th = jnp.radians(two_theta) / 2
    size = jnp.degrees(SCHERRER_K * params["lambda1"] / (10.0 * params["crystallite_size"] * jnp.cos(th)))
    return jnp.clip(jnp.sqrt(cag**2 + size**2), fwhm_min, fwhm_max)


def chebyshev3(c, x):
    """c₀T₀ + c₁T₁ + c₂T₂ + c₃T₃ at x (Chebyshev polynomials of the first kind, degree ≤ 3)."""
    return c[0] + c[1] * x + c[2] * (2 * x * x - 1) + c[3] * (4 * x**3 - 3 * x)


def chebyshev3_range(c):
    """(min, max) of :func:`chebyshev3` over x ∈ [−1, 1]: the ends and the real roots of the derivative
    12c₃x² + 4c₂x + (c₁ − 3c₃) inside the interval (numerically stable quadratic formula; a = 0 and no real
    roots handled by falling back to the ends)."""
    a, b, q0 = 12 * c[3], 4 * c[2], c[1] - 3 * c[3]
    disc = b * b - 4 * a * q0
    q = -0.5 * (b + jnp.where(b < 0, -1.0, 1.0) * jnp.sqrt(jnp.maximum(disc, 0.0)))
    real = disc >= 0
    r1 = jnp.where(real & (a != 0), q / jnp.where(a != 0, a, 1.0), -1.0)
    r2 = jnp.where(real & (q != 0), q0 / jnp.where(q != 0, q, 1.0), -1.0)
    xs = jnp.clip(jnp.stack([jnp.float32(-1.0), jnp.float32(1.0), r1, r2]), -1.0, 1.0)
    v = chebyshev3(c, xs)
    return v.min(), v.max()


def smooth_background(key, profile, params, centres):
    """Chebyshev background (degree 3, coefficients ~ U(−1, 1), shifted ≥ 0, peak height
    params['background_level'] × max) plus an amorphous hump (Gaussian at params['hump_center'] deg,
    FWHM params['hump_width'] deg, height params['hump_height'] × max)."""
    x = 2 * (centres - centres[0]) / (centres[-1] - centres[0]) - 1
    c = jax.random.uniform(key, (4,), minval=-1.0, maxval=1.0)
    lo, hi = chebyshev3_range(c)  # scalars: no pass over the bins just to find the extremes
    cheb = (chebyshev3(c, x) - lo) / jnp.maximum(hi - lo, 1e-6)
    ymax = profile.max()
    hump = jnp.exp(-4 * jnp.log(2.0) * ((centres - params["hump_center"]) / params["hump_width"]) ** 2)
    return profile + ymax * (params["background_level"] * cheb + params["hump_height"] * hump)


def background_noise_variance(profile, params):
    """Table 1 'background noise' variance per bin: white (σ_w·max)² plus intensity-dependent (σ_s·y)²."""
    return (params["white_noise"] * profile.max()) ** 2 + (params["scaled_noise"] * profile) ** 2


def counting_variance(profile, params):
    """Poisson counting variance per bin, in profile units, for params['counts'] counts in the strongest bin
    (λ = y/max·counts has variance λ, i.e. y·max/counts)."""
    return jnp.maximum(profile, 0.0) * profile.max() / params["counts"]


def gaussian_noise(key, profile, variance):
    """Adds N(0, variance) per bin and clips at 0 (counts cannot be negative). The normals come from the
    counter-based hash stream of :mod:`difcon_jax.augment.noise_stream` (one per bin, ~5× cheaper than
    ``jax.random.normal``)."""
    eps = hash_normal(key, profile.shape)
    return jnp.maximum(profile + jnp.sqrt(jnp.maximum(variance, 0.0)) * eps, 0.0)


def background_noise(key, profile, params):
    """Table 1 'background noise': white N(0, (σ_w·max)²) plus intensity-dependent N(0, (σ_s·y)²)."""
    return gaussian_noise(key, profile, background_noise_variance(profile, params))


def counting_noise(key, profile, params):
    """Poisson counting statistics, normal approximation N(λ, λ) (accurate for λ ≳ 10, and far cheaper
    than exact Poisson draws on accelerators)."""
    return gaussian_noise(key, profile, counting_variance(profile, params))


def detector_noise(key, profile, params):
    """Background noise and counting statistics in one draw: independent Gaussians add their variances,
    so this has exactly the distribution of :func:`background_noise` then :func:`counting_noise` (up to
    the clip at 0) at a third of the random-number cost."""
    return gaussian_noise(key, profile, background_noise_variance(profile, params) + counting_variance(profile, params))


def crop_pad(key, profile, params, centres):
    """Table 1 'crop & pad': the measured range is [params['measure_low'], params['measure_high']] (deg);
    outside it the profile is zero-padded."""
    first, last = measured_bins(params, centres)
    idx = jnp.arange(profile.shape[0])
    return jnp.where((idx >= first) & (idx <= last), profile, 0.0)


def renormalise(key, profile, params=None):
    """Table 1 'renormalisation': non-negative, maximum 1 (an all-zero profile stays zero)."""
    profile = jnp.maximum(profile, 0.0)
    return profile / jnp.maximum(profile.max(), 1e-12)

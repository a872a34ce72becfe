"""An independent laboratory-pattern simulator: what a diffractometer would record for a stick pattern, written
apart from the training augmentation so the network can be scored on patterns it did not render itself.

Where the training renderer integrates a split pseudo-Voigt over bins on the model's grid, this one samples
points the way an instrument does, with the profile model of Rietveld programs:

* lines Cu Kα1, Kα2 (I₂/I₁ = 0.5, or none: a monochromator) and Kβ (a few per mille to a few per cent of Kα1
  behind a Ni filter), each at its own 2θ through d;
* zero shift and sample displacement s (Δ2θ = −2 s cos θ / R, R = 240 mm);
* Thompson–Cox–Hastings pseudo-Voigt: Gaussian FWHM from Caglioti U, V, W, Lorentzian FWHM X tan θ + Y / cos θ
  (strain and size), combined by the TCH polynomials into one FWHM and mixing η;
* axial-divergence asymmetry (Finger–Cox–Jephcoat-like): each line is the average of profiles displaced
  towards the beam centre by δ = −A·cot 2θ·u², u on a Gauss–Legendre grid, so low-angle peaks grow a tail;
* March–Dollase texture along c* (the project's :func:`~difcon_jax.augment.kernels.march_dollase`: physics
  is shared, rendering is not);
* background: a polynomial, air scatter rising towards low angles, sometimes an amorphous hump, a constant
  (fluorescence), all in counts; Poisson counting at a random count level;
* a random step (0.01–0.03°) over a random range (start 5–15°, end 70–90°).

The result is a :class:`~difcon_jax.patterns.reader.Measured` file-like pattern (Cu Kα mean as its stated
wavelength), which goes through :func:`~difcon_jax.patterns.preprocess.to_model_input` like any user file.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from difcon_jax.augment.kernels import Peaks, march_dollase
from difcon_jax.augment.profiles import caglioti_fwhm
from difcon_jax.crystal.radiation import KA2_RATIO, WAVELENGTHS
from difcon_jax.patterns.reader import Measured

GONIOMETER_RADIUS_MM = 240.0
_GL_U, _GL_W = np.polynomial.legendre.leggauss(4)  # axial-divergence quadrature on u ∈ [−1, 1]


@dataclasses.dataclass(frozen=True)
class LabRanges:
    """Ranges each pattern draws from, uniformly (units: degrees 2θ, degrees², mm, counts)."""
    step: tuple = (0.01, 0.03)
    start: tuple = (5.0, 15.0)
    end: tuple = (70.0, 90.0)
    U: tuple = (0.0, 0.02)
    V: tuple = (-0.01, 0.0)
    W: tuple = (0.002, 0.012)
    X: tuple = (0.0, 0.08)  # Lorentzian strain term (× tan θ)
    Y: tuple = (0.0, 0.06)  # Lorentzian size term (× 1 / cos θ)
    zero: tuple = (-0.05, 0.05)
    displacement_mm: tuple = (-0.15, 0.15)
    axial_deg: tuple = (0.0, 0.12)  # A: the largest axial shift at 2θ = 45° (cot 2θ = 1)
    kbeta: tuple = (0.0, 0.03)  # Kβ / Kα1 after the filter
    texture_r: tuple = (0.75, 1.25)
    texture_probability: float = 0.5
    peak_counts: tuple = (300.0, 1e5)  # counts at the strongest peak (log-uniform)
    background_fraction: tuple = (0.01, 0.3)  # flat background / strongest peak
    air_scatter: tuple = (0.0, 3.0)  # air-scatter counts at 10° / flat background
    hump_probability: float = 0.2


def _uniform(rng, r):
    return float(rng.uniform(*r))


def tch_profile(x, fwhm_g, fwhm_l):
    """Thompson–Cox–Hastings pseudo-Voigt of unit area at offsets x (degrees): (profile, FWHM, η)."""
    g, lo = fwhm_g, fwhm_l
    fwhm = (g**5 + 2.69269 * g**4 * lo + 2.42843 * g**3 * lo**2 + 4.47163 * g**2 * lo**3 + 0.07842 * g * lo**4
            + lo**5) ** 0.2
    q = lo / fwhm
    eta = 1.36603 * q - 0.47719 * q**2 + 0.11116 * q**3
    gauss = np.sqrt(4 * np.log(2) / np.pi) / fwhm * np.exp(-4 * np.log(2) * (x / fwhm) ** 2)
    lorentz = (2 / (np.pi * fwhm)) / (1 + 4 * (x / fwhm) ** 2)
    return eta * lorentz + (1 - eta) * gauss, fwhm, eta


def _lines(rng, ka2: bool, r: LabRanges):
    lines = [(WAVELENGTHS["CuKa1"], 1.0)]
    if ka2:
        lines.append((WAVELENGTHS["CuKa2"], KA2_RATIO))
    lines.append((WAVELENGTHS["CuKb1"], _uniform(rng, r.kbeta)))
    return lines


def render_lab_pattern(rng: np.random.Generator, two_theta: np.ndarray, intensity: np.ndarray,
                       po_cos2: np.ndarray | None = None, po_weight: np.ndarray | None = None, *,
                       lambda_ref: float = WAVELENGTHS["CuKa"], ka2: bool = True, ranges: LabRanges = LabRanges(),
                       source: str = "lab") -> Measured:
    """One simulated measurement of the sticks (2θ float[P] degrees at ``lambda_ref`` Å, intensity float[P]
    areas, March–Dollase data float[P, K] ×2 or None) with Cu radiation: a :class:`Measured` (counts)."""
    r = ranges
    keep = intensity > 0
    tt_ref, area = np.asarray(two_theta, np.float64)[keep], np.asarray(intensity, np.float64)[keep]
    if po_cos2 is not None and rng.random() < r.texture_probability:
        textured = march_dollase(None, Peaks(tt_ref, area, np.asarray(po_cos2)[keep], np.asarray(po_weight)[keep]),
                                 {"po_r": _uniform(rng, r.texture_r)})
        area = np.asarray(textured.intensity, np.float64)
    step = _uniform(rng, r.step)
    tt = np.arange(_uniform(rng, r.start), _uniform(rng, r.end), step)
    d = lambda_ref / (2 * np.sin(np.radians(tt_ref) / 2))
    U, V, W, X, Y = (_uniform(rng, getattr(r, k)) for k in "UVWXY")
    zero, disp, axial = _uniform(rng, r.zero), _uniform(rng, r.displacement_mm), _uniform(rng, r.axial_deg)
    signal = np.zeros_like(tt)
    for lam, weight in _lines(rng, ka2, r):
        s = lam / (2 * d)
        ok = s < 1
        c = 2 * np.degrees(np.arcsin(s[ok]))
        th = np.radians(c) / 2
        c = c + zero - np.degrees(2 * disp * np.cos(th) / GONIOMETER_RADIUS_MM)
        fwhm_g = np.asarray(caglioti_fwhm(c, U, V, W, fwhm_min=0.02))
        fwhm_l = X * np.tan(th) + Y / np.cos(th) + 1e-4
        shift = -axial / np.tan(np.radians(np.clip(c, 2.0, 178.0)))  # toward the beam centre, large at low angle
        u = ((_GL_U + 1) / 2) ** 2  # [Q] quadrature of the axial divergence, all components in one call
        centre = (c[:, None] + shift[:, None] * u[None, :]).ravel()
        a = (weight * area[ok][:, None] * _GL_W[None, :] / 2).ravel()
        signal += _add_peaks(tt, centre, a, np.repeat(fwhm_g, len(u)), np.repeat(fwhm_l, len(u)))
    return Measured(tt, _counts(rng, tt, signal, r), WAVELENGTHS["CuKa"], "file", source)  # a Cu tube's file


def _add_peaks(tt, centre, area, fwhm_g, fwhm_l, reach: float = 15.0):
    """Σ of TCH peaks on the uniform points tt, each evaluated within ``reach`` FWHMs of its centre (all peaks
    at once: a [P, K] window per peak, K from the widest)."""
    step = tt[1] - tt[0]
    half = int(np.ceil(reach * float(np.max(fwhm_g + fwhm_l, initial=0.0)) / step)) + 1
    first = np.round((centre - tt[0]) / step).astype(np.int64) - half
    idx = first[:, None] + np.arange(2 * half + 1)[None, :]  # [P, K]
    inside = (idx >= 0) & (idx < len(tt))
    x = tt[0] + idx * step - centre[:, None]
    prof, _, _ = tch_profile(x, fwhm_g[:, None], fwhm_l[:, None])
    out = np.zeros_like(tt)
    np.add.at(out, idx[inside], (area[:, None] * prof * step)[inside])
    return out


def _counts(rng, tt, signal, r: LabRanges) -> np.ndarray:
    """Scale the signal to a count level, add the background and count (Poisson)."""
    peak = float(np.exp(rng.uniform(*np.log(r.peak_counts))))
    y = signal / max(signal.max(), 1e-12) * peak
    flat = _uniform(rng, r.background_fraction) * peak
    x = (tt - tt[0]) / max(tt[-1] - tt[0], 1e-9)
    poly = flat * (1 + rng.uniform(-0.3, 0.3) * x + rng.uniform(-0.3, 0.3) * x**2)
    air = _uniform(rng, r.air_scatter) * flat * (10.0 / np.maximum(tt, 1.0)) ** 2
    hump = 0.0
    if rng.random() < r.hump_probability:
        hump = rng.uniform(0.5, 2.0) * flat * np.exp(-0.5 * ((tt - rng.uniform(18, 30)) / rng.uniform(3, 6)) ** 2)
    return rng.poisson(np.maximum(y + poly + air + hump, 0.0)).astype(np.float64)

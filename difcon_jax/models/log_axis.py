"""The pattern on an axis uniform in u = ln sin θ, where the ratios of d-spacings are distances.

Bragg's law gives sin θ = λ / 2d, so ln sin θ = ln(λ/2) − ln d: on this axis a cell scaled by s moves every line
by the same −ln s, and the lines of a lattice keep their spacings whatever its size (a cubic F lattice's
3 : 4 : 8 : 11 in Q² is one fixed motif). A convolution — translation-equivariant — then learns a centring or an
extinction pattern once, not once per cell size as on the 2θ axis (results/network_axes/README.md: the misses of
the shipped network are lattice centring read off the ratios of a few lines). The resampling is a fixed linear map
in front of the encoder (``model.log_sin_bins``), so augmentation, measured-file reading and the model grid stay
as they are.
"""

from __future__ import annotations

from typing import Sequence

import jax.numpy as jnp
import numpy as np


def log_sin_positions(n_in: int, two_theta_range: Sequence[float], n_out: int, two_theta_from: float) -> np.ndarray:
    """float64[n_out + 1]: the edges of ``n_out`` bins uniform in ln sin θ from 2θ = ``two_theta_from`` to the
    grid's top, as fractional positions on the input grid (``n_in`` bins over ``two_theta_range``, degrees 2θ;
    position j is bin j's lower edge)."""
    lo, hi = float(two_theta_range[0]), float(two_theta_range[1])
    start = max(float(two_theta_from), lo, 1e-3)
    if not start < hi < 180.0:
        raise ValueError(f"ln sin θ axis: need {start}° < 2θ_max = {hi}° < 180°")
    u = np.linspace(np.log(np.sin(np.radians(start / 2))), np.log(np.sin(np.radians(hi / 2))), n_out + 1)
    tt = 2 * np.degrees(np.arcsin(np.exp(u)))
    return np.clip((tt - lo) / (hi - lo) * n_in, 0.0, float(n_in))


def resample_log_sin(x, n_out: int, two_theta_range: Sequence[float], two_theta_from: float = 3.0):
    """Profiles x float[..., n_in] on a uniform 2θ grid → float[..., n_out] on the ln sin θ axis from
    ``two_theta_from`` degrees to the top of ``two_theta_range``: each output bin is the mean of the profile over
    its 2θ span (the integral of the piecewise-constant profile, so no line falls between samples where the axis
    is coarser than the grid, and heights are kept where it is finer)."""
    x = jnp.asarray(x, jnp.float32)  # a cumulative sum in bf16 would lose the lines
    n_in = x.shape[-1]
    pos = log_sin_positions(n_in, two_theta_range, n_out, two_theta_from)
    i0 = np.minimum(np.floor(pos).astype(np.int32), n_in - 1)
    frac = jnp.asarray(pos - i0, jnp.float32)
    width = jnp.asarray(np.maximum(np.diff(pos), 1e-9), jnp.float32)
    c = jnp.concatenate([jnp.zeros(x.shape[:-1] + (1,), jnp.float32), jnp.cumsum(x, axis=-1)], axis=-1)
    at = c[..., i0] * (1 - frac) + c[..., i0 + 1] * frac  # the cumulative integral at each edge
    return (at[..., 1:] - at[..., :-1]) / width

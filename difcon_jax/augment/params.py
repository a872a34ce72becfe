"""Augmentation parameters drawn from the ranges of an ml-collections config (device side).

``cfg.ranges[name]`` is a tuple of disjoint intervals ``((lo, hi), ...)``: a value picks an interval with
probability proportional to its length, then a uniform value inside it (log-uniform for names in
``cfg.log_uniform``). Several intervals let the invariance-test config surround the training range on both
sides while staying disjoint from it. ``cfg.sources`` lists X-ray sources ``(name, λ1 Å, λ2 Å, Kα2 ratio,
probability)``. Latin hypercube sampling (the paper's choice for profile parameters) stratifies the names in
``cfg.latin_hypercube_keys`` across a batch.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def _intervals(cfg, name):
    iv = np.asarray(cfg.ranges[name], dtype=np.float64).reshape(-1, 2)
    if np.any(iv[:, 1] < iv[:, 0]):
        raise ValueError(f"augment range {name}: an interval has hi < lo: {iv.tolist()}")
    return iv


def _from_unit(u, iv: np.ndarray, log: bool):
    """Inverse CDF: u ∈ [0, 1) → value in the union of intervals (uniform or log-uniform within each)."""
    lo, hi = (np.log(iv[:, 0]), np.log(iv[:, 1])) if log else (iv[:, 0], iv[:, 1])
    lengths = hi - lo
    total = lengths.sum()
    if total == 0:  # a fixed value
        return jnp.full_like(u, float(np.exp(lo[0]) if log else lo[0]))
    cum = np.concatenate([[0.0], np.cumsum(lengths)]) / total
    k = jnp.clip(jnp.searchsorted(jnp.asarray(cum[1:-1]), u, side="right"), 0, len(iv) - 1)
    frac = (u - jnp.asarray(cum)[k]) / jnp.asarray(lengths / total)[k]
    v = jnp.asarray(lo)[k] + frac * jnp.asarray(lengths)[k]
    return jnp.exp(v) if log else v


def param_names(cfg) -> tuple[str, ...]:
    """Names of the augmentation parameters (the keys of ``cfg.ranges``), sorted: the order of the parameter
    vector."""
    return tuple(sorted(cfg.ranges.keys()))


def sample_params(key, cfg) -> dict:
    """One example's parameters: a dict of float32 scalars (ranges + the source's λ1, λ2, Kα2 ratio)."""
    names = param_names(cfg)
    k_src, k_u = jax.random.split(key)
    u = jax.random.uniform(k_u, (len(names),))
    out = {n: _from_unit(u[i], _intervals(cfg, n), n in cfg.log_uniform).astype(jnp.float32)
           for i, n in enumerate(names)}
    src = np.asarray([s[1:] for s in cfg.sources], dtype=np.float64)  # λ1, λ2, ratio, p
    j = jax.random.choice(k_src, len(src), p=jnp.asarray(src[:, 3] / src[:, 3].sum()))
    out["lambda1"] = jnp.asarray(src[:, 0], jnp.float32)[j]
    out["lambda2"] = jnp.asarray(src[:, 1], jnp.float32)[j]
    out["ka2_ratio"] = jnp.asarray(src[:, 2], jnp.float32)[j]
    return out


def latin_hypercube(key, n: int, d: int):
    """float[n, d] in [0, 1): each column has exactly one point in each of the n strata."""
    k1, k2 = jax.random.split(key)
    perms = jax.vmap(lambda k: jax.random.permutation(k, n))(jax.random.split(k1, d)).T  # [n, d]
    return (perms + jax.random.uniform(k2, (n, d))) / n


def sample_params_batch(key, batch: int, cfg) -> dict:
    """Parameters for a batch: dict of float32[batch]; LHS over ``cfg.latin_hypercube_keys`` if enabled."""
    k_ind, k_lhs = jax.random.split(key)
    params = jax.vmap(lambda k: sample_params(k, cfg))(jax.random.split(k_ind, batch))
    keys = tuple(cfg.latin_hypercube_keys) if cfg.latin_hypercube else ()
    if keys:
        u = latin_hypercube(k_lhs, batch, len(keys))
        for i, n in enumerate(keys):
            params[n] = _from_unit(u[:, i], _intervals(cfg, n), n in cfg.log_uniform).astype(jnp.float32)
    return params


def ranges_overlap(a, b) -> float:
    """Total length shared by two unions of intervals (0 = disjoint, touching endpoints allowed)."""
    ia, ib = np.asarray(a, float).reshape(-1, 2), np.asarray(b, float).reshape(-1, 2)
    return float(sum(max(0.0, min(x[1], y[1]) - max(x[0], y[0])) for x in ia for y in ib))


def neutral_params(cfg, U=0.004, V=-0.002, W=0.002, eta=0.5) -> dict:
    """A 'clean' laboratory pattern: Cu Kα1 only, moderate Caglioti widths, no noise, shift, texture,
    impurities, background or cropping (the reference row of the Fig. 2-style picture)."""
    p = {n: jnp.float32(_intervals(cfg, n)[0, 0]) for n in param_names(cfg)}
    p.update({k: jnp.float32(v) for k, v in dict(
        zero_shift=0.0, position_noise=0.0, crop_low=0.0, crop_high=180.0, intensity_noise=0.0,
        impurity_count=0.0, impurity_intensity=0.0, U=U, V=V, W=W, P=0.0, eta=eta, rho=0.0, white_noise=0.0,
        scaled_noise=0.0, measure_low=0.0, measure_high=180.0, displacement=0.0, po_r=1.0,
        crystallite_size=1e6, background_level=0.0, hump_height=0.0, hump_center=30.0, hump_width=10.0,
        counts=1e9, lambda1=float(cfg.lambda_ref), lambda2=float(cfg.lambda_ref), ka2_ratio=0.0).items()})
    return p

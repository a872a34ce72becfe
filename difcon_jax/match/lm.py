"""Bounded Levenberg–Marquardt for one least-squares problem, pure JAX (vmap it over candidates).

``levenberg_marquardt(residual, x0, lower, upper, iterations)`` minimises ``|residual(x)|²`` with x kept in
[lower, upper] by projection after each step; the damping is Marquardt's (λ·diag(JᵀJ)), so parameters of
very different scales (a cell strain of 10⁻², a width of 10⁻¹ deg, a log scale) step alike. A fixed number
of iterations and no Python control flow on traced values: the loop is a ``lax.fori_loop``. A parameter
with lower == upper is fixed (its column is zeroed).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def levenberg_marquardt(residual, x0, lower, upper, iterations: int, lam0: float = 1e-2):
    """Returns (x float[P], cost = |residual(x)|², JᵀJ at x float[P, P]) after ``iterations`` steps.

    ``residual``: x float[P] -> float[N], differentiable (forward mode: P tangents per Jacobian)."""
    free = (upper > lower).astype(x0.dtype)
    x0 = jnp.clip(x0, lower, upper)

    def cost_of(x):
        r = residual(x)
        return jnp.sum(r * r)

    def body(_, carry):
        x, lam, cost = carry
        r, jvp = jax.linearize(residual, x)  # the residual and its Jacobian from one forward pass
        j = jax.vmap(jvp, out_axes=1)(jnp.eye(x.shape[0], dtype=x.dtype)) * free[None, :]
        a = j.T @ j
        g = j.T @ r
        diag = jnp.diag(a)
        damp = lam * (diag + 1e-9 * jnp.max(diag) + 1e-30) + (1.0 - free) * 1.0
        step = jnp.linalg.solve(a + jnp.diag(damp), -g) * free
        x_new = jnp.clip(x + step, lower, upper)
        c_new = cost_of(x_new)
        better = jnp.isfinite(c_new) & (c_new < cost)
        return (jnp.where(better, x_new, x), jnp.where(better, lam * 0.3, lam * 5.0),
                jnp.where(better, c_new, cost))

    x, _, cost = jax.lax.fori_loop(0, iterations, body, (x0, jnp.asarray(lam0, x0.dtype), cost_of(x0)))
    j = jax.jacfwd(residual)(x) * free[None, :]
    return x, cost, j.T @ j

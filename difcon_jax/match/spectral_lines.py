"""A measured line's wavelength and its companions (host side, NumPy): the Q = 1/d² of lines observed at 2θ on the
model's grid — an unresolved Kα doublet peaks near its mean wavelength, a resolved one at Kα1 — and which peaks are
another's Kα2 or Kβ line. Shared by indexing (:mod:`~difcon_jax.match.indexing`), the orders of one spacing
(:mod:`~difcon_jax.match.orders`), the unexplained peaks (:mod:`~difcon_jax.match.lines`) and the absences' check
(:mod:`~difcon_jax.match.novel`).
"""

from __future__ import annotations

import numpy as np

from difcon_jax.crystal.radiation import WAVELENGTHS


def _line_wavelength(two_theta: np.ndarray, lambda_ref: float, anode: str | None) -> np.ndarray:
    """Å per line on the grid's scale: an unresolved Kα doublet peaks near its mean (λ_ref), a resolved one
    at Kα1 (the doublet splits by ≈ 2 tan θ Δλ/λ; resolved where that exceeds 0.1°); ``anode`` None: lines of
    one wavelength (a monochromator), λ_ref everywhere."""
    if anode is None:
        return np.full(np.shape(two_theta), lambda_ref)
    mean, a1 = WAVELENGTHS[f"{anode}Ka"], WAVELENGTHS[f"{anode}Ka1"]
    return np.where(_doublet_split(two_theta, anode) > 0.1, a1 * lambda_ref / mean, lambda_ref)


def _doublet_split(two_theta, anode: str):
    """Degrees between the Kα1 and Kα2 lines of one d at ``two_theta`` (≈ 2 tan θ Δλ/λ)."""
    mean, a1, a2 = (WAVELENGTHS[f"{anode}Ka{s}"] for s in ("", "1", "2"))
    return np.degrees(2 * np.tan(np.radians(np.asarray(two_theta) / 2)) * (a2 - a1) / mean)


def line_q(two_theta: np.ndarray, zero: float, lambda_ref: float, anode: str | None = "Cu"
           ) -> tuple[np.ndarray, np.ndarray]:
    """(Q = 1/d² Å⁻², dQ/d(2θ) Å⁻² per degree) of lines observed at ``two_theta`` (degrees, grid scale) with a
    zero shift ``zero`` (degrees) removed."""
    t = np.asarray(two_theta, np.float64) - zero
    lam = _line_wavelength(t, lambda_ref, anode)
    return (2 * np.sin(np.radians(t / 2)) / lam) ** 2, 4 * np.sin(np.radians(t)) / lam ** 2 * np.pi / 360.0


def companion_lines(two_theta: np.ndarray, height: np.ndarray, anode: str | None, step: float) -> np.ndarray:
    """bool[P]: which of the peaks at ``two_theta`` (degrees, grid scale) of heights ``height`` are another
    peak's companion — the Kα2 line of a stronger peak one doublet splitting below (resolved: > 0.1°), or the
    Kβ line (≤ 1/8) of a peak of the same d. ``step``: the grid's bin (degrees). ``anode`` None: one wavelength,
    no companions."""
    tt = np.asarray(two_theta, np.float64)
    b = np.asarray(height, np.float64)
    out = np.zeros(len(tt), bool)
    if anode is None or not len(tt):
        return out
    mean = WAVELENGTHS[f"{anode}Ka"]
    split = _doublet_split(tt, anode)
    # where each peak's Kα parent would be if it were a Kβ line (same d, the filter leaves a few per cent)
    kb = WAVELENGTHS.get(f"{anode}Kb1")
    kb_parent = 2 * np.degrees(np.arcsin(np.minimum(np.sin(np.radians(tt / 2)) * mean / kb, 1.0))) if kb else tt + 1e9
    for i in range(len(tt)):
        # a weaker peak one doublet splitting above a stronger one is its Kα2
        ka2_parent = (np.abs(tt[i] - split[i] - tt) < 0.3 * split[i] + step) & (b > b[i] / 0.75)
        kb_of = (np.abs(kb_parent[i] - tt) < 0.1) & (b > 8 * b[i])  # a Kβ line is ≤ 1/8 of its parent
        out[i] = (split[i] > 0.1 and ka2_parent.any()) or kb_of.any()
    return out

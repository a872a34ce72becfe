"""The Niggli-reduced primitive cell: the one cell of a lattice that no choice of setting, origin or centring
changes — the target of the network's lattice head (a setting-free answer to "what cell is this?").

A listing's lattice points are the cell's corners plus its centring translations (the operations whose
rotation is the identity: I adds ½½½, F the three face centres, R in hexagonal axes ⅔⅓⅓ and ⅓⅔⅔). spglib
finds the primitive cell of that point lattice and Niggli-reduces it (Křivý & Gruber 1976): a ≤ b ≤ c, the
three angles all < 90° or all ≥ 90°. NaCl's conventional a = 5.64 Å becomes the rhombohedral primitive
a = b = c = 3.99 Å, α = β = γ = 60°; powder lines depend on the metric alone, so this cell fixes every
possible line position whatever the space group.
"""

from __future__ import annotations

import numpy as np
import spglib

from difcon_jax.crystal.spglib_calls import spglib_or_none
from difcon_jax.crystal.structure import Structure


def cell_parameters(lattice: np.ndarray) -> np.ndarray:
    """float64[6]: (a, b, c) in Å and (α, β, γ) in degrees of a lattice float[3, 3] with rows a, b, c (Å)."""
    lattice = np.asarray(lattice, np.float64)
    lengths = np.linalg.norm(lattice, axis=1)
    a, b, c = lattice

    def angle(u, v):
        return np.degrees(np.arccos(np.clip(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)), -1.0, 1.0)))

    return np.array([*lengths, angle(b, c), angle(a, c), angle(a, b)])


def cell_volume(cell) -> np.ndarray:
    """float64[...]: the volume (Å³) of cells float[..., 6] (a, b, c in Å; α, β, γ in degrees)."""
    cell = np.asarray(cell, np.float64)
    cos = np.cos(np.radians(cell[..., 3:]))
    return cell[..., :3].prod(-1) * np.sqrt(np.clip(1 - (cos ** 2).sum(-1) + 2 * cos.prod(-1), 0.0, None))


def centring_translations(rotations: np.ndarray, translations: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """float64[K, 3]: the distinct lattice translations (mod 1, the origin first) among operations
    (rotations int[M, 3, 3], translations float[M, 3], fractions of the cell edges)."""
    identity = np.all(np.asarray(rotations).reshape(-1, 9) == np.eye(3, dtype=int).ravel(), axis=1)
    out = [np.zeros(3)]
    for t in np.asarray(translations, np.float64)[identity] % 1.0:
        t = np.where(np.abs(t - 1.0) < tol, 0.0, t)
        if all(np.abs((t - u + 0.5) % 1.0 - 0.5).max() > tol for u in out):
            out.append(t)
    return np.array(out)


def reduced_cell(st: Structure) -> np.ndarray:
    """float64[6]: the Niggli-reduced primitive cell (a ≤ b ≤ c in Å, α, β, γ in degrees) of ``st``'s lattice
    with the centring its operations carry. ValueError if spglib cannot reduce it."""
    lattice = st.lattice_matrix()
    points = centring_translations(st.rotations, st.translations)
    primitive = lattice
    if len(points) > 1:
        found = spglib_or_none(spglib.find_primitive, (lattice, points, np.ones(len(points), np.int32)), symprec=1e-3)
        if found is None:
            raise ValueError("spglib found no primitive cell for the centring translations")
        primitive = np.asarray(found[0], np.float64)
    reduced = spglib_or_none(spglib.niggli_reduce, primitive)
    if reduced is None:
        raise ValueError("spglib's Niggli reduction failed")
    return cell_parameters(reduced)

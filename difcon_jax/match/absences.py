"""Which space groups an indexed cell's lines allow: the systematic absences of each extinction group checked
against the observed lines (host side, NumPy), as a crystallographer reads an extinction symbol off an
indexed pattern before any intensity is fitted.

An observed line that the lattice indexes but no reflection allowed by a group explains is a *violation* of
that group (a centring or glide it cannot have). Orthorhombic axes come out of indexing in no particular
order, so each group is tried in all six axis orders, and a monoclinic group in each choice of the indexed
cell's ac net (the setting with the fewest violations is its setting).
Groups are then ranked by the network (:mod:`difcon_jax.match.decide`): the absences decide what is
possible, the network what is likely within it.
"""

from __future__ import annotations

import functools
import itertools

import gemmi
import numpy as np

from difcon_jax.crystal.stick import systematically_absent
from difcon_jax.crystal.symmetry import extinction_group_of, space_group_symbol
from difcon_jax.match.lattices import bravais_type, monoclinic_settings
from difcon_jax.match.pawley import reflections_within

#: space-group numbers each indexed lattice can carry (rhombohedral groups on hexagonal axes)
LATTICE_GROUPS = {"cubic": range(195, 231), "hexagonal": range(143, 195), "tetragonal": range(75, 143),
                  "orthorhombic": range(16, 75), "monoclinic": range(3, 16)}
_AXIS_ORDERS = tuple(itertools.permutations(range(3)))


def _settings(cell, lattice: str) -> list[tuple]:
    """The cells (a, b, c Å, α, β, γ degrees) a group's standard setting is tried in: an orthorhombic cell in
    its six axis orders, a monoclinic one in its ac-net choices
    (:func:`~difcon_jax.match.lattices.monoclinic_settings`), others as indexed."""
    if lattice == "orthorhombic":
        return [tuple(cell[i] for i in order) + tuple(cell[3:]) for order in _AXIS_ORDERS]
    if lattice == "monoclinic":
        return monoclinic_settings(cell)
    return [tuple(cell)]


@functools.lru_cache(maxsize=None)
def group_operations(space_group: int) -> tuple[np.ndarray, np.ndarray]:
    """(rotations float[K, 3, 3], translations float[K, 3]) of every operation of ``space_group``'s standard
    setting (gemmi; centring included)."""
    ops = list(gemmi.find_spacegroup_by_number(int(space_group)).operations())
    rot = np.array([np.array(op.rot, np.float64) / gemmi.Op.DEN for op in ops])
    tran = np.array([np.array(op.tran, np.float64) / gemmi.Op.DEN for op in ops])
    return rot, tran


def group_violations(cell, q_obs: np.ndarray, dq: np.ndarray, lattice: str) -> dict[int, tuple[int, tuple]]:
    """extinction-group representative (lowest space-group number of each class the lattice carries) →
    (violations, cell): how many observed lines Q ``q_obs`` (Å⁻², each with tolerance ``dq``) that the
    lattice indexes are explained by no reflection the group allows, and the cell (a, b, c Å, α, β, γ degrees)
    of its best setting (:func:`_settings`; the group's standard setting sits on it)."""
    q_max = float(np.max(q_obs + dq))
    reps: dict[int, int] = {}
    for sg in LATTICE_GROUPS[lattice]:
        reps.setdefault(extinction_group_of(sg), sg)
    out = {}
    for c in _settings(cell, lattice):
        hkl, q = reflections_within(c, q_max)
        near = np.abs(q[:, None] - q_obs[None, :]) <= dq[None, :]  # [M, lines]
        indexed = near.any(0)
        hkl, near = hkl[near.any(1)], near[near.any(1)]
        for sg in reps.values():
            rot, tran = group_operations(sg)
            allowed = ~systematically_absent(hkl, rot, tran)
            v = int(np.count_nonzero(indexed & ~(near & allowed[:, None]).any(0)))
            if sg not in out or v < out[sg][0]:
                out[sg] = (v, tuple(float(x) for x in c))
    return out


def allowed_space_groups(violations: dict[int, tuple[int, tuple]], max_violations: int = 0) -> np.ndarray:
    """bool[230] (index = number − 1): the groups whose extinction class has at most ``max_violations``."""
    ok_classes = {extinction_group_of(sg) for sg, (v, _) in violations.items() if v <= max_violations}
    return np.array([extinction_group_of(n) in ok_classes for n in range(1, 231)])


def groups_of_centring(lattice: str, centring: str) -> np.ndarray:
    """bool[230] (index = number − 1): the groups of ``lattice`` whose lattice type (the first letter of the
    symbol) is the indexed cell's ``centring`` (:func:`~difcon_jax.match.lattices.bravais_type`: a monoclinic I
    cell is a C-centred lattice in another cell choice)."""
    want = bravais_type(lattice, centring)
    return np.array([n in LATTICE_GROUPS[lattice] and bravais_type(lattice, space_group_symbol(n)[0]) == want
                     for n in range(1, 231)])

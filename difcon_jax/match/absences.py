"""Which space groups an indexed cell's lines allow: the systematic absences of each extinction group checked
against the observed lines (host side, NumPy), as a crystallographer reads an extinction symbol off an
indexed pattern before any intensity is fitted.

An observed line that the lattice indexes but no reflection allowed by a group explains is a *violation* of
that group (a centring or glide it cannot have). Orthorhombic axes come out of indexing in no particular
order, so each group is tried in all six axis orders, and a monoclinic group in each choice of the indexed
cell's ac net (the setting with the fewest violations is its setting).
Groups are then ranked by the network (:mod:`difcon_jax.match.decide`): the absences decide what is
possible, the network what is likely within it.

The other half of the evidence is what is *not* there: a position where the lattice has reflections but a group
allows none of them, and no line is seen (an *empty absence*). A group with fewer absences would leave such a
position empty only where all its reflections happen to be weak, so each one counts for the group that forbids
it (:func:`absence_log_odds`; the weight per empty position set on simulated patterns, results/identify/README.md).

A primitive cubic cell's positions alone do not fix its lattice type: its lines (Q = N/a²) are also lines of the
body-centred cell √2 larger and of the face-centred cell twice larger (:data:`CUBIC_P_DESCRIPTIONS`) — rock salt
whose odd reflections are too weak to see indexes as a primitive cell of half its edge. The three are weighed
together, each class in its own description's cell, on the union of their positions: a line only the I cell explains
(Q = 7/a², 15/a² …, which no primitive cubic cell has) is a violation of the others, and the I cell's own positions
left empty count against it; the F cell's own (all-odd) positions do not count, since a pattern that indexed as the
primitive cell shows none of them whichever is true — the network, which reads the intensities, decides.
"""

from __future__ import annotations

import functools
import itertools
from typing import NamedTuple

import gemmi
import numpy as np

from difcon_jax.crystal.stick import systematically_absent
from difcon_jax.crystal.symmetry import extinction_group_of, space_group_symbol
from difcon_jax.match.lattices import bravais_type, centring_allows, monoclinic_settings
from difcon_jax.match.pawley import reflections_within

#: space-group numbers each indexed lattice can carry (rhombohedral groups on hexagonal axes)
LATTICE_GROUPS = {"cubic": range(195, 231), "hexagonal": range(143, 195), "tetragonal": range(75, 143),
                  "orthorhombic": range(16, 75), "monoclinic": range(3, 16)}
_AXIS_ORDERS = tuple(itertools.permutations(range(3)))
#: (lattice type, edge factor, whether its own positions are weighed) of the cubic cells whose lines include every
#: line of a primitive cubic cell of edge a: P itself; I of edge a√2 (N_I = 2N: a coincidence of line positions, not
#: of lattices, so its own positions — Q = 7/a², 15/a² … — are ordinary reflections, and empty they count against it);
#: F of edge 2a (N_F = 4N: a superlattice, whose own all-odd reflections measure how two sublattices a/2 apart
#: differ — weak for rock salt of near-equal ions, and necessarily unseen when the lines indexed as P: not weighed)
CUBIC_P_DESCRIPTIONS = (("P", 1.0, True), ("I", float(np.sqrt(2.0)), True), ("F", 2.0, False))


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


class GroupFit(NamedTuple):
    """How one extinction group's absences meet an indexed pattern's lines (:func:`group_violations`)."""
    violations: int  # observed lines no reflection the group allows explains
    cell: tuple  # a, b, c Å, α, β, γ degrees: the best setting's cell (the group's standard setting sits on it)
    empty: int  # empty absences: positions the lattice fills, the group forbids entirely, and no line occupies


def _positions(q: np.ndarray, width: np.ndarray) -> np.ndarray:
    """int[M]: a position label per calculated Q (sorted order not assumed): reflections closer than ``width``
    (Å⁻², per reflection) to their neighbour in Q share one, as their lines would merge in a pattern."""
    order = np.argsort(q, kind="stable")
    new = np.concatenate([[True], np.diff(q[order]) > width[order][1:]])
    labels = np.empty(len(q), int)
    labels[order] = np.cumsum(new) - 1
    return labels


def description_centrings(lattice: str, centring: str) -> tuple[str, ...]:
    """The lattice types whose classes :func:`group_violations` weighs for a cell indexed as ``lattice``
    ``centring``: P, I and F for a primitive cubic cell (:data:`CUBIC_P_DESCRIPTIONS`), the cell's own otherwise."""
    return tuple(c for c, _, _ in CUBIC_P_DESCRIPTIONS) if (lattice, centring) == ("cubic", "P") else (centring,)


def _representatives(lattice: str) -> dict[int, int]:
    """extinction class → its lowest space-group number among the groups ``lattice`` carries."""
    reps: dict[int, int] = {}
    for sg in LATTICE_GROUPS[lattice]:
        reps.setdefault(extinction_group_of(sg), sg)
    return reps


def _fits_on_positions(parts: list[tuple[tuple, list[int], str | None]], q_obs: np.ndarray, dq: np.ndarray,
                       q_max: float, q_min: float | None) -> dict[int, GroupFit]:
    """:class:`GroupFit` of each representative listed in ``parts`` ([(cell, representatives, weighed)]: each class
    in its own cell), all counted on one set of positions — every cell's reflections up to ``q_max``, merged where a
    line's tolerance apart; empty absences only at positions of the cells whose ``weighed`` is a centring letter,
    those of the reflections it allows (None: none)."""
    cells = [reflections_within(c, q_max) for c, _, _ in parts]
    q_all = np.concatenate([q for _, q in cells])
    order = np.argsort(q_obs)
    label = _positions(q_all, np.interp(q_all, q_obs[order], dq[order]))
    near_all = np.abs(q_all[:, None] - q_obs[None, :]) <= dq[None, :]  # [M, lines]
    indexed = near_all.any(0)
    # the positions within the measured range that no line occupies
    free = np.ones(label.max() + 1 if len(label) else 0, bool)
    free[label[near_all.any(1) | (q_all < (q_min if q_min is not None else np.inf))]] = False
    weighed = np.concatenate([centring_allows(w, hkl) if w else np.zeros(len(q), bool)
                              for (_, _, w), (hkl, q) in zip(parts, cells)])
    free[np.setdiff1d(np.arange(len(free)), label[weighed])] = False
    out: dict[int, GroupFit] = {}
    start = 0
    for (cell, reps, _), (hkl, q) in zip(parts, cells):
        lab, near = label[start:start + len(q)], near_all[start:start + len(q)]
        start += len(q)
        for sg in reps:
            rot, tran = group_operations(sg)
            allowed = ~systematically_absent(hkl, rot, tran)
            v = int(np.count_nonzero(indexed & ~(near & allowed[:, None]).any(0)))
            filled = ~free
            filled[lab[allowed]] = True
            out[sg] = GroupFit(v, tuple(float(x) for x in cell), int(np.count_nonzero(~filled)))
    return out


def group_violations(cell, q_obs: np.ndarray, dq: np.ndarray, lattice: str, q_min: float | None = None,
                     centring: str | None = None, max_edge: float | None = None) -> dict[int, GroupFit]:
    """extinction-group representative (lowest space-group number of each class the lattice carries) →
    :class:`GroupFit` of its best setting (:func:`_settings`: fewest violations, then most empty absences) for
    observed lines Q ``q_obs`` (Å⁻², each with tolerance ``dq``). ``q_min`` (Å⁻²; the lowest Q measured): empty
    absences are counted between it and the highest line (None: not counted, 0 each). ``centring`` 'P' of a
    cubic cell: the I and F classes too, each in its own larger cell (:data:`CUBIC_P_DESCRIPTIONS`), all on the
    union of the three cells' positions; ``max_edge`` (Å): descriptions whose cell is longer are left out."""
    q_obs, dq = np.asarray(q_obs, np.float64), np.asarray(dq, np.float64)
    q_max = float(np.max(q_obs + dq))
    reps = _representatives(lattice)
    if (lattice, centring) == ("cubic", "P"):
        a = float(cell[0])
        parts = [((a * f,) * 3 + (90.0, 90.0, 90.0),
                  [sg for sg in reps.values() if space_group_symbol(sg)[0] == letter], letter if weighed else None)
                 for letter, f, weighed in CUBIC_P_DESCRIPTIONS if max_edge is None or a * f <= max_edge]
        return _fits_on_positions(parts, q_obs, dq, q_max, q_min)
    out: dict[int, GroupFit] = {}
    for c in _settings(cell, lattice):
        for sg, fit in _fits_on_positions([(c, list(reps.values()), "P")], q_obs, dq, q_max, q_min).items():
            if sg not in out or (fit.violations, -fit.empty) < (out[sg].violations, -out[sg].empty):
                out[sg] = fit
    return out


def allowed_space_groups(violations: dict[int, GroupFit], max_violations: int = 0) -> np.ndarray:
    """bool[230] (index = number − 1): the groups whose extinction class has at most ``max_violations``."""
    ok_classes = {extinction_group_of(sg) for sg, fit in violations.items() if fit.violations <= max_violations}
    return np.array([extinction_group_of(n) in ok_classes for n in range(1, 231)])


def groups_of_centring(lattice: str, centring: str) -> np.ndarray:
    """bool[230] (index = number − 1): the groups of ``lattice`` whose lattice type (the first letter of the
    symbol) is the indexed cell's ``centring`` (:func:`~difcon_jax.match.lattices.bravais_type`: a monoclinic I
    cell is a C-centred lattice in another cell choice)."""
    want = bravais_type(lattice, centring)
    return np.array([n in LATTICE_GROUPS[lattice] and bravais_type(lattice, space_group_symbol(n)[0]) == want
                     for n in range(1, 231)])


def absence_log_odds(violations: dict[int, GroupFit], weight: float, violation_weight: float = 0.0) -> np.ndarray:
    """float[230] (index = number − 1): the log of the odds the lines give each group's class, ``weight`` × its
    empty absences − ``violation_weight`` × its violations; 0 for groups whose class ``violations`` does not hold
    (other lattices). ``weight`` = ln of how much likelier a position is empty where a group forbids every
    reflection than where it allows weak ones; ``violation_weight`` = ln of how much less likely a line is an
    impurity's than the phase's. Relative: only differences between the groups compared mean anything."""
    score = {extinction_group_of(sg): weight * fit.empty - violation_weight * fit.violations
             for sg, fit in violations.items()}
    return np.array([score.get(extinction_group_of(n), 0.0) for n in range(1, 231)], np.float64)

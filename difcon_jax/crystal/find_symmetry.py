"""The symmetry of the atoms themselves (spglib), for files that do not state it (Materials Project CIFs are
written in P1 with the whole cell listed) and to count files whose declared group disagrees with their atoms.

Tolerance ladder: spglib is run at ``symprec`` = 0.001, 0.01 and 0.1 Å (Cartesian distance). A group is
*stable* when two neighbouring rungs find it; the loosest stable group is kept (the highest symmetry the
atoms support over a decade of tolerance). Why these rungs: DFT-relaxed structures (MP) keep their symmetry
to ~1e-5 Å, so all three rungs agree and 0.1 Å reproduces the Materials Project's own labels (it uses
0.1 Å); experimental structures rounded to 4 decimals of a 10 Å cell carry ~1e-3 Å errors, which the 0.01 Å
rung absorbs; a group that appears only at 0.1 Å (a near-symmetry, e.g. a 0.05 Å distortion) is not stable
and is not taken. When no group is stable the 0.01 Å group is used (pymatgen's default).

The operations returned are in the basis of the cell as given, so the stick pattern is computed from the
atoms as given while multiplicities, systematic absences and the metric follow the found group.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import spglib

from difcon_jax.crystal.spglib_calls import spglib_or_none
from difcon_jax.crystal.structure import Structure

SYMPREC_LADDER = (1e-3, 1e-2, 1e-1)  # Å
FALLBACK_SYMPREC = 1e-2


@dataclasses.dataclass(frozen=True)
class FoundSymmetry:
    """The space group spglib found in a listing's atoms, with its operations in the listing's own basis."""
    number: int  # space-group number 1–230
    symprec: float  # the rung it was taken from (Å)
    rotations: np.ndarray  # int32[M, 3, 3] in the given cell's basis
    translations: np.ndarray  # float64[M, 3]
    ladder: tuple[int, ...]  # the group number found at each rung (0 = spglib failed)


def _spglib_cell(st: Structure):
    """(lattice, positions, types): one type per (element, occupancy) so mixed sites are not merged."""
    species = [(e, round(float(o), 3)) for e, o in zip(st.elements, st.occupancy)]
    index = {s: i + 1 for i, s in enumerate(sorted(set(species)))}
    return st.lattice_matrix(), np.asarray(st.frac, np.float64), np.array([index[s] for s in species], np.int32)


def find_symmetry(st: Structure, ladder: tuple[float, ...] = SYMPREC_LADDER) -> FoundSymmetry | None:
    """The stable space group of ``st``'s atoms (see module docstring), or None if spglib finds none."""

    cell = _spglib_cell(st)
    found = []
    for tol in ladder:
        try:
            found.append(spglib_or_none(spglib.get_symmetry_dataset, cell, symprec=tol))
        except Exception:  # a cell spglib cannot even take (as from a malformed file): nothing found at this tolerance
            found.append(None)
    numbers = tuple(0 if ds is None else int(ds.number) for ds in found)
    pick = None
    for i in range(len(ladder) - 1, 0, -1):  # loosest first
        if numbers[i] and numbers[i] == numbers[i - 1]:
            pick = i
            break
    if pick is None:
        pick = ladder.index(FALLBACK_SYMPREC) if FALLBACK_SYMPREC in ladder else 0
        if not numbers[pick]:
            ok = [i for i, n in enumerate(numbers) if n]
            if not ok:
                return None
            pick = ok[0]
    ds = found[pick]
    return FoundSymmetry(int(ds.number), float(ladder[pick]), np.asarray(ds.rotations, np.int32),
                         np.asarray(ds.translations, np.float64) % 1.0, numbers)


def declares_no_symmetry(st: Structure) -> bool:
    """True when the file's operations are the identity alone (a P1 listing of the full cell)."""
    return len(st.rotations) == 1 and st.space_group == 1


def with_found_symmetry(st: Structure, found: FoundSymmetry) -> Structure:
    """The same atoms with the found group's operations and number (the label comes from the atoms)."""
    return dataclasses.replace(st, rotations=found.rotations, translations=found.translations,
                               space_group=found.number)

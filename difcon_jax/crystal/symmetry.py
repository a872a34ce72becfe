"""Symmetry labels: space group (1–230), crystal system (7) and extinction group.

Crystal system follows the paper's mapping (1–2 triclinic, 3–15 monoclinic, 16–74 orthorhombic,
75–142 tetragonal, 143–167 trigonal, 168–194 hexagonal, 195–230 cubic).

Extinction groups are derived, not typed in: for every space group in its standard (reference) setting
we compute the set of systematically absent reflections on a hkl grid (gemmi's reflection conditions)
and group space groups by (crystal system, absent set). This gives 112 classes; merging trigonal with
hexagonal (crystal *family*) gives 108. The frequently quoted 101 extinction symbols of International
Tables count symbols per setting family with conventions we cannot derive from reflection conditions
alone, so we keep the derivable table. The result is committed as ``extinction_groups.json`` and a test
re-derives it. Because the class is a function of the space-group *type*, any setting of a group
(P2_1/a, Pbnm, R-3c:R, origin choice 1) gets the standard label.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import pathlib
from importlib import resources

import gemmi
import numpy as np

CRYSTAL_SYSTEMS = ("triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal", "hexagonal", "cubic")
# First space-group number of each crystal system (the paper's mapping).
_CS_STARTS = np.array([1, 3, 16, 75, 143, 168, 195])

_TABLE_FILE = "extinction_groups.json"


def crystal_system_of(space_group: int) -> int:
    """Crystal-system index 0–6 (see :data:`CRYSTAL_SYSTEMS`) of a space-group number 1–230."""
    n = int(space_group)
    if not 1 <= n <= 230:
        raise ValueError(f"space group number {n} is outside 1–230")
    return int(np.searchsorted(_CS_STARTS, n, side="right") - 1)


def crystal_system_array() -> np.ndarray:
    """int32[231]: crystal-system index for each space-group number (entry 0 unused, -1)."""
    out = np.full(231, -1, np.int32)
    for n in range(1, 231):
        out[n] = crystal_system_of(n)
    return out


def derive_extinction_groups(index_range: int = 12) -> list[dict]:
    """Derive the extinction-group classes from gemmi's reflection conditions (standard settings).

    Returns a list of ``{"id", "symbol", "crystal_system", "space_groups"}`` ordered by the lowest member.
    ``index_range``: hkl grid half-width; 12 covers every ITA condition (the highest is l = 6n).
    """

    r = np.arange(-index_range, index_range + 1)
    hkl = np.array(list(itertools.product(r, r, r)), dtype=np.int32)
    classes: dict[tuple, list[int]] = {}
    for n in range(1, 231):
        sg = gemmi.find_spacegroup_by_number(n)
        absent = np.asarray(sg.operations().systematic_absences(hkl), dtype=bool)
        classes.setdefault((crystal_system_of(n), np.packbits(absent).tobytes()), []).append(n)
    table = []
    for (cs, _), members in sorted(classes.items(), key=lambda kv: kv[1][0]):
        symbols = [gemmi.find_spacegroup_by_number(n).short_name() for n in members]
        table.append({"id": len(table), "symbol": ", ".join(symbols), "crystal_system": CRYSTAL_SYSTEMS[cs],
                      "space_groups": members})
    return table


@functools.lru_cache(maxsize=1)
def extinction_group_table() -> tuple[dict, ...]:
    """The committed extinction-group table (see :func:`derive_extinction_groups`)."""
    text = resources.files("difcon_jax.crystal").joinpath(_TABLE_FILE).read_text()
    return tuple(json.loads(text))


@functools.lru_cache(maxsize=1)
def extinction_group_array() -> np.ndarray:
    """int32[231]: extinction-group id for each space-group number (entry 0 unused, -1)."""
    out = np.full(231, -1, np.int32)
    for row in extinction_group_table():
        out[row["space_groups"]] = row["id"]
    return out


def extinction_group_of(space_group: int) -> int:
    """Extinction-group id of a space-group number 1–230."""
    crystal_system_of(space_group)  # range check
    return int(extinction_group_array()[int(space_group)])


def num_extinction_groups() -> int:
    """Number of extinction-group classes (crystal system × absent-reflection set; the EG head's width)."""
    return len(extinction_group_table())


@functools.lru_cache(maxsize=None)
def space_group_symbol(number: int) -> str:
    """Hermann–Mauguin short symbol of the standard setting, e.g. 62 -> 'Pnma', 155 -> 'R32' (gemmi writes
    rhombohedral groups in hexagonal axes as 'H32'; the International Tables symbol has R)."""

    name = gemmi.find_spacegroup_by_number(int(number)).short_name()
    return "R" + name[1:] if name.startswith("H") else name


@dataclasses.dataclass(frozen=True)
class SymmetryLabels:
    """The three labels of one space group: number 1–230, crystal system 0–6 (CRYSTAL_SYSTEMS order),
    extinction-group id."""
    space_group: int  # 1–230
    crystal_system: int  # 0–6
    extinction_group: int  # table id

    @property
    def crystal_system_name(self) -> str:
        return CRYSTAL_SYSTEMS[self.crystal_system]

    @property
    def extinction_group_symbol(self) -> str:
        return extinction_group_table()[self.extinction_group]["symbol"]

    @property
    def space_group_symbol(self) -> str:
        return space_group_symbol(self.space_group)


def labels_for_number(space_group: int) -> SymmetryLabels:
    """The :class:`SymmetryLabels` of space group 1–230."""
    return SymmetryLabels(int(space_group), crystal_system_of(space_group), extinction_group_of(space_group))


def main() -> None:  # pragma: no cover - regeneration helper: python -m difcon_jax.crystal.symmetry
    """Regenerate ``extinction_groups.json`` from the space-group tables."""

    path = pathlib.Path(__file__).with_name(_TABLE_FILE)
    path.write_text(json.dumps(derive_extinction_groups(), indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    main()

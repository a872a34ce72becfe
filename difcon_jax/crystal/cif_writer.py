"""CIF text of a structure written in code: cell, the setting's symmetry operations (gemmi) and atom sites.
Used by the textbook phases (:mod:`difcon_jax.evaluate.textbook`) and the tests' structures."""

from __future__ import annotations

import gemmi


def cif_text(name: str, setting: str, cell, sites, with_ops: bool = True, b_iso: float | None = None) -> str:
    """CIF text: ``setting`` a gemmi H-M name in any setting (``'F d -3 m:2'``, ``'R -3 c:H'``, ``'P b n m'``),
    ``cell`` (a, b, c in Å, α, β, γ in degrees), ``sites`` [(element, x, y, z, occupancy)]; symmetry written
    as explicit operations (and the H-M symbol); ``b_iso`` Å² for every site when given."""
    sg = gemmi.find_spacegroup_by_name(setting)
    if sg is None:
        raise ValueError(f"{name}: unknown space-group setting {setting!r}")
    lines = [f"data_{name}"]
    for tag, v in zip(("a", "b", "c", "alpha", "beta", "gamma"), cell):
        lines.append(f"_cell_{'length' if tag in 'abc' else 'angle'}_{tag} {v}")
    lines.append(f"_symmetry_space_group_name_H-M '{sg.xhm()}'")
    if with_ops:
        lines += ["loop_", "_symmetry_equiv_pos_as_xyz"] + [f"'{op.triplet()}'" for op in sg.operations()]
    cols = ["label", "type_symbol", "fract_x", "fract_y", "fract_z", "occupancy"]
    if b_iso is not None:
        cols.append("B_iso_or_equiv")
    lines += ["loop_"] + [f"_atom_site_{c}" for c in cols]
    for i, (el, x, y, z, occ) in enumerate(sites):
        row = f"{el}{i + 1} {el} {x:.6f} {y:.6f} {z:.6f} {occ}"
        lines.append(row + (f" {b_iso}" if b_iso is not None else ""))
    return "\n".join(lines) + "\n"

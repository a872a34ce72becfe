"""Tiny structures written in the tests themselves, as CIF text with explicit symmetry operations.

Each entry: (name, setting (gemmi H-M name, any setting), expected standard space-group number, cell
(a, b, c, α, β, γ), sites [(element, x, y, z, occupancy)]). Coordinates are textbook values where the
structure is a known one and generic values elsewhere (the physics does not care about chemistry).
"""

from __future__ import annotations

import math

import gemmi

# Corundum's rhombohedral cell, exactly equivalent to the hexagonal one (a = 4.7589, c = 12.991 Å).
_A_R = math.sqrt(3 * 4.7589**2 + 12.991**2) / 3
_ALPHA_R = math.degrees(2 * math.asin(3 * 4.7589 / (2 * math.sqrt(3 * 4.7589**2 + 12.991**2))))

STRUCTURES = [
    # cubic
    ("NaCl", "F m -3 m", 225, (5.6402,) * 3 + (90,) * 3, [("Na", 0, 0, 0, 1), ("Cl", .5, .5, .5, 1)]),
    ("CsCl", "P m -3 m", 221, (4.123,) * 3 + (90,) * 3, [("Cs", 0, 0, 0, 1), ("Cl", .5, .5, .5, 1)]),
    ("Si_origin1", "F d -3 m:1", 227, (5.431,) * 3 + (90,) * 3, [("Si", 0, 0, 0, 1)]),
    ("Si_origin2", "F d -3 m:2", 227, (5.431,) * 3 + (90,) * 3, [("Si", .125, .125, .125, 1)]),
    ("ZnS_sphalerite", "F -4 3 m", 216, (5.409,) * 3 + (90,) * 3, [("Zn", 0, 0, 0, 1), ("S", .25, .25, .25, 1)]),
    ("Cu2O", "P n -3 m:2", 224, (4.2696,) * 3 + (90,) * 3, [("O", .25, .25, .25, 1), ("Cu", 0, 0, 0, 1)]),
    ("FeS2_pyrite", "P a -3", 205, (5.417,) * 3 + (90,) * 3, [("Fe", 0, 0, 0, 1), ("S", .385, .385, .385, 1)]),
    ("Cr3Si_A15", "P m -3 n", 223, (4.56,) * 3 + (90,) * 3, [("Si", 0, 0, 0, 1), ("Cr", .25, 0, .5, 1)]),
    ("FeSi_B20", "P 21 3", 198, (4.489,) * 3 + (90,) * 3, [("Fe", .137, .137, .137, 1), ("Si", .842, .842, .842, 1)]),
    ("Fe_bcc", "I m -3 m", 229, (2.8665,) * 3 + (90,) * 3, [("Fe", 0, 0, 0, 1)]),
    ("NaKCl_mixed", "F m -3 m", 225, (5.95,) * 3 + (90,) * 3,
     [("Na", 0, 0, 0, .5), ("K", 0, 0, 0, .5), ("Cl", .5, .5, .5, 1)]),
    # hexagonal
    ("Mg_hcp", "P 63/m m c", 194, (3.209, 3.209, 5.211, 90, 90, 120), [("Mg", 1 / 3, 2 / 3, .25, 1)]),
    ("ZnO_wurtzite", "P 63 m c", 186, (3.2495, 3.2495, 5.2069, 90, 90, 120),
     [("Zn", 1 / 3, 2 / 3, 0, 1), ("O", 1 / 3, 2 / 3, .3819, 1)]),
    ("P6122_generic", "P 61 2 2", 178, (5.1, 5.1, 11.3, 90, 90, 120), [("Si", .31, .12, .03, 1)]),  # images ≥ 1.2 Å apart
    ("P-6m2_generic", "P -6 m 2", 187, (3.9, 3.9, 4.7, 90, 90, 120), [("W", 0, 0, 0, 1), ("C", 1 / 3, 2 / 3, .5, 1)]),
    # trigonal
    ("corundum_hex", "R -3 c:H", 167, (4.7589, 4.7589, 12.991, 90, 90, 120),
     [("Al", 0, 0, .35216, 1), ("O", .30624, 0, .25, 1)]),
    ("corundum_rhomb", "R -3 c:R", 167, (_A_R,) * 3 + (_ALPHA_R,) * 3,
     [("Al", .35216, .35216, .35216, 1), ("O", .55624, -.05624, .25, 1)]),
    ("quartz", "P 32 2 1", 154, (4.9134, 4.9134, 5.4052, 90, 90, 120),
     [("Si", .4697, 0, 0, 1), ("O", .4135, .2669, .1191, 1)]),
    ("CdI2", "P -3 m 1", 164, (4.24, 4.24, 6.84, 90, 90, 120), [("Cd", 0, 0, 0, 1), ("I", 1 / 3, 2 / 3, .25, 1)]),
    ("R3m_generic", "R 3 m:H", 160, (4.1, 4.1, 19.5, 90, 90, 120),
     [("Ga", 0, 0, 0, 1), ("Se", 0, 0, .23, 1), ("In", 0, 0, .41, 1)]),
    ("P31c_generic", "P 3 1 c", 159, (6.2, 6.2, 7.4, 90, 90, 120),
     [("Li", 1 / 3, 2 / 3, .1, 1), ("N", .21, .37, .31, 1)]),
    # tetragonal
    ("rutile", "P 42/m n m", 136, (4.5937, 4.5937, 2.9587, 90, 90, 90), [("Ti", 0, 0, 0, 1), ("O", .3048, .3048, 0, 1)]),
    ("rutile_TiV_mixed", "P 42/m n m", 136, (4.62, 4.62, 3.03, 90, 90, 90),
     [("Ti", 0, 0, 0, .7), ("V", 0, 0, 0, .3), ("O", .3053, .3053, 0, .95)]),
    ("anatase_origin1", "I 41/a m d:1", 141, (3.7845, 3.7845, 9.5143, 90, 90, 90),
     [("Ti", 0, 0, 0, 1), ("O", 0, 0, .2081, 1)]),
    ("anatase_origin2", "I 41/a m d:2", 141, (3.7845, 3.7845, 9.5143, 90, 90, 90),
     [("Ti", 0, .75, .125, 1), ("O", 0, .75, .3331, 1)]),
    ("scheelite", "I 41/a:2", 88, (5.243, 5.243, 11.376, 90, 90, 90),
     [("Ca", 0, .25, .625, 1), ("W", 0, .25, .125, 1), ("O", .1504, .0085, .2106, 1)]),
    ("PbO_litharge", "P 4/n m m:1", 129, (3.9729, 3.9729, 5.0192, 90, 90, 90),
     [("O", 0, 0, 0, 1), ("Pb", 0, .5, .2385, 1)]),
    ("P-421m_generic", "P -4 21 m", 113, (7.8, 7.8, 5.0, 90, 90, 90),
     [("Ca", .33, .17, .51, 1), ("Mg", 0, 0, 0, 1), ("Si", .14, .36, .94, 1), ("O", .08, .18, .26, 1)]),
    # orthorhombic
    ("Pnma_generic", "P n m a", 62, (5.44, 7.64, 5.38, 90, 90, 90),
     [("Ca", .035, .25, .99, 1), ("Ti", 0, 0, .5, 1), ("O", .48, .25, .08, 1), ("O", .29, .04, .71, 1)]),
    ("Pbnm_generic", "P b n m", 62, (5.38, 5.44, 7.64, 90, 90, 90),
     [("Ca", .99, .035, .25, 1), ("Ti", .5, 0, 0, 1), ("O", .08, .48, .25, 1), ("O", .71, .29, .04, 1)]),
    ("P212121_generic", "P 21 21 21", 19, (5.1, 6.3, 7.9, 90, 90, 90),
     [("Zn", .11, .23, .37, 1), ("S", .61, .07, .19, 1)]),
    ("Cmcm_generic", "C m c m", 63, (3.3, 10.1, 4.2, 90, 90, 90), [("Ge", 0, .12, .25, 1), ("Se", 0, .39, .25, 1)]),
    ("Fddd_origin2", "F d d d:2", 70, (10.4, 12.8, 24.4, 90, 90, 90), [("S", .14, .03, .95, 1)]),
    ("Aba2_generic", "A b a 2", 41, (9.1, 9.9, 5.5, 90, 90, 90), [("K", .12, .31, 0, 1), ("N", .37, .08, .22, 1)]),
    # monoclinic
    ("P21c_generic", "P 1 21/c 1", 14, (5.1, 7.3, 8.9, 90, 104.3, 90),
     [("Fe", .12, .21, .33, 1), ("P", .63, .41, .17, 1), ("O", .27, .88, .02, 1)]),
    ("P21a_setting", "P 1 21/a 1", 14, (8.9, 7.3, 5.1, 90, 104.3, 90),
     [("Fe", .33, .21, .12, 1), ("P", .17, .41, .63, 1), ("O", .02, .88, .27, 1)]),
    ("P21n_setting", "P 1 21/n 1", 14, (6.2, 9.1, 7.7, 90, 95.2, 90), [("Cu", .21, .13, .44, 1), ("Cl", .71, .36, .09, 1)]),
    ("C2c_generic", "C 1 2/c 1", 15, (9.8, 8.9, 5.3, 90, 105.6, 90),
     [("Na", 0, .09, .25, 1), ("Al", 0, .41, .25, 1), ("Si", .29, .09, .23, 1), ("O", .11, .08, .14, 1)]),
    ("I2a_setting", "I 1 2/a 1", 15, (9.5, 8.9, 5.3, 90, 93.1, 90), [("Cd", .25, .15, 0, 1), ("Br", .11, .37, .72, 1)]),
    ("Cc_generic", "C 1 c 1", 9, (7.4, 8.1, 6.6, 90, 110.2, 90), [("Li", 0, .12, 0, 1), ("Nb", .26, .41, .33, 1)]),
    # triclinic
    ("P-1_generic", "P -1", 2, (5.1, 6.2, 7.3, 81.3, 77.4, 68.9), [("K", .12, .23, .34, 1), ("Br", .61, .72, .13, 1)]),
    ("P1_generic", "P 1", 1, (4.7, 5.9, 6.1, 93.3, 101.4, 88.7),
     [("Ba", 0, 0, 0, 1), ("Ti", .48, .53, .51, 1), ("O", .52, .49, .03, 1)]),
]


def make_cif(name: str, setting: str, cell, sites, with_ops: bool = True, b_iso: float | None = None) -> str:
    """CIF text for a structure; symmetry as explicit operations of ``setting`` (plus its H-M symbol)."""
    sg = gemmi.find_spacegroup_by_name(setting)
    assert sg is not None, setting
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


def cif_of(name: str, **kw) -> str:
    for entry in STRUCTURES:
        if entry[0] == name:
            return make_cif(entry[0], entry[1], entry[3], entry[4], **kw)
    raise KeyError(name)

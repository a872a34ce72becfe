"""The textbook set: classic phases a crystallographer recognises at a glance, written here in code across all
seven crystal systems, for scoring the network on patterns it did not simulate itself (rendered by
:mod:`difcon_jax.evaluate.lab_renderer`, never by the training augmentation).

Each entry: (name, setting (gemmi H-M name), standard space-group number, cell (a, b, c Å; α, β, γ degrees),
sites [(element, x, y, z, occupancy)], source). Cells and coordinates are room-temperature literature values;
entries marked "AMCSD n" were transcribed from that American Mineralogist Crystal Structure Database entry
(Downs & Hall-Wallace 2003), the rest are textbook values (hydrogen left out: it hardly scatters X-rays).
"""

from __future__ import annotations

import functools

import numpy as np

from difcon_jax.crystal.cif_writer import cif_text
from difcon_jax.crystal.stick import stick_pattern
from difcon_jax.crystal.structure import Structure, structure_from_cif_text

_C = (90, 90, 90)
_H = (90, 90, 120)

PHASES = [
    # cubic
    ("silicon", "F d -3 m:2", 227, (5.4309,) * 3 + _C, [("Si", .125, .125, .125, 1)], "textbook"),
    ("copper", "F m -3 m", 225, (3.6149,) * 3 + _C, [("Cu", 0, 0, 0, 1)], "textbook"),
    ("aluminium", "F m -3 m", 225, (4.0495,) * 3 + _C, [("Al", 0, 0, 0, 1)], "textbook"),
    ("alpha-iron", "I m -3 m", 229, (2.8665,) * 3 + _C, [("Fe", 0, 0, 0, 1)], "textbook"),
    ("halite", "F m -3 m", 225, (5.6402,) * 3 + _C, [("Na", 0, 0, 0, 1), ("Cl", .5, .5, .5, 1)], "textbook"),
    ("periclase", "F m -3 m", 225, (4.2117,) * 3 + _C, [("Mg", 0, 0, 0, 1), ("O", .5, .5, .5, 1)], "textbook"),
    ("galena", "F m -3 m", 225, (5.936,) * 3 + _C, [("Pb", 0, 0, 0, 1), ("S", .5, .5, .5, 1)], "textbook"),
    ("fluorite", "F m -3 m", 225, (5.4626,) * 3 + _C, [("Ca", 0, 0, 0, 1), ("F", .25, .25, .25, 1)], "textbook"),
    ("sphalerite", "F -4 3 m", 216, (5.4093,) * 3 + _C, [("Zn", 0, 0, 0, 1), ("S", .25, .25, .25, 1)], "textbook"),
    ("caesium chloride", "P m -3 m", 221, (4.123,) * 3 + _C, [("Cs", 0, 0, 0, 1), ("Cl", .5, .5, .5, 1)], "textbook"),
    ("strontium titanate", "P m -3 m", 221, (3.905,) * 3 + _C,
     [("Sr", 0, 0, 0, 1), ("Ti", .5, .5, .5, 1), ("O", .5, .5, 0, 1)], "textbook"),
    ("cuprite", "P n -3 m:2", 224, (4.2696,) * 3 + _C, [("O", .25, .25, .25, 1), ("Cu", 0, 0, 0, 1)], "textbook"),
    ("pyrite", "P a -3", 205, (5.417,) * 3 + _C, [("Fe", 0, 0, 0, 1), ("S", .3849, .3849, .3849, 1)], "textbook"),
    ("spinel", "F d -3 m:2", 227, (8.0832,) * 3 + _C,
     [("Mg", .125, .125, .125, 1), ("Al", .5, .5, .5, 1), ("O", .2624, .2624, .2624, 1)], "textbook"),
    # hexagonal
    ("magnesium", "P 63/m m c", 194, (3.2094, 3.2094, 5.2105) + _H, [("Mg", 1 / 3, 2 / 3, .25, 1)], "textbook"),
    ("zincite", "P 63 m c", 186, (3.2498, 3.2498, 5.2066) + _H,
     [("Zn", 1 / 3, 2 / 3, 0, 1), ("O", 1 / 3, 2 / 3, .3821, 1)], "textbook"),
    ("wurtzite", "P 63 m c", 186, (3.8227, 3.8227, 6.2607) + _H,
     [("Zn", 1 / 3, 2 / 3, 0, 1), ("S", 1 / 3, 2 / 3, .3748, 1)], "textbook"),
    ("graphite", "P 63/m m c", 194, (2.464, 2.464, 6.711) + _H,
     [("C", 0, 0, .25, 1), ("C", 1 / 3, 2 / 3, .25, 1)], "textbook"),
    ("nickeline", "P 63/m m c", 194, (3.619, 3.619, 5.034) + _H,
     [("Ni", 0, 0, 0, 1), ("As", 1 / 3, 2 / 3, .25, 1)], "textbook"),
    # trigonal
    ("corundum", "R -3 c:H", 167, (4.7589, 4.7589, 12.991) + _H,
     [("Al", 0, 0, .35216, 1), ("O", .30624, 0, .25, 1)], "textbook"),
    ("hematite", "R -3 c:H", 167, (5.0356, 5.0356, 13.7489) + _H,
     [("Fe", 0, 0, .3553, 1), ("O", .3059, 0, .25, 1)], "textbook"),
    ("calcite", "R -3 c:H", 167, (4.9896, 4.9896, 17.061) + _H,
     [("Ca", 0, 0, 0, 1), ("C", 0, 0, .25, 1), ("O", .2578, 0, .25, 1)], "textbook"),
    ("alpha-quartz", "P 32 2 1", 154, (4.9134, 4.9134, 5.4052) + _H,
     [("Si", .4697, 0, 0, 1), ("O", .4135, .2669, .1191, 1)], "textbook"),
    ("brucite", "P -3 m 1", 164, (3.1424, 3.1424, 4.7702) + _H,
     [("Mg", 0, 0, 0, 1), ("O", 1 / 3, 2 / 3, .2203, 1)], "textbook"),
    ("bismuth", "R -3 m:H", 166, (4.546, 4.546, 11.862) + _H, [("Bi", 0, 0, .23389, 1)], "textbook"),
    # tetragonal
    ("rutile", "P 42/m n m", 136, (4.5937, 4.5937, 2.9587) + _C,
     [("Ti", 0, 0, 0, 1), ("O", .3048, .3048, 0, 1)], "textbook"),
    ("cassiterite", "P 42/m n m", 136, (4.7374, 4.7374, 3.1864) + _C,
     [("Sn", 0, 0, 0, 1), ("O", .3071, .3071, 0, 1)], "textbook"),
    ("anatase", "I 41/a m d:1", 141, (3.7845, 3.7845, 9.5143) + _C,
     [("Ti", 0, 0, 0, 1), ("O", 0, 0, .2081, 1)], "textbook"),
    ("beta-tin", "I 41/a m d:1", 141, (5.8318, 5.8318, 3.1819) + _C, [("Sn", 0, 0, 0, 1)], "textbook"),
    ("zircon", "I 41/a m d:2", 141, (6.6042, 6.6042, 5.9796) + _C,
     [("Zr", 0, .75, .125, 1), ("Si", 0, .25, .375, 1), ("O", 0, .0661, .1953, 1)], "textbook"),
    ("scheelite", "I 41/a:2", 88, (5.243, 5.243, 11.376) + _C,
     [("Ca", 0, .25, .625, 1), ("W", 0, .25, .125, 1), ("O", .1504, .0085, .2106, 1)], "textbook"),
    ("barium titanate", "P 4 m m", 99, (3.992, 3.992, 4.0361) + _C,
     [("Ba", 0, 0, 0, 1), ("Ti", .5, .5, .482, 1), ("O", .5, .5, .016, 1), ("O", .5, 0, .515, 1)], "textbook"),
    # orthorhombic
    ("aragonite", "P m c n", 62, (4.9614, 7.9671, 5.7404) + _C,
     [("Ca", .25, .415, .7597, 1), ("C", .25, .7622, -.0862, 1), ("O", .25, .9225, -.0962, 1),
      ("O", .4736, .681, -.0862, 1)], "AMCSD 233"),
    ("forsterite", "P b n m", 62, (4.762, 10.225, 5.994) + _C,
     [("Mg", 0, 0, 0, 1), ("Mg", .98975, .27743, .25, 1), ("Si", .42693, .09434, .25, 1),
      ("O", .7658, .09186, .25, 1), ("O", .22012, .44779, .25, 1), ("O", .2774, .16345, .03297, 1)], "AMCSD 171"),
    ("barite", "P n m a", 62, (8.884, 5.458, 7.153) + _C,
     [("Ba", .1846, .25, .1581, 1), ("S", .437, .75, .1914, 1), ("O", .5878, .75, .1062, 1),
      ("O", .3192, .75, .0515, 1), ("O", .4186, .9702, .319, 1)], "AMCSD 163"),
    ("marcasite", "P n n m", 58, (4.443, 5.424, 3.386) + _C,
     [("Fe", 0, 0, 0, 1), ("S", .2005, .3784, 0, 1)], "textbook"),
    ("perovskite", "P b n m", 62, (5.3796, 5.4423, 7.6401) + _C,
     [("Ca", .9935, .0349, .25, 1), ("Ti", 0, .5, 0, 1), ("O", .0707, .4842, .25, 1),
      ("O", .7108, .2888, .0371, 1)], "textbook"),
    # monoclinic
    ("baddeleyite", "P 1 21/c 1", 14, (5.1505, 5.2116, 5.3173, 90, 99.23, 90),
     [("Zr", .2754, .0395, .2083, 1), ("O", .0700, .3317, .3447, 1), ("O", .4496, .7569, .4792, 1)], "textbook"),
    ("tenorite", "C 1 2/c 1", 15, (4.6837, 3.4226, 5.1288, 90, 99.54, 90),
     [("Cu", .25, .25, 0, 1), ("O", 0, .4184, .25, 1)], "textbook"),
    ("beta-gallia", "C 1 2/m 1", 12, (12.214, 3.0371, 5.7981, 90, 103.83, 90),
     [("Ga", .0905, 0, .7946, 1), ("Ga", .3414, 0, .6857, 1), ("O", .1674, 0, .1011, 1), ("O", .4957, 0, .2553, 1),
      ("O", .8279, 0, .4365, 1)], "textbook"),
    ("monazite (PrPO4)", "P 1 21/n 1", 14, (6.7596, 6.9812, 6.4344, 90, 103.53, 90),
     [("Pr", .28177, .15862, .09988, 1), ("P", .304, .163, .6127, 1), ("O", .2498, .0051, .4441, 1),
      ("O", .3816, .3327, .499, 1), ("O", .4744, .1046, .8057, 1), ("O", .126, .215, .712, 1)], "AMCSD 1701"),
    ("crocoite", "P 1 21/n 1", 14, (7.12, 7.43, 6.79, 90, 102.42, 90),
     [("Pb", .2218, .145, .3974, 1), ("Cr", .201, .1651, .88, 1), ("O", .0354, .0989, .6944, 1),
      ("O", .1247, .3461, .9869, 1), ("O", .2534, .4982, .454, 1), ("O", .3887, .2173, .781, 1)], "AMCSD 9297"),
    # triclinic
    ("copper tungstate", "P -1", 2, (4.6964, 5.8287, 4.8736, 91.63, 92.44, 82.79),
     [("Cu", .4962, .6621, .2362, 1), ("W", .0166, .1745, .267, 1), ("O", .2481, .3556, .4171, 1),
      ("O", .2243, .8769, .4324, 1), ("O", .7293, .3859, .0956, 1), ("O", .7845, .9036, .0512, 1)], "AMCSD 15983"),
    ("amblygonite", "P -1", 2, (5.18, 7.15, 5.004, 112.12, 97.8, 67.88),
     [("P", .358, .267, .941, 1), ("O", .236, .425, .784, 1), ("O", .325, .391, .269, 1), ("O", .213, .103, .812, 1),
      ("O", .67, .16, .856, 1), ("O", .959, .225, .36, 1), ("Li", .615, .305, .56, 1), ("Al", 0, 0, 0, 1),
      ("Al", 0, .5, .5, 1)], "AMCSD (Baur 1959)"),
]


@functools.lru_cache(maxsize=1)
def textbook_structures() -> tuple[tuple[str, Structure], ...]:
    """((name, Structure), ...) of every phase, read through the same CIF reader as any user file."""
    out = []
    for name, setting, number, cell, sites, _ in PHASES:
        st = structure_from_cif_text(cif_text(name.replace(" ", "_"), setting, cell, sites), name)
        if st.space_group != number:
            raise ValueError(f"textbook phase {name}: read as space group {st.space_group}, written as {number}")
        out.append((name, st))
    return tuple(out)


def textbook_sticks(two_theta_max: float, wavelength: float) -> list[tuple[str, int, np.ndarray, np.ndarray]]:
    """[(name, space group, 2θ float[P] degrees at ``wavelength`` Å, intensity float[P])] up to ``two_theta_max``."""
    out = []
    for name, st in textbook_structures():
        sp = stick_pattern(st, wavelength, two_theta_max)
        out.append((name, st.space_group, np.asarray(sp.two_theta), np.asarray(sp.intensity)))
    return out

"""Patterns for the search-match tests, rendered here in plain NumPy (independent of difcon_jax.match): the
stick pattern of a structure with the Kα1/Kα2 doublet, pseudo-Voigt peaks of constant width, a zero shift,
March–Dollase texture along c* and Gaussian noise, on a 0.04° grid over 0–90°."""

from __future__ import annotations

import numpy as np

from difcon_jax.crystal.stick import stick_pattern
from difcon_jax.crystal.structure import structure_from_cif_text
from tests.helpers.structures import STRUCTURES, make_cif

EXTRA = [
    ("quartz", "P 32 2 1", 154, (4.9134, 4.9134, 5.4052, 90, 90, 120),
     [("Si", .4697, 0, 0, 1), ("O", .4135, .2669, .1191, 1)]),
    ("calcite", "R -3 c:H", 167, (4.9896, 4.9896, 17.061, 90, 90, 120),
     [("Ca", 0, 0, 0, 1), ("C", 0, 0, .25, 1), ("O", .2578, 0, .25, 1)]),
    # Fm-3m decoys near NaCl's cell: same space group, other chemistry
    ("KBr_like", "F m -3 m", 225, (5.80,) * 3 + (90,) * 3, [("K", 0, 0, 0, 1), ("Br", .5, .5, .5, 1)]),
    ("AgCl_like", "F m -3 m", 225, (5.55,) * 3 + (90,) * 3, [("Ag", 0, 0, 0, 1), ("Cl", .5, .5, .5, 1)]),
    # rock salt of near-equal ions (Rb⁺ 36, Br⁻ 36 electrons): its all-odd reflections are ~1/1000 of the even ones
    ("RbBr", "F m -3 m", 225, (6.889,) * 3 + (90,) * 3, [("Rb", 0, 0, 0, 1), ("Br", .5, .5, .5, 1)]),
]
ALL = {s[0]: s for s in STRUCTURES + EXTRA}

N_BINS, TT_MAX = 2250, 90.0
STEP = TT_MAX / N_BINS
CENTRES = (np.arange(N_BINS) + 0.5) * STEP


def write_cifs(folder, names=None) -> list[str]:
    """CIF files of the named structures (default: all) in ``folder``; their paths."""
    paths = []
    for name in names or ALL:
        _, setting, _, cell, sites = ALL[name]
        p = folder / f"{name}.cif"
        p.write_text(make_cif(name, setting, cell, sites))
        paths.append(str(p))
    return paths


def simulate(name, cell_scale=(1.0, 1.0, 1.0), zero: float = 0.0, po_r: float = 1.0, fwhm: float = 0.12,
             eta: float = 0.5) -> np.ndarray:
    """float[N_BINS] profile (area-normalised peaks, strongest line ~ intensity 100) of structure ``name`` (a
    name of :data:`ALL`, or such a tuple itself) with its cell lengths scaled by ``cell_scale``."""
    name, setting, _, cell, sites = ALL[name] if isinstance(name, str) else name
    cell = tuple(c * s for c, s in zip(cell[:3], cell_scale)) + tuple(cell[3:])
    st = structure_from_cif_text(make_cif(name, setting, cell, sites), name)
    sp = stick_pattern(st, "CuKa12", TT_MAX + 2)
    md = ((po_r ** 2 * sp.po_cos2 + (1 - sp.po_cos2) / po_r) ** -1.5 * sp.po_weight).sum(1) / sp.po_weight.sum(1)
    y = np.zeros(N_BINS)
    g = 2 / fwhm * np.sqrt(np.log(2) / np.pi)
    for t, i in zip(sp.two_theta + zero, sp.intensity * md):
        dx = CENTRES - t
        y += i * STEP * (eta * 2 / (np.pi * fwhm) / (1 + 4 * dx * dx / fwhm ** 2)
                         + (1 - eta) * g * np.exp(-4 * np.log(2) * dx * dx / fwhm ** 2))
    return y


def measured(y: np.ndarray, noise: float = 0.004, seed: int = 0, low: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """(profile normalised to 1 with Gaussian noise, weight: 1 from ``low`` to 90°)."""
    y = y / y.max() + np.random.default_rng(seed).normal(0, noise, len(y))
    return y.astype(np.float32), (CENTRES >= low).astype(np.float32)

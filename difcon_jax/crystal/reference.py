"""Agreement with pymatgen's XRDCalculator, the independent reference (needs the ``test`` extra).

Peaks are compared as clusters: reflections closer than ``gap`` degrees are one observable peak, because
both codes merge exact coincidences but may split metric near-coincidences differently.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from difcon_jax.crystal.radiation import WAVELENGTHS
from difcon_jax.crystal.stick import stick_pattern
from difcon_jax.crystal.structure import Structure


@dataclasses.dataclass(frozen=True)
class Agreement:
    """How a stick pattern of ours compares with pymatgen's: worst position (degrees 2θ) and intensity (% of the
    strongest) error."""
    position_error: float  # degrees 2θ, worst peak above 0.1 % in either list
    intensity_error: float  # percent of the strongest peak, worst cluster
    peaks_ours: int
    peaks_reference: int
    worst_two_theta: float


def _cluster_sums(x1, y1, x2, y2, gap):
    x = np.concatenate([x1, x2])
    order = np.argsort(x)
    cid = np.empty(len(x), int)
    cid[order] = np.cumsum(np.concatenate([[0], np.diff(x[order]) > gap]))
    n = int(cid.max()) + 1 if len(x) else 0
    return (np.bincount(cid[: len(x1)], y1, minlength=n), np.bincount(cid[len(x1):], y2, minlength=n),
            np.bincount(cid, x, minlength=n) / np.maximum(np.bincount(cid, minlength=n), 1))


def pymatgen_pattern(cif_text: str, wavelength: float, two_theta_max: float):
    """pymatgen's XRDCalculator pattern of a CIF (test extra): (2θ float[K] in degrees, intensity float[K], max
    100) up to ``two_theta_max`` at ``wavelength`` Å."""
    from pymatgen.analysis.diffraction.xrd import XRDCalculator
    from pymatgen.io.cif import CifParser

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        structure = CifParser.from_str(cif_text).parse_structures(primitive=False)[0]
        pattern = XRDCalculator(wavelength=wavelength).get_pattern(structure, two_theta_range=(0, two_theta_max))
    return np.asarray(pattern.x), np.asarray(pattern.y)


def compare_with_pymatgen(structure: Structure, cif_text: str, wavelength: float = WAVELENGTHS["CuKa"],
                          two_theta_max: float = 120.0, gap: float = 1e-4) -> Agreement:
    """Our pattern of ``structure`` (B = 0) against pymatgen's for the same CIF text."""
    ours = stick_pattern(structure, wavelength, two_theta_max, b_iso=0.0)
    x2, y2 = pymatgen_pattern(cif_text, wavelength, two_theta_max)
    s1, s2, centre = _cluster_sums(ours.two_theta, ours.intensity, x2, y2, gap)
    d12 = np.abs(ours.two_theta[:, None] - x2[None]).min(1) if len(x2) else np.full(len(ours), np.inf)
    d21 = np.abs(x2[:, None] - ours.two_theta[None]).min(1) if len(ours) else np.full(len(x2), np.inf)
    pos = max(d12[ours.intensity > 0.1].max(initial=0.0), d21[y2 > 0.1].max(initial=0.0))
    diff = np.abs(s1 - s2)
    k = int(np.argmax(diff)) if len(diff) else 0
    return Agreement(float(pos), float(diff.max(initial=0.0)), len(ours), len(x2),
                     float(centre[k]) if len(diff) else float("nan"))

"""Checks of the files ``identify --export`` writes, from the files alone and independent formulas."""

from __future__ import annotations

import numpy as np

from difcon_jax.crystal.structure import read_cif


def read_table(path) -> dict[str, np.ndarray]:
    """A CSV written by the export: '#' comment lines, a line of column names, rows of numbers."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    data = np.loadtxt(lines[1:], delimiter=",", ndmin=2)
    return {name: data[:, i] for i, name in enumerate(lines[0].split(","))}


def _hexagonal_d(hkl: np.ndarray, a: float, c: float) -> np.ndarray:
    h, k, l = hkl.T
    return 1 / np.sqrt(4 / 3 * (h * h + h * k + k * k) / a**2 + l * l / c**2)


def check_exported(folder, stem: str, r: dict, space_group: int, wavelength: float = 1.5418) -> None:
    """The fit, reflection list and refined CIF of phase 1 of result ``r`` (a hexagonal-axes phase) in ``folder``."""
    fit = read_table(folder / f"{stem}.fit.csv")
    assert tuple(fit)[:6] == ("two_theta", "d_spacing", "two_theta_grid", "observed", "calculated", "difference")
    np.testing.assert_allclose(fit["observed"] - fit["calculated"], fit["difference"], atol=2e-6)
    np.testing.assert_allclose(sum(fit[f"phase_{k + 1}"] for k in range(len(r["phases"]))), fit["calculated"],
                               atol=2e-6)
    lam_ref = r["grid"]["lambda_ref"]
    np.testing.assert_allclose(fit["d_spacing"], lam_ref / (2 * np.sin(np.radians(fit["two_theta_grid"] / 2))),
                               rtol=1e-5)
    np.testing.assert_allclose(fit["two_theta"], 2 * np.degrees(np.arcsin(wavelength / (2 * fit["d_spacing"]))),
                               atol=2e-4)
    assert fit["observed"].max() == 1.0 and fit["calculated"].max() > 0.5  # the fit reaches the strongest line
    peak = np.argmax(fit["observed"])
    assert abs(np.argmax(fit["calculated"]) - peak) <= 2

    hkl = read_table(folder / f"{stem}.phase1.hkl.csv")
    a, c = r["phases"][0]["cell"][0], r["phases"][0]["cell"][2]
    idx = np.stack([hkl["h"], hkl["k"], hkl["l"]], axis=1)
    np.testing.assert_allclose(hkl["d_spacing"], _hexagonal_d(idx, a, c), rtol=2e-5)
    np.testing.assert_allclose(hkl["two_theta"], 2 * np.degrees(np.arcsin(wavelength / (2 * hkl["d_spacing"]))),
                               atol=2e-4)
    assert np.all(np.diff(hkl["d_spacing"]) <= 0) and hkl["f2m_relative"].max() == 100.0
    # the strongest line as fitted is where the measured pattern's strongest peak is
    strongest = np.argmax(hkl["f2m_relative"])
    assert abs(hkl["two_theta_fitted"][strongest] - fit["two_theta_grid"][peak]) < 0.1

    st = read_cif(folder / f"{stem}.phase1.cif")
    np.testing.assert_allclose([st.cell[i] for i in range(6)], r["phases"][0]["cell"], atol=1e-4)
    assert st.space_group == space_group and len(st.elements) > 0

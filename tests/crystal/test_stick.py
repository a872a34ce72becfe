import numpy as np
import pytest

from difcon_jax.crystal import stick_pattern, structure_from_cif_text
from difcon_jax.crystal.radiation import KA2_RATIO, WAVELENGTHS, resolve_radiation
from tests.helpers.structures import cif_of


def _by_hkl(pattern):
    return {tuple(sorted(abs(int(x)) for x in h)): (t, i, m) for h, t, i, m in
            zip(pattern.hkl, pattern.two_theta, pattern.intensity, pattern.multiplicity)}


def test_nacl_positions_multiplicities_absences():
    p = stick_pattern(structure_from_cif_text(cif_of("NaCl")), b_iso=0)
    peaks = _by_hkl(p)
    assert (0, 0, 1) not in peaks and (0, 1, 1) not in peaks  # F centring: mixed parity absent
    assert peaks[(1, 1, 1)][2] == 8 and peaks[(0, 0, 2)][2] == 6 and peaks[(0, 2, 2)][2] == 12
    d200 = 5.6402 / 2
    assert abs(peaks[(0, 0, 2)][0] - 2 * np.degrees(np.arcsin(1.54184 / (2 * d200)))) < 1e-9
    assert p.intensity.max() == pytest.approx(100.0)
    assert np.all(np.diff(p.two_theta) > 0)


def test_coincident_reflections_merge():
    # cubic (333) and (511) share d: one peak, multiplicity 8 + 24
    p = stick_pattern(structure_from_cif_text(cif_of("Si_origin2")), b_iso=0)
    i = int(np.argmin(np.abs(p.d - 5.431 / np.sqrt(27))))
    assert p.multiplicity[i] == 32 and len(p.families[i]) == 2


def test_diamond_glide_absence_and_origin_choice():
    s1 = stick_pattern(structure_from_cif_text(cif_of("Si_origin1")), b_iso=0)
    s2 = stick_pattern(structure_from_cif_text(cif_of("Si_origin2")), b_iso=0)
    assert (0, 0, 2) not in _by_hkl(s1)  # d-glide: 200 absent
    np.testing.assert_allclose(s1.two_theta, s2.two_theta)
    np.testing.assert_allclose(s1.intensity, s2.intensity, atol=1e-9)


def test_rhombohedral_and_hexagonal_axes_agree():
    h = stick_pattern(structure_from_cif_text(cif_of("corundum_hex")), b_iso=0)
    r = stick_pattern(structure_from_cif_text(cif_of("corundum_rhomb")), b_iso=0)
    strong = h.intensity > 1
    j = np.abs(h.two_theta[strong][:, None] - r.two_theta[None]).argmin(1)
    assert np.abs(h.two_theta[strong] - r.two_theta[j]).max() < 1e-6
    assert np.abs(h.intensity[strong] - r.intensity[j]).max() < 1e-6


def test_debye_waller_damps_high_angles():
    st = structure_from_cif_text(cif_of("CsCl"))
    cold, warm = stick_pattern(st, b_iso=0), stick_pattern(st, b_iso=2.0)
    ratio = warm.intensity / cold.intensity * cold.intensity.max() / warm.intensity.max()
    assert np.all(np.diff(ratio[np.argsort(cold.d)[::-1]]) <= 1e-9)  # decreasing with 1/d


def test_wavelength_and_doublet():
    st = structure_from_cif_text(cif_of("CsCl"))
    mo = stick_pattern(st, "MoKa", b_iso=0)
    assert abs(mo.d[0] - 4.123) < 1e-9
    doublet = stick_pattern(st, "CuKa12", two_theta_max=60, b_iso=0)
    single = stick_pattern(st, "CuKa1", two_theta_max=60, b_iso=0)
    assert len(doublet) == 2 * len(single)
    lam2 = WAVELENGTHS["CuKa2"]
    for t, d in zip(single.two_theta, single.d):
        t2 = 2 * np.degrees(np.arcsin(lam2 / (2 * d)))
        k1, k2 = np.argmin(abs(doublet.two_theta - t)), np.argmin(abs(doublet.two_theta - t2))
        assert abs(doublet.two_theta[k2] - t2) < 1e-9
        # Kα2/Kα1 = 0.5 × LP(θ2)/LP(θ1) (LP differs slightly between the two angles)
        assert doublet.intensity[k2] / doublet.intensity[k1] == pytest.approx(KA2_RATIO, rel=0.02)
    assert resolve_radiation(1.2) == [(1.2, 1.0)]
    with pytest.raises(ValueError):
        resolve_radiation("XxKa")


def test_two_theta_range_and_empty():
    st = structure_from_cif_text(cif_of("CsCl"))
    p = stick_pattern(st, two_theta_max=50)
    assert p.two_theta.max() <= 50
    assert len(stick_pattern(st, two_theta_max=5)) == 0


def test_cell_slightly_breaking_its_symmetry_is_symmetrised():
    from difcon_jax.crystal.stick import metric_inconsistency

    text = cif_of("rutile").replace("_cell_length_b 4.5937", "_cell_length_b 4.5941")
    st = structure_from_cif_text(text)
    assert metric_inconsistency(st) > 1e-5
    p = stick_pattern(st, b_iso=0)
    ref = stick_pattern(structure_from_cif_text(cif_of("rutile")), b_iso=0)
    assert len(p) == len(ref)  # (hk0) and (kh0) stay one peak
    np.testing.assert_array_equal(p.multiplicity, ref.multiplicity)
    assert np.abs(p.two_theta - ref.two_theta).max() < 0.01


def test_orientation_slots_by_rows_match_the_general_pooling():
    """top_slots_rows (a sort within each reflection's K images) gives top_slots' answer (one sort of all
    (reflection, value) pairs), ties included: most frequent cos²α first, equal counts by value."""
    from difcon_jax.crystal.orientation import top_slots, top_slots_rows

    rng = np.random.default_rng(0)
    for _ in range(300):
        m, k = int(rng.integers(1, 6)), int(rng.choice([1, 2, 3, 4, 8, 12, 16, 24, 48]))
        v = rng.choice(np.round(rng.uniform(0, 1, 5), 3), size=(m, k))
        a = top_slots(np.repeat(np.arange(m), k), v.ravel(), np.ones(m * k), m)
        b = top_slots_rows(v)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_merged_peak_representative_does_not_depend_on_rounding_or_order():
    """Two symmetry-unrelated families at one 2θ with intensities equal to rounding noise: the representative
    hkl of the merged peak is the larger hkl, whatever the input order and the last bits of |F|²."""
    from difcon_jax.crystal.stick import _merge

    tt = np.array([30.0, 30.0, 40.0])
    hkl = np.array([[2, 2, 1], [3, 0, 0], [1, 1, 1]])
    c2, w = np.zeros((3, 4), np.float32), np.zeros((3, 4), np.float32)
    w[:, 0] = 1
    for eps in (1e-13, -1e-13):
        for order in ([0, 1, 2], [1, 0, 2]):
            inten = np.array([50.0, 50.0 * (1 + eps), 100.0])[order]
            out = _merge(tt[order], inten, np.array([24, 6, 8])[order], hkl[order], c2, w, 1e-5)
            assert out[3].tolist() == [[3, 0, 0], [1, 1, 1]] and out[2].tolist() == [30, 8]

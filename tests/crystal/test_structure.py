import math

import numpy as np
import pytest

from difcon_jax.crystal import StructureLimits, read_cif, structure_from_cif_text
from difcon_jax.crystal.structure import DEFAULT_B_ISO
from difcon_jax.errors import InputError
from tests.helpers.structures import STRUCTURES, cif_of, make_cif


@pytest.mark.parametrize("entry", STRUCTURES, ids=[s[0] for s in STRUCTURES])
def test_standard_label_in_any_setting(entry):
    name, setting, number, cell, sites = entry
    assert structure_from_cif_text(make_cif(name, setting, cell, sites)).space_group == number
    # the H-M symbol alone (no operations) gives the same group
    assert structure_from_cif_text(make_cif(name, setting, cell, sites, with_ops=False)).space_group == number


def test_full_cell_expansion_counts():
    assert structure_from_cif_text(cif_of("NaCl")).num_sites == 8
    assert structure_from_cif_text(cif_of("Si_origin2")).num_sites == 8
    assert structure_from_cif_text(cif_of("corundum_hex")).num_sites == 30
    assert structure_from_cif_text(cif_of("corundum_rhomb")).num_sites == 10
    st = structure_from_cif_text(cif_of("NaKCl_mixed"))
    assert st.num_sites == 12 and st.formula == "Cl4K2Na2"


def test_displacement_parameters():
    st = structure_from_cif_text(cif_of("NaCl"))
    assert np.allclose(st.b_iso, DEFAULT_B_ISO)  # none in the file: documented default
    st = structure_from_cif_text(cif_of("NaCl", b_iso=0.7))
    assert np.allclose(st.b_iso, 0.7)
    u_cif = cif_of("NaCl").replace("_atom_site_occupancy", "_atom_site_occupancy\n_atom_site_U_iso_or_equiv")
    u_cif = u_cif.replace(" 1\n", " 1 0.01\n")
    assert np.allclose(structure_from_cif_text(u_cif).b_iso, 8 * math.pi**2 * 0.01)
    assert np.allclose(st.with_b_iso(0).b_iso, 0)


BAD = {
    "unparsable": ("this is not a CIF", "not a readable CIF"),
    "missing cell": ("data_x\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
                     "Na1 0 0 0\n", "missing unit cell"),
    "zero volume": (cif_of("NaCl").replace("_cell_angle_gamma 90", "_cell_angle_gamma 180"), "zero, negative"),
    "no atoms": ("data_x\n_cell_length_a 3\n_cell_length_b 3\n_cell_length_c 3\n_cell_angle_alpha 90\n"
                 "_cell_angle_beta 90\n_cell_angle_gamma 90\n_symmetry_space_group_name_H-M 'P 1'\n", "no atom sites"),
    "unknown element": (cif_of("NaCl").replace("Na1 Na", "Na1 Qq"), "unknown element"),
    "molecular ion as one site": (cif_of("NaCl").replace("Na1 Na", "Na1 NH4"), "type symbol 'NH4' at site 'Na1' reads "
                                  "as element Nh, which has no X-ray form factor"),
    "nan coordinates": (cif_of("NaCl").replace("Cl2 Cl 0.500000", "Cl2 Cl ?"), "non-numeric coordinates"),
    "no symmetry": (cif_of("NaCl", with_ops=False).replace("_symmetry_space_group_name_H-M 'F m -3 m'", ""),
                    "no space group"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_one_line(case):
    text, expected = BAD[case]
    with pytest.raises(InputError) as info:
        structure_from_cif_text(text, "bad.cif")
    msg = str(info.value)
    assert msg.startswith("bad.cif: ") and expected in msg and "\n" not in msg


def test_caps():
    with pytest.raises(InputError, match="exceed the cap 4"):
        structure_from_cif_text(cif_of("NaCl"), "big.cif", limits=StructureLimits(max_atoms=4))
    with pytest.raises(InputError, match="exceeds the cap 100"):
        structure_from_cif_text(cif_of("NaCl"), "big.cif", limits=StructureLimits(max_volume=100))


def test_read_cif_file_errors(tmp_path):
    with pytest.raises(InputError, match="missing.cif"):
        read_cif(tmp_path / "missing.cif")
    junk = tmp_path / "junk.cif"
    junk.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(InputError, match="binary"):
        read_cif(junk)
    good = tmp_path / "nacl.cif"
    good.write_text(cif_of("NaCl"))
    st = read_cif(good)
    assert st.source == str(good) and st.reduced_formula == "ClNa"


def test_shifted_origin_and_duplicate_operations():
    """Operations of an untabulated setting (origin shifted by s, decimals, listed twice) still work."""
    import gemmi

    from difcon_jax.crystal import stick_pattern

    shift = np.array([0.001, 0.0, 0.0])
    ops = []
    for op in gemmi.find_spacegroup_by_name("P 42/m n m").operations():
        r = np.array(op.rot) / 24
        t = (np.array(op.tran) / 24 + shift - r @ shift) % 1
        terms = []
        for i in range(3):
            expr = "".join(f"{'+' if c > 0 else '-'}{'xyz'[j]}" for j, c in enumerate(r[i]) if c)
            terms.append(expr + (f"+{t[i]:.6f}" if t[i] else ""))
        ops += [",".join(terms)] * 2
    text = cif_of("rutile", with_ops=False).replace("_symmetry_space_group_name_H-M 'P 42/m n m'", "loop_\n_symmetry_equiv_pos_as_xyz\n" + "\n".join(f"'{o}'" for o in ops))
    text = text.replace(" 0.000000 0.000000 0.000000 1", " 0.001000 0.000000 0.000000 1")
    text = text.replace("0.304800 0.304800 0.000000", "0.305800 0.304800 0.000000")
    st = structure_from_cif_text(text)
    ref = structure_from_cif_text(cif_of("rutile"))
    assert st.space_group == 136 and st.num_sites == ref.num_sites == 6
    a, b = stick_pattern(st), stick_pattern(ref)
    np.testing.assert_allclose(a.two_theta, b.two_theta)
    np.testing.assert_allclose(a.intensity, b.intensity, atol=1e-6)
    np.testing.assert_array_equal(a.multiplicity, b.multiplicity)

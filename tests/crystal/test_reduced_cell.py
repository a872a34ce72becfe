import numpy as np
import pytest

from difcon_jax.crystal import structure_from_cif_text
from difcon_jax.crystal.reduced_cell import cell_volume, reduced_cell
from tests.helpers.structures import _A_R, _ALPHA_R, cif_of


@pytest.mark.parametrize("name, expected", [
    # fcc: the primitive rhombohedron of edge a/√2 and 60° angles (Niggli: all angles < 90°)
    ("NaCl", (5.6402 / np.sqrt(2),) * 3 + (60.0,) * 3),
    ("Si_origin2", (5.431 / np.sqrt(2),) * 3 + (60.0,) * 3),
    # bcc: edge a√3/2, the all-obtuse form 109.47°
    ("Fe_bcc", (2.8665 * np.sqrt(3) / 2,) * 3 + (109.4712,) * 3),
    ("CsCl", (4.123,) * 3 + (90.0,) * 3),  # primitive already
    ("Mg_hcp", (3.209, 3.209, 5.211, 90.0, 90.0, 120.0)),  # a ≤ b ≤ c, γ ≥ 90° keeps all non-acute
])
def test_reduced_cell_of_textbook_lattices(name, expected):
    got = reduced_cell(structure_from_cif_text(cif_of(name)))
    np.testing.assert_allclose(got, expected, atol=2e-3)


def test_settings_of_one_lattice_reduce_to_one_cell():
    # corundum's hexagonal R-centred cell (three lattice points) and its rhombohedral primitive listing are
    # one lattice: the reduced cell cannot tell them apart, and its volume is a third of the hexagonal cell's
    hexa = reduced_cell(structure_from_cif_text(cif_of("corundum_hex")))
    rhomb = reduced_cell(structure_from_cif_text(cif_of("corundum_rhomb")))
    np.testing.assert_allclose(hexa, rhomb, atol=1e-3)
    np.testing.assert_allclose(cell_volume(hexa), 4.7589 ** 2 * 12.991 * np.sqrt(3) / 2 / 3, rtol=1e-6)
    # α_R = 55.3° < 60°: the rhombohedron is not Niggli-reduced; the reduced cell has the hexagonal a twice
    np.testing.assert_allclose(hexa[[0, 1, 2, 5]], [4.7589, 4.7589, _A_R, 60.0], atol=1e-4)
    assert _ALPHA_R < 60


def test_a_p1_listing_labelled_from_its_atoms_reduces_like_its_centred_listing():
    # most training structures are Materials Project P1 listings of the full conventional cell: their
    # centring comes from the operations spglib finds (dataset build's path), not from the file
    from difcon_jax.data.build import label_from_atoms
    from tests.crystal.test_real_structures import p1_cif

    nacl = structure_from_cif_text(cif_of("NaCl"))
    as_p1 = structure_from_cif_text(p1_cif(nacl, "mp1"), "mp1")
    np.testing.assert_allclose(reduced_cell(as_p1), [5.6402] * 3 + [90.0] * 3, atol=1e-4)  # before labelling
    labelled, _, _ = label_from_atoms(as_p1)
    np.testing.assert_allclose(reduced_cell(labelled), reduced_cell(nacl), atol=1e-4)

import numpy as np
import pytest

from difcon_jax.crystal.synthetic import SynthOptions, random_structure, space_group_prior, structure_from_cell


def test_reproducible_and_labelled_by_found_symmetry():
    import spglib

    from difcon_jax.crystal.spglib_calls import spglib_or_none

    a, req_a = random_structure(7, 3)
    b, req_b = random_structure(7, 3)
    assert req_a == req_b and a.formula == b.formula and np.array_equal(a.frac, b.frac)
    numbers = [sorted(set(a.elements)).index(e) for e in a.elements]
    ds = spglib_or_none(spglib.get_symmetry_dataset, (a.lattice_matrix(), a.frac, numbers), symprec=1e-3)
    assert a.space_group == ds.number
    assert a.source == "synth:7:3"


def test_label_is_the_found_not_the_requested_group():
    # a rock-salt arrangement declared as P1 is found to be Fm-3m
    frac = [[0, 0, 0], [.5, .5, 0], [.5, 0, .5], [0, .5, .5], [.5, .5, .5], [0, 0, .5], [0, .5, 0], [.5, 0, 0]]
    st = structure_from_cell((5.64, 5.64, 5.64, 90, 90, 90), frac, ["Na"] * 4 + ["Cl"] * 4, 0.5, "x", 1e-3)
    assert st.space_group == 225 and len(st.rotations) == 192


def test_priors():
    p = space_group_prior()
    assert p.sum() == pytest.approx(1.0) and p[0] == 0
    assert p[225] > p[1]  # MP: Fm-3m is far more common than P1
    sgs = {random_structure(1, i, SynthOptions(prior="uniform", max_atoms=24))[1] for i in range(6)}
    assert len(sgs) >= 4
    with pytest.raises(Exception):
        random_structure(1, 0, SynthOptions(prior="nonsense"))

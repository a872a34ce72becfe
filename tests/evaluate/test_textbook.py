"""The textbook set: at least 30 classic phases over all seven crystal systems, each read back as the space
group it is written in, with sticks where pymatgen-checked physics puts them (halite's 200 at 31.73° for the Cu Kα mean)."""

import collections

import numpy as np

from difcon_jax.crystal.symmetry import CRYSTAL_SYSTEMS, crystal_system_of
from difcon_jax.evaluate.textbook import PHASES, textbook_sticks, textbook_structures


def test_at_least_thirty_phases_in_every_system():
    structures = textbook_structures()  # raises when a phase reads as another group than written
    assert len(structures) == len(PHASES) >= 30
    systems = collections.Counter(CRYSTAL_SYSTEMS[crystal_system_of(st.space_group)] for _, st in structures)
    assert set(systems) == set(CRYSTAL_SYSTEMS) and min(systems.values()) >= 2
    assert len({name for name, _ in structures}) == len(structures)


def test_halite_sticks():
    sticks = {name: (sg, tt, i) for name, sg, tt, i in textbook_sticks(90.0, 1.54184)}
    sg, tt, i = sticks["halite"]
    assert sg == 225 and abs(tt[np.argmax(i)] - 31.73) < 0.01

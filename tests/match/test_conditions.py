"""A reference's measurement conditions read from its CIF, and the search's preference for ambient entries."""

import math

import gemmi
import numpy as np
import pytest

from difcon_jax.crystal.cif_writer import cif_text
from difcon_jax.grid import Grid
from difcon_jax.match.conditions import (
    ambient_preferred,
    conditions_from_cif,
    conditions_from_notes,
    conditions_note,
    describe,
    is_ambient,
)
from difcon_jax.match.database import ENTRY_ARRAYS, build_database, read_database
from difcon_jax.match.fit import FitSettings
from difcon_jax.match.retrieve import Restraints
from difcon_jax.match.search import IdentifySettings, SearchIndex, search_profile
from tests.helpers.match import N_BINS, TT_MAX, measured, simulate

NAN = math.nan


@pytest.mark.parametrize("text, t, p", [
    ("Sample: T = 8 K", 8.0, NAN),
    ("Sample: at T = 600 C", 873.15, NAN),
    ("T = 25 deg C", 298.15, NAN),
    ("Note: T = -173 C", 100.15, NAN),
    ("Sample: P = 18 kbar", NAN, 1.8),
    ("Sample: at P = 4.7 GPa, T = 296 K", 296.0, 4.7),
    ("Sample: at T = 1.73 K & P = .003 GPa", 1.73, 0.003),
    ("Sample: P = 1 atm", NAN, 1.01325e-4),
    # a sample's history is not the measurement's condition
    ("Sample: quenched from T = 300 C", NAN, NAN),
    ("Sample: preparation T = 240 C", NAN, NAN),
    ("Sample: T = 25 C after annealing at 150 C", 298.15, NAN),
    ("Sample: x = 0.5, t = 7 days", NAN, NAN),
])
def test_conditions_written_in_notes(text, t, p):
    got = conditions_from_notes(text)
    np.testing.assert_allclose(got, (t, p), rtol=1e-9)


def test_cif_tags_come_first_and_pressures_are_in_kpa():
    text = ("data_x\n_diffrn_ambient_temperature 100(2)\n_diffrn_ambient_pressure 5000000\n"
            "_publ_section_title\n;\n Sample: T = 300 K\n;\n")
    np.testing.assert_allclose(conditions_from_cif(gemmi.cif.read_string(text).sole_block()), (100.0, 5.0))
    only_title = "data_x\n_publ_section_title\n;\n High-pressure study\n Sample: P = 18 kbar\n;\n"
    np.testing.assert_allclose(conditions_from_cif(gemmi.cif.read_string(only_title).sole_block()), (NAN, 1.8))


def test_a_non_ambient_polymorph_is_left_out_where_the_ambient_phase_is_held():
    names = np.array(["Covellite", "covellite", "Covellite", "Stishovite", "Quartz", "Quartz"])
    cond = np.array([[NAN, NAN], [8.0, NAN], [295, 1.2], [NAN, 10.0], [873.0, NAN], [NAN, NAN]])
    groups = np.array([194, 63, 194, 136, 180, 154])
    np.testing.assert_array_equal(is_ambient(cond), [True, False, False, False, False, True])
    # covellite's 8 K Cmcm and β-quartz at 873 K are other polymorphs than the ambient entries of their names: left
    # out; covellite at 1.2 GPa is the ambient phase (same group) with a smaller cell, and the high-pressure
    # stishovite is the only entry of its name: both stay
    np.testing.assert_array_equal(ambient_preferred(names, cond, groups), [True, False, True, True, False, True])
    assert ambient_preferred(names, np.full((6, 2), NAN), groups).all()  # nothing said: every entry
    assert describe(cond[0]) == "" and describe(cond[1]) == "8 K" and describe(cond[2]) == "1.2 GPa"
    assert describe([873.0, 4.5]) == "873 K, 4.5 GPa"


def _halite(name, setting, cell, sites, note=""):
    text = cif_text(name, setting, cell, sites)
    head, rest = text.split("\n", 1)
    title = f"_publ_section_title\n;\n Rock salt\n {note}\n;\n" if note else ""
    return f"{head}\n_chemical_name_mineral 'Halite'\n{title}{rest}"


def test_identify_answers_with_the_ambient_entry_of_a_phase(tmp_path):
    # rock salt and a 'low-temperature' body-centred tetragonal halite (c stretched 1 %): the tetragonal cell has
    # one more free parameter and fits a cubic pattern at least as well
    (tmp_path / "halite.cif").write_text(_halite("halite", "F m -3 m", (5.6402,) * 3 + (90,) * 3,
                                                 [("Na", 0, 0, 0, 1), ("Cl", .5, .5, .5, 1)]))
    a = 5.6402 / 2 ** 0.5
    (tmp_path / "halite_8K.cif").write_text(_halite("halite_8K", "I 4/m m m", (a, a, 5.6402 * 1.01, 90, 90, 90),
                                                    [("Na", 0, 0, 0, 1), ("Cl", 0, 0, .5, 1)], "Sample: T = 8 K"))
    db, skipped = build_database([str(tmp_path)], str(tmp_path / "db.npz"))
    assert skipped == []
    db = read_database(str(tmp_path / "db.npz"))
    cold = list(db.code).index("halite_8K")
    np.testing.assert_allclose(db.conditions[cold], (8.0, NAN))
    assert np.isnan(db.conditions[1 - cold]).all()
    np.testing.assert_array_equal(Restraints().allowed(db), np.arange(2) != cold)
    assert Restraints(non_ambient=True).allowed(db).all()

    grid = Grid(N_BINS, 0.0, TT_MAX, 1.54184)
    index = SearchIndex.of(db, grid)
    y, w = measured(simulate("NaCl"))
    settings = IdentifySettings(candidates=2, max_phases=1,
                                fit=FitSettings(coarse_factor=2, window=40, coarse_window=40, keep=2))
    found = search_profile(y, w, None, None, index, Restraints().allowed(db), grid, settings)
    assert found["match"] and found["phases"][0]["code"] == "halite" and found["phases"][0]["determined_at"] == ""
    every = search_profile(y, w, None, None, index, None, grid, settings)
    assert {c["code"] for c in every["candidates"]} == {"halite", "halite_8K"}
    (cold_fit,) = [c for c in every["candidates"] if c["code"] == "halite_8K"]
    assert cold_fit["determined_at"] == "8 K" and conditions_note(cold_fit) == " (determined at 8 K)"
    assert conditions_note(found["phases"][0]) == ""

    # a library written before conditions were recorded reads as 'nothing said' (every entry ambient)
    with np.load(tmp_path / "db.npz") as z:
        np.savez(tmp_path / "old.npz", **{k: z[k] for k in z.files if k != "conditions"})
    old = read_database(str(tmp_path / "old.npz"))
    assert "conditions" in ENTRY_ARRAYS and old.conditions.shape == (2, 2) and np.isnan(old.conditions).all()
    assert Restraints().allowed(old).all()

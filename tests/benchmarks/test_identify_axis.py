"""benchmarks/identify_axis.py: a parent removed from the library for the absent-parent run leaves the kNN votes of
the network's fallback answer too (with it there, its own representation voted for its group); isostructural twins
are found by group, stoichiometry and cell; ``--faithful`` renders without intensity noise and impurity lines."""

import os
import sys
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "benchmarks"))

from identify_axis import (anonymous_formula, faithful, fallback_answers, isostructural_partner,  # noqa: E402
                           threshold_accuracy)


class FakePredictor(NamedTuple):
    """Records the kNN library and prior each call sees; answers group 225 (cubic) when the library holds an
    entry of group 225, else group 2 (triclinic) — a stand-in for a parent's own vote."""
    library: dict
    calls: list

    def __call__(self, x, blend, prior):
        self.calls.append({"library": self.library, "blend": blend, "prior": prior})
        p = np.zeros((len(x), 230))
        p[:, 224 if 225 in self.library["space_group"] else 1] = 1.0
        return {"space_group": p}


def test_fallback_drops_the_excluded_parent_from_the_votes():
    library = {"h": np.eye(3, 4, dtype=np.float16), "space_group": np.array([14, 225, 62], np.int16), "k": 10}
    calls = []
    ident = SimpleNamespace(predictor=FakePredictor(library, calls))
    x = np.zeros((1, 8), np.float32)
    assert fallback_answers(ident, x) == [225]
    assert fallback_answers(ident, x, exclude=1) == [2]
    seen = calls[-1]
    assert seen["library"]["space_group"].tolist() == [14, 62] and seen["library"]["h"].shape == (2, 4)
    assert seen["library"]["k"] == 10 and seen["blend"] and seen["prior"] == "natural"  # identify's no-match prior
    assert len(library["h"]) == 3  # the loaded library is left as it was


def test_threshold_accuracy_answers_unmatched_patterns_by_the_fallback():
    fit = {"rwp_lines": 0.2, "explained": 0.9}
    records = [{"best": fit, "best_sg": 14, "fallback_sg": 2, "space_group": 14},
               {"best": {"rwp_lines": 0.8, "explained": 0.9}, "best_sg": 14, "fallback_sg": 62, "space_group": 62}]
    absent = [{**fit, "best_sg": 15, "fallback_sg": 14, "space_group": 14},
              {"rwp_lines": 0.8, "explained": 0.9, "best_sg": 15, "fallback_sg": 14, "space_group": 14}]
    r = threshold_accuracy(records, absent, 0.45, 0.7)
    assert (r["present"], r["absent"], r["mean"]) == (1.0, 0.5, 0.75)
    never = threshold_accuracy(records, absent, 0.0, 1.0)  # nothing passes: the fallback answers all
    assert (never["present"], never["absent"]) == (0.5, 1.0)


def test_isostructural_partner_needs_group_stoichiometry_and_a_near_cell():
    """Ho2O3 has a twin in Yb2O3 (Ia-3, a 2 % apart); not in its own sibling entry (the same name in another case),
    a bixbyite 8 % larger, In2O3 of another group or HoO2 (another stoichiometry)."""
    cubic = lambda a: [a, a, a, 90.0, 90.0, 90.0]  # noqa: E731
    db = SimpleNamespace(name=np.array(["Ho2O3", "HO2O3", "Yb2O3", "big", "In2O3", "HoO2", "Pyrite"]),
                         formula=np.array(["Ho2O3", "Ho2O3", "Yb2O3", "Eu2O3", "In2O3", "HoO2", "FeS2"]),
                         space_group=np.array([206, 206, 206, 206, 167, 206, 205]),
                         cell=np.array([cubic(10.6), cubic(10.6), cubic(10.4), cubic(11.5), cubic(10.5),
                                        cubic(10.6), cubic(5.4)]))
    np.testing.assert_allclose(anonymous_formula("Yb2O3"), [0.4, 0.6])
    assert isostructural_partner(db, [0, 2, 3, 4, 5, 6]).tolist() == [True, True, False, False, False, False]
    db.name[2] = "ho2o3"  # with Yb2O3 renamed a sibling too, Ho2O3 has no twin left
    assert isostructural_partner(db, [0]).tolist() == [False]


def test_faithful_zeroes_intensity_noise_and_impurities_only():
    from difcon_jax.config import default_config_path, load_config

    aug = load_config(default_config_path("difcon_cpu")).augment
    f = faithful(aug)
    assert f.ranges.intensity_noise == ((0.0, 0.0),) and f.ranges.impurity_intensity == ((0.0, 0.0),)
    assert f.ranges.po_r == aug.ranges.po_r and f.sources == aug.sources
    assert aug.ranges.intensity_noise != ((0.0, 0.0),)  # the model's own config untouched

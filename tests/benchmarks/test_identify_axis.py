"""benchmarks/identify_axis.py: a parent removed from the library for the absent-parent run leaves the kNN votes of
the network's fallback answer too (with it there, its own representation voted for its group)."""

import os
import sys
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "benchmarks"))

from identify_axis import fallback_answers, threshold_accuracy  # noqa: E402


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

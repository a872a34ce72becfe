"""Isotype counts (same space group, atom fractions within a tolerance) and the accuracy by them, counted by hand."""

import numpy as np
import pytest

from difcon_jax.crystal.symmetry import crystal_system_array
from difcon_jax.evaluate.evaluators import LabelledSet
from difcon_jax.evaluate.isotypes import anonymous_formula, by_isotypes, isotype_counts
from difcon_jax.evaluate.report import write_report

#: (formula, space group, training?) — a small table written here
ROWS = [("Na4Cl4", 225, True), ("K4Cl4", 225, True), ("Mg4O4", 225, False), ("CsCl", 221, True),
        ("Zn4S4", 216, False), ("Al12O18", 167, True), ("Fe12O18", 167, False), ("Na3.92Cl4", 225, True),
        ("Ca4F8", 225, True), ("Li8O4", 225, False), ("Ba1.6Sr0.4O2", 225, False)]


def test_anonymous_formula_drops_the_elements_and_keeps_the_fractions():
    np.testing.assert_allclose(anonymous_formula("Ho2O3"), [0.4, 0.6])
    np.testing.assert_array_equal(anonymous_formula("Yb4O6"), anonymous_formula("Ho2O3"))
    np.testing.assert_allclose(anonymous_formula("CaF2"), [1 / 3, 2 / 3])
    np.testing.assert_allclose(anonymous_formula("Na0.5K0.5Cl"), [0.25, 0.25, 0.5])
    assert anonymous_formula("").shape == (0,) and anonymous_formula("???").shape == (0,)


def test_isotype_counts_by_hand():
    formula = np.array([f for f, _, _ in ROWS])
    sg = np.array([g for _, g, _ in ROWS])
    train = np.array([t for _, _, t in ROWS])
    counts = isotype_counts(sg, formula, train, np.arange(len(ROWS)))
    # MgO: NaCl, KCl and Na3.92Cl4 (fractions 0.495 / 0.505: within 0.01) — not CaF2 (another stoichiometry), not
    # CsCl (another group); a training row's own entry is not counted: NaCl has KCl and Na3.92Cl4
    assert counts.tolist() == [2, 2, 3, 0, 0, 0, 1, 2, 0, 1, 0]
    parsed: dict = {}  # formulas parsed once for several sets of rows: the same counts
    assert [isotype_counts(sg, formula, train, r, cache=parsed).tolist() for r in ([2, 6], [0, 9], [2, 6])] == \
        [[3, 1], [2, 1], [3, 1]] and len(parsed) > 0
    # Li2O is anti-fluorite: CaF2's fractions; BaSrO2 has three elements, so no two-element row is its isotype
    assert isotype_counts(sg, formula, train, [9], tolerance=0.0).tolist() == [1]
    assert isotype_counts(sg, formula, train, [2], tolerance=0.001).tolist() == [2]  # Na3.92Cl4 now too far


def test_accuracy_by_isotypes_and_its_report(tmp_path):
    counts = np.array([0, 0, 3, 7, 60, 61, 2])
    right_sg = np.array([0, 1, 1, 0, 1, 1, 0], bool)
    right_cs = np.array([1, 1, 1, 0, 1, 1, 1], bool)
    out = by_isotypes(right_sg, right_cs, counts)
    assert list(out) == ["0", "1-4", "5-49", "50+"]
    assert out["0"] == {"n": 2, "acc_cs": 1.0, "acc_sg": 0.5} and out["1-4"] == {"n": 2, "acc_cs": 1.0, "acc_sg": 0.5}
    assert out["5-49"] == {"n": 1, "acc_cs": 0.0, "acc_sg": 0.0} and out["50+"]["acc_sg"] == 1.0
    assert by_isotypes(right_sg[:2], right_cs[:2], counts[:2])["50+"] == {"n": 0}

    # a labelled set carrying the counts scores by them; the report prints them
    truth = np.array([225, 221, 167, 14, 2, 225, 62])
    pred = np.array([224, 221, 167, 1, 2, 225, 61])  # wrong groups: 224 and 61 in the right system, 1 not

    def predictor(x, blend=False):
        p = np.full((len(x), 230), 1e-3)
        p[np.arange(len(x)), pred - 1] = 1.0
        cs = np.zeros((len(x), 7))
        np.add.at(cs, (np.arange(len(x)), crystal_system_array()[pred]), 1.0)
        return {"space_group": p / p.sum(1, keepdims=True), "crystal_system": cs,
                "extinction_group": np.ones((len(x), 5)) / 5}

    res = LabelledSet("equivariance", np.zeros((7, 4)), truth, isotypes=counts)(predictor)
    assert res["by_isotypes"]["0"] == {"n": 2, "acc_cs": 1.0, "acc_sg": 0.5}
    assert res["by_isotypes"]["5-49"] == pytest.approx({"n": 1, "acc_cs": 0.0, "acc_sg": 0.0})
    assert "by_isotypes" not in LabelledSet("textbook", np.zeros((7, 4)), truth)(predictor)
    _, md = write_report(str(tmp_path), {"m": {"equivariance": res}})
    text = open(md).read()
    assert "By isotypes in the training split" in text
    assert "| m | equivariance | 0.500 (1.000, 2) | 0.500 (1.000, 2) | 0.000 (0.000, 1) | 1.000 (1.000, 2) |" in text

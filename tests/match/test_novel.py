"""A pattern the library lacks, indexed and checked (match/novel.py), on a monoclinic structure written in the
tests: the cell from its peak positions, the groups its absences allow, and the Pawley fit of the answer in the
setting of that group's standard one."""

import numpy as np
import pytest

from difcon_jax.cli.matching import indexing_lines
from difcon_jax.crystal.symmetry import extinction_group_of
from difcon_jax.grid import Grid
from difcon_jax.match.indexing import IndexSettings
from difcon_jax.match.novel import _pawley, index_and_check
from tests.helpers.match import ALL, N_BINS, TT_MAX, measured, simulate

pytestmark = pytest.mark.xla_optimised  # long fits: optimised code wins (tests/conftest.py)

GRID = Grid(N_BINS, 0.0, TT_MAX, 1.54184)


def test_a_monoclinic_pattern_is_indexed_and_pawley_fitted_in_its_groups_setting():
    """P2₁/n (a 6.2, b 9.1, c 7.7 Å, β 95.2°): indexed in its reduced cell, the C-centred classes refused, and the
    network's P2₁/c fitted in P2₁/c's own setting of the same lattice (c' = a + c: 9.44 Å, β 125.7°), over the
    range its reflections cover."""
    y, w = measured(simulate("P21n_setting", fwhm=0.08, zero=0.04), noise=0.002)
    ranking = np.full(230, 0.1 / 229)
    ranking[14 - 1] = 0.9
    restricted, rec = index_and_check(y, w, GRID, ranking)
    assert rec is not None and rec["lattice"] == "monoclinic" and rec["centring"] == "P"
    assert rec["cell"][:3] + rec["cell"][4:5] == pytest.approx([6.2, 9.1, 7.7, 95.2], rel=3e-3)
    assert restricted.sum() == pytest.approx(1.0)
    assert restricted[14 - 1] > 0 and all(restricted[g - 1] == 0 for g in (5, 9, 12, 15))  # C2, Cc, C2/m, C2/c
    assert all(restricted[g - 1] == 0 for g in range(16, 231))  # only monoclinic groups remain
    assert extinction_group_of(rec["pawley"]["space_group"]["number"]) == extinction_group_of(14)
    assert rec["pawley"]["cell"][:3] + rec["pawley"]["cell"][4:5] == pytest.approx([6.2, 9.1, 9.44, 125.66], rel=3e-3)
    # P2₁/c of a 434 Å³ cell has more lines below 90° than the fit's 160 intensities: the range it covers is said,
    # and the measurement past it does not count in its Rwp
    assert 45.0 < rec["pawley"]["two_theta_max"] < TT_MAX and rec["pawley"]["reflections"] == 160
    assert rec["pawley"]["rwp"] < 0.15
    assert np.all(rec["_model"][GRID.centres > rec["pawley"]["two_theta_max"] + 1.0] < 1e-3)
    assert len(rec["_ticks"]) > 0 and rec["_model"].shape == (N_BINS,)


def test_a_centred_pattern_answers_a_centred_group():
    """Cc (a 6.6, b 8.1, c 7.4 Å, β 110.2°): its lines are counted with a centred cell (half the reflections
    absent), so the primitive groups are refused — P2₁/c, what a network often says of a monoclinic pattern,
    explains every line Cc has but predicts the missing half too (which the empty absences also say)."""
    y, w = measured(simulate("Cc_generic", fwhm=0.08, zero=0.04), noise=0.002)
    ranking = np.full(230, 0.1 / 229)
    ranking[14 - 1] = 0.9
    restricted, rec = index_and_check(y, w, GRID, ranking, pawley=False)
    assert rec is not None and rec["lattice"] == "monoclinic" and rec["centring"] in ("C", "A", "I")
    assert all(restricted[g - 1] == 0 for g in (3, 4, 6, 7, 10, 11, 13, 14))  # every primitive monoclinic group
    assert restricted[9 - 1] > 0 and int(np.argmax(restricted)) + 1 in (5, 8, 9, 12, 15)
    # without the rule, P2₁/c's absences do not refuse it, and the network's answer stands unless the missing half,
    # empty where a centred group forbids it, is weighed
    plain = IndexSettings(same_centring=False, absence_weight=0.0, violation_weight=0.0)
    kept, _ = index_and_check(y, w, GRID, ranking, settings=plain, pawley=False)
    assert int(np.argmax(kept)) + 1 == 14
    weighed, _ = index_and_check(y, w, GRID, ranking, settings=IndexSettings(same_centring=False), pawley=False)
    assert int(np.argmax(weighed)) + 1 in (5, 8, 9, 12, 15)


def test_empty_absences_weigh_the_groups_that_forbid_them():
    """P2₁/n's pattern with a network that prefers P2/m to P2₁/c (P2/m allows every reflection, so its absences
    never refuse it): the positions P2₁/c forbids are empty, and with a weight on that evidence the answer becomes
    P2₁/c's class; at weight 0 the network's order stands. The record says how many positions the answer leaves
    empty."""
    y, w = measured(simulate("P21n_setting", fwhm=0.08, zero=0.04), noise=0.002)
    ranking = np.full(230, 0.3 / 228)
    ranking[10 - 1], ranking[14 - 1] = 0.5, 0.2
    plain, rec0 = index_and_check(y, w, GRID, ranking, settings=IndexSettings(absence_weight=0.0), pawley=False)
    assert int(np.argmax(plain)) + 1 == 10 and rec0["empty_absences"] == 0
    weighed, rec = index_and_check(y, w, GRID, ranking, settings=IndexSettings(absence_weight=1.0), pawley=False)
    assert extinction_group_of(int(np.argmax(weighed)) + 1) == extinction_group_of(14)
    assert rec["empty_absences"] >= 3 and weighed.sum() == pytest.approx(1.0)


def test_a_primitive_cubic_cell_is_also_weighed_as_its_f_and_i_descriptions():
    """RbBr (rock salt, a 6.889 Å; Rb⁺ and Br⁻ scatter alike, so its all-odd reflections are no lines) indexes as a
    primitive cubic cell of half the edge, whose lines are also those of the F cell twice as large. With the
    descriptions weighed, a network that reads Fm-3m is answered Fm-3m, Pawley-fitted in the F cell, and the record
    says which cell the answer's is; without them only the primitive groups remain."""
    y, w = measured(simulate("RbBr", fwhm=0.08, zero=0.02), noise=0.002)
    ranking = np.full(230, 0.2 / 228)
    ranking[225 - 1], ranking[221 - 1] = 0.6, 0.2
    restricted, rec = index_and_check(y, w, GRID, ranking)
    assert rec["lattice"] == "cubic" and rec["centring"] == "P" and rec["cell"][0] == pytest.approx(6.889 / 2, rel=2e-3)
    assert int(np.argmax(restricted)) + 1 == 225 and restricted[221 - 1] > 0 and restricted[229 - 1] > 0  # Im-3m
    assert rec["answer_cell"]["centring"] == "F" and rec["answer_cell"]["a"] == pytest.approx(6.889, rel=2e-3)
    assert rec["pawley"]["space_group"]["number"] == 225 and rec["pawley"]["cell"][0] == pytest.approx(6.889, rel=2e-3)
    assert rec["pawley"]["rwp"] < 0.15
    assert any(line.startswith("the answer's cell: cubic F, a=6.88") for line in indexing_lines(rec))
    primitive, rec0 = index_and_check(y, w, GRID, ranking, settings=IndexSettings(cubic_descriptions=False),
                                      pawley=False)
    assert int(np.argmax(primitive)) + 1 == 221 and "answer_cell" not in rec0
    assert all(primitive[g - 1] == 0 for g in range(195, 231) if g not in (195, 198, 200, 201, 205, 207, 208, 212,
                                                                           213, 215, 218, 221, 222, 223, 224))


@pytest.mark.parametrize("name, group", [("quartz", 154), ("Pnma_generic", 62), ("P212121_generic", 19)])
def test_the_pawley_fit_of_an_indexed_cell_reaches_a_sharp_patterns_noise_floor(name, group):
    """An indexed cell is the pattern's: the fit starts from it straight at the fine stage too (the smoothed stage
    can move an exact cell among many free intensities) with Le Bail intensities; quartz's sharp pattern fitted to
    Rwp 0.11 from the two smoothed starts alone, 0.07 now (the noise floor)."""
    cell = ALL[name][3]
    y, w = measured(simulate(name, fwhm=0.05), noise=0.003)
    fit = _pawley(y, w, GRID, cell, group, "Cu")
    assert fit["rwp"] < 0.08
    assert fit["cell"][:3] == pytest.approx(cell[:3], rel=3e-4)

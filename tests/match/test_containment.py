"""Containment retrieval (match/containment.py): the entries whose lines are all in a pattern — a strained phase,
each phase of a mixture — on patterns rendered independently in tests/helpers/match.py."""

import numpy as np
import pytest

import difcon_jax.match.containment as containment
from difcon_jax.grid import Grid
from difcon_jax.match.containment import containment_scores
from difcon_jax.match.database import build_database, read_database
from difcon_jax.match.fit import FitSettings
from difcon_jax.match.search import IdentifySettings, SearchIndex, search_profile
from tests.helpers.match import N_BINS, TT_MAX, measured, simulate, write_cifs

GRID = Grid(N_BINS, 0.0, TT_MAX, 1.54184)
STRAINED = (1.03, 1.03, 1.03)  # a solid solution's 3 %: lines 0.3–1.5° away from the reference's


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cifs")
    write_cifs(folder)
    build_database([str(folder)], str(folder / "db.npz"))
    return SearchIndex.of(read_database(str(folder / "db.npz")), GRID)


def _ranked(index, y, w, allowed=None):
    score = containment_scores(y, y, w, GRID.tt_min, GRID.step, index.sticks, allowed)
    return [str(index.db.code[i]) for i in np.argsort(-score, kind="stable")], score


@pytest.mark.parametrize("name", ["corundum_hex", "rutile"])
def test_a_strained_phase_is_found_by_its_lines(index, name, monkeypatch):
    y, w = measured(simulate(name, STRAINED))
    assert _ranked(index, y, w)[0][0] == name
    monkeypatch.setattr(containment, "MAX_STRAIN", 0.0)  # the scaling search is what finds it
    assert _ranked(index, y, w)[0][0] != name


@pytest.mark.parametrize("major,minor", [("quartz", "calcite"), ("calcite", "quartz")])
def test_each_phase_of_a_70_30_mixture_ranks_above_every_other_entry(index, major, minor):
    a, b = simulate(major), simulate(minor)
    y, w = measured(0.7 * a / a.sum() + 0.3 * b / b.sum())
    assert _ranked(index, y, w)[0][:2] == [major, minor]


def test_restraints_and_an_empty_pattern(index):
    y, w = measured(simulate("corundum_hex"))
    allowed = np.array([c != "corundum_hex" for c in index.db.code])
    order, score = _ranked(index, y, w, allowed)
    assert order[-1] == "corundum_hex" and score.min() == -np.inf and np.isfinite(score[allowed]).all()
    flat = np.zeros(N_BINS, np.float32)
    assert np.all(containment_scores(flat, flat, w, GRID.tt_min, GRID.step, index.sticks) == 0)


@pytest.mark.parametrize("strain", [1.0, 1.03, 0.97])
def test_the_shift_table_reads_what_each_stick_at_each_scaling_reads(index, strain):
    # C(e) for every entry and scaling from one table over ln sin θ (a scaling is a shift there) against the
    # reference that places each stick at each scaling; they differ only where a line sits on a bin edge
    y, w = measured(simulate("rutile", (strain,) * 3))
    pres, counted = containment.presence_map(y, w, GRID.step)
    strains = containment.strain_grid()
    sticks = index.sticks
    direct = np.stack([containment.contained_direct(np.exp(sticks.log_sin_top), sticks.weight_top, e, pres, counted,
                                                    GRID.tt_min, GRID.step) for e in strains], 1)
    table = containment.ShiftTable(pres, counted, strains, GRID.tt_min, GRID.step)
    shifted = table.contained(sticks.log_sin_top, sticks.weight_top)
    assert shifted.shape == direct.shape == (len(sticks), len(strains))
    assert np.abs(shifted - direct).mean() < 0.01 and np.abs(shifted - direct).max() < 0.2
    row = list(index.db.code).index("rutile")
    # its lines on signal (the weakest below the presence level count in part) at the scaling it was strained by
    assert shifted[row].max() == pytest.approx(direct[row].max(), abs=0.02) and shifted[row].max() > 0.7
    assert abs(int(shifted[row].argmax()) - int(np.argmin(np.abs(strains - (strain - 1))))) <= 1


def test_identify_matches_a_strained_phase_the_fingerprint_misses(index):
    # six candidates without representations: the profile fingerprint alone does not retrieve corundum strained
    # by 3 % (its top six are other entries), two containment candidates do, and the fit then matches it
    fit = FitSettings(coarse_factor=2, window=40, coarse_window=40, keep=4)
    y, w = measured(simulate("corundum_hex", STRAINED))
    found = {}
    for c in (0, 2):
        s = IdentifySettings(candidates=6, containment=c, fit=fit, max_phases=1)
        found[c] = search_profile(y, w, None, None, index, None, GRID, s)
    assert not found[0]["match"] and "corundum_hex" not in [c["code"] for c in found[0]["candidates"]]
    assert found[2]["match"] and found[2]["phases"][0]["code"] == "corundum_hex"
    assert found[2]["phases"][0]["cell"][0] == pytest.approx(4.7589 * 1.03, rel=1e-3)

"""Search-match of mixtures and of lines no phase explains: further phases found on the remainder and refitted
with the phases before them, the principal phase first, the match test of a mixture, first-phase tries, unexplained
peaks (one line is no phase; a doublet is one line; counting spikes are none) and no match — on patterns rendered
independently in tests/helpers/match.py."""

import dataclasses

import numpy as np
import pytest

from difcon_jax.match import search
from difcon_jax.match.search import IdentifySettings
from tests.helpers.match import CENTRES, N_BINS, TT_MAX, measured, simulate
from tests.helpers.match_search import FIT, SETTINGS, library_index
from tests.helpers.match_search import search_in as _search

pytestmark = pytest.mark.xla_optimised  # long fits: optimised code wins (tests/conftest.py)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return library_index(tmp_path_factory.mktemp("cifs"))


def test_two_phase_mixture_finds_both_phases(index):
    q, c = simulate("quartz"), simulate("calcite")
    y, w = measured(0.7 * q / q.sum() + 0.3 * c / c.sum())  # 70/30 by diffracted intensity
    found = _search(index, y, w, max_phases=3)
    names = [p["code"] for p in found["phases"]]
    assert names[:2] == ["quartz", "calcite"]
    assert found["phases"][0]["intensity_fraction"] == pytest.approx(0.7, abs=0.08)
    assert found["rwp"] < 0.2 and found["unexplained_peaks"] == []


def test_the_phases_before_a_further_one_are_refitted_with_it(index):
    # fitted alone, phase 1 of a 70/30 mixture bends over phase 2's lines and reports the misfit of a model without
    # them (Rwp ~0.46 here); refitted with phase 2 in the model (as Rietveld refines every phase at once) it reports
    # the whole model's Rwp, and that Rwp is lower than with phase 1 as fitted alone
    r, n = simulate("rutile"), simulate("NaCl")
    y, w = measured(0.7 * r / r.sum() + 0.3 * n / n.sum())
    alone = _search(index, y, w, max_phases=3, refine_together=False)
    together = _search(index, y, w, max_phases=3)
    assert [p["code"] for p in together["phases"]] == [p["code"] for p in alone["phases"]] == ["rutile", "NaCl"]
    assert alone["phases"][0]["rwp"] > 3 * alone["rwp"]
    assert together["phases"][0]["rwp"] == pytest.approx(together["rwp"], abs=1e-4)
    assert together["rwp"] < 0.95 * alone["rwp"]
    assert together["phases"][0]["intensity_fraction"] == pytest.approx(0.7, abs=0.02)


def test_the_principal_phase_is_reported_first_whichever_the_search_found_first(index, monkeypatch):
    # the search takes its first phase from the fits alone; when that is the minor phase of a mixture, the phase
    # carrying most of the pattern is put first — the candidates' head, whose group the symmetry answer votes for
    q, c = simulate("quartz"), simulate("calcite")
    y, w = measured(0.6 * q / q.sum() + 0.4 * c / c.sum())
    tried = []

    def calcite_first(ranking, settings):  # the search made to start from the minor phase
        tried.extend(r["code"] for r in ranking if r["code"] == "calcite")
        return [r for r in ranking if r["code"] == "calcite"][:1]

    monkeypatch.setattr(search, "first_phase_tries", calcite_first)
    found = _search(index, y, w, max_phases=2)
    assert tried == ["calcite"] and [p["code"] for p in found["phases"]] == ["quartz", "calcite"]
    assert found["phases"][0]["intensity_fraction"] == pytest.approx(0.6, abs=0.08)
    assert found["candidates"][0]["code"] == "quartz" and found["candidates"][0]["_row"] == found["phases"][0]["_row"]


def test_no_further_phase_is_searched_when_the_first_leaves_no_peaks(index, monkeypatch):
    # a further phase must explain two peaks the phases found leave unexplained: a single phase that leaves none
    # is answered without the remainder's search (retrieval and K fits); a mixture's remainder is still searched
    calls = []
    fit_rows = search.fit_rows
    monkeypatch.setattr(search, "fit_rows", lambda *a, **k: calls.append(len(a[1])) or fit_rows(*a, **k))
    nacl = simulate("NaCl")
    one_line = 0.2 * nacl.max() * np.exp(-0.5 * ((CENTRES - 37.0) / 0.05) ** 2)  # one impurity line: no phase
    y, w = measured(nacl + one_line)
    single = _search(index, y, w, max_phases=3)
    assert [p["code"] for p in single["phases"]] == ["NaCl"] and len(calls) == 1
    assert single["unexplained_peaks"] == [pytest.approx(37.0, abs=0.1)]
    r, n = simulate("rutile"), simulate("NaCl")
    calls.clear()
    assert [p["code"] for p in _search(index, *measured(0.7 * r / r.sum() + 0.3 * n / n.sum()),
                                       max_phases=3)["phases"]] == ["rutile", "NaCl"]
    assert len(calls) >= 2


def test_a_half_and_half_mixture_matches_both_phases(index):
    # neither phase explains 70 % of a 50/50 mixture alone: the match test counts what the phases found explain
    # together (each with its own lines fitting); with one phase required to explain it all, no match at all
    q, c = simulate("quartz"), simulate("calcite")
    y, w = measured(0.5 * q / q.sum() + 0.5 * c / c.sum())
    found = _search(index, y, w, max_phases=3)
    assert sorted(p["code"] for p in found["phases"][:2]) == ["calcite", "quartz"] and found["match"]
    assert all(p["intensity_fraction"] == pytest.approx(0.5, abs=0.1) for p in found["phases"][:2])
    alone = _search(index, y, w, max_phases=3, mixtures=False)
    assert not alone["match"] and alone["phases"] == []
    # one phase of the two cannot match by itself either way: the other half of the signal stays unexplained
    assert not _search(index, y, w, max_phases=1)["match"]


def test_a_half_and_half_mixture_is_not_stopped_by_an_entry_straddling_both(index, monkeypatch):
    # anatase + CsCl, 50/50: the lowest total Rwp belongs to an entry whose own lines do not fit (it straddles
    # both phases); the first phase is the best candidate whose own lines fit, and both phases are then found
    a, b = simulate("anatase_origin1"), simulate("CsCl")
    y, w = measured(0.5 * a / a.sum() + 0.5 * b / b.sum())
    found = _search(index, y, w, max_phases=3)
    assert found["match"] and sorted(p["code"] for p in found["phases"]) == ["CsCl", "anatase_origin1"]
    first = found["phases"][0]["code"]
    assert found["candidates"][0]["code"] == first and first in ("CsCl", "anatase_origin1")
    monkeypatch.setattr(search, "first_phase_order", lambda rwp, lines, m: np.argsort(rwp, kind="stable"))
    # fine fits started from the coarse stage's widths (FitSettings.fine_starts as until 2026-12-06) leave the
    # straddler the lowest total Rwp (0.655 against anatase's 0.666; reset widths: 0.667 against 0.666) — the case
    # a measured mixture can still present, kept here to test the rule: ranked by Rwp alone, with one first phase
    # tried, the search stops at the straddler…
    straddled = dataclasses.replace(FIT, fine_starts=("coarse",))
    assert not _search(index, y, w, max_phases=3, first_phase_tries=1, fit=straddled)["match"]
    # …while the next candidate whose own lines fit is tried as the first phase when a try matches nothing
    again = _search(index, y, w, max_phases=3, first_phase_tries=2, fit=straddled)
    assert again["match"] and sorted(p["code"] for p in again["phases"]) == ["CsCl", "anatase_origin1"]
    assert again["candidates"][0]["code"] == again["phases"][0]["code"]  # the phase that matched heads the list


def test_first_phase_tries_are_the_best_then_the_next_whose_lines_fit():
    s = IdentifySettings(first_phase_tries=3)
    ranking = [{"_rwp_lines": v, "n": i} for i, v in enumerate((0.6, 0.3, 0.9, 0.2, 0.1))]
    assert [c["n"] for c in search.first_phase_tries(ranking, s)] == [0, 1, 3]
    assert [c["n"] for c in search.first_phase_tries(ranking, dataclasses.replace(s, first_phase_tries=1))] == [0]
    assert [c["n"] for c in search.first_phase_tries(ranking, dataclasses.replace(s, mixtures=False))] == [0]
    assert search.first_phase_tries([], s) == []


def test_unexplained_peaks_are_reported(index):
    y, w = measured(simulate("NaCl"))
    y[np.argmin(np.abs(np.arange(N_BINS) * TT_MAX / N_BINS - 40.0)) + np.arange(-2, 3)] += 0.5  # a foreign line
    found = _search(index, y, w)
    assert found["phases"][0]["code"] == "NaCl"
    assert any(abs(t - 40.0) < 0.2 for t in found["unexplained_peaks"])


def test_one_foreign_line_is_no_second_phase(index):
    # NaCl plus one line nothing in it explains: some entry fits that line and lowers the Rwp, but one line is no
    # phase — a further phase must explain two peaks the first left unexplained (without that rule: a second phase)
    y, w = measured(simulate("NaCl"))
    x = np.arange(N_BINS) * TT_MAX / N_BINS
    y += 0.6 * np.exp(-4 * np.log(2) * (x - 27.0) ** 2 / 0.12 ** 2)
    found = _search(index, y, w, max_phases=3)
    assert [p["code"] for p in found["phases"]] == ["NaCl"]
    assert any(abs(t - 27.0) < 0.2 for t in found["unexplained_peaks"])
    assert len(_search(index, y, w, max_phases=3, min_new_lines=0)["phases"]) == 2


def test_an_unexplained_line_is_listed_once_not_with_its_ka2(index):
    # a foreign line at 80° as a laboratory tube draws it, Kα1 and Kα2 (half as strong, 0.24° above): one
    # unexplained peak, not two (before, both halves of the doublet were marked)
    y, w = measured(simulate("NaCl"))
    a1, a2, mean = 1.540593, 1.544414, 1.54184
    split = np.degrees(2 * np.tan(np.radians(40.0)) * (a2 - a1) / mean)
    x = np.arange(N_BINS) * TT_MAX / N_BINS
    for t, h in ((80.0, 0.4), (80.0 + split, 0.2)):
        y += h * np.exp(-4 * np.log(2) * (x - t) ** 2 / 0.12 ** 2)
    found = _search(index, y, w)
    assert found["phases"][0]["code"] == "NaCl"
    near = [t for t in found["unexplained_peaks"] if abs(t - 80.1) < 0.5]
    assert len(near) == 1 and abs(near[0] - 80.0) < 0.1, found["unexplained_peaks"]


def test_counting_spikes_are_not_unexplained_peaks(index):
    # a noisy NaCl pattern (σ 0.01; lines 0.2° = 5 bins wide, as a laboratory pattern on 0.02–0.04° bins) with
    # eight one-bin spikes of 6σ away from its lines, and one foreign line as wide as NaCl's at 40°: only the line
    # is a peak nothing explains (before the matched filter, spikes like these were marked)
    line = simulate("NaCl", fwhm=0.2)  # the foreign line borrows NaCl's profile shape: the 200 line moved to 40°
    y, w = measured(line, noise=0.01, seed=3)
    j200 = int(np.argmax(line))
    j40 = int(np.argmin(np.abs(np.arange(N_BINS) * TT_MAX / N_BINS - 40.0)))
    y[j40 - 8:j40 + 9] += 0.25 * line[j200 - 8:j200 + 9] / line.max()
    spikes = np.array([14.0, 21.0, 36.0, 49.0, 55.0, 63.0, 70.0, 81.0])
    y[np.round(spikes / (TT_MAX / N_BINS)).astype(int)] += 0.06
    found = _search(index, y, w)
    assert found["phases"][0]["code"] == "NaCl"
    got = np.array(found["unexplained_peaks"])
    assert np.any(np.abs(got - 40.0) < 0.2)
    assert not any(np.min(np.abs(spikes - t)) < 0.2 for t in got), got


def test_no_match_when_nothing_fits(index):
    y, w = measured(simulate("ZnO_wurtzite"))  # neither it nor its near-isostructural twin (hcp Mg) is listed
    keep = np.array([c not in ("ZnO_wurtzite", "Mg_hcp") for c in index.db.code])
    sub = index.subset(keep)
    found = _search(sub, y, w)
    assert not found["match"] and found["phases"] == []
    best = found["candidates"][0]
    assert best["rwp_lines"] > SETTINGS.match_rwp or best["explained"] < SETTINGS.min_explained

"""``difcon-jax identify``, ``library build`` and predict's verified phase, end to end on files written here."""

import json
import logging
import os

import gemmi
import numpy as np
import pytest

from difcon_jax.cli import main
from tests.helpers.evidence import check_exported, read_table
from tests.helpers.match import CENTRES, simulate, write_cifs

pytestmark = pytest.mark.xla_optimised  # long fits: optimised code wins (tests/conftest.py)


def _xy(path, y, low=5.0):
    keep = CENTRES >= low
    path.write_text("\n".join(f"{a:.3f} {20 + 1000 * b:.2f}" for a, b in zip(CENTRES[keep], y[keep] / y.max())))
    return str(path)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    d = tmp_path_factory.mktemp("lib")
    write_cifs(d)
    assert main(["library", "build", "--cif-dir", str(d), "--out", str(d / "db.npz"), "--workers", "1"]) == 0
    return str(d / "db.npz")


def test_identify_names_the_phase_refines_it_and_draws_the_fit(tmp_path, capsys, library):
    f = _xy(tmp_path / "calcite.xy", simulate("calcite", (1.015, 1.015, 1.01), zero=0.03))
    flat = tmp_path / "flat.xy"
    flat.write_text("\n".join(f"{a:.2f} 100" for a in np.arange(5, 90, 0.02)))
    png = tmp_path / "fit.png"
    rc = main(["identify", f, str(flat), "--library", library, "--wavelength", "1.5418", "--json", "--plot", str(png),
               "--export", str(tmp_path / "evidence")])
    out, err = capsys.readouterr()
    assert rc == 1 and "flat.xy:" in err and "Traceback" not in err  # the bad file named, the good one answered
    (r,) = json.loads(out)
    best = r["phases"][0]
    assert best["code"] == "calcite" and r["symmetry"]["space_group"]["symbol"] == "R-3c"
    assert best["cell"][0] == pytest.approx(4.9896 * 1.015, rel=2e-3) and best["cell"][2] == pytest.approx(17.061 * 1.01, rel=2e-3)
    assert r["network"]["space_group"][0]["p"] > 0 and png.stat().st_size > 10_000
    check_exported(tmp_path / "evidence", "calcite", r, 167)
    main(["identify", f, "--library", library, "--wavelength", "1.5418", "--non-ambient"])  # every entry ambient here
    text = capsys.readouterr().out
    assert "phase 1: CCaO3 [calcite]" in text and "R-3c (#167)" in text and "network (heads + library vote):" in text
    assert "symmetry: trigonal, R-3c (#167)" in text
    # without calcium no candidate fits: "no match"; not indexed (--no-index), the answer is the network's for a
    # phase outside the library: its p(SG) under the training population's prior, decided system first
    # (--top 10: every finely fitted candidate listed, so each group the failed fits vote for is among them)
    main(["identify", f, "--library", library, "--wavelength", "1.5418", "--exclude-elements", "Ca", "--json",
          "--top", "10", "--export", str(tmp_path / "none"), "--no-index"])
    (r,) = json.loads(capsys.readouterr().out)
    assert r["indexing"] is None
    fit = read_table(tmp_path / "none" / "calcite.fit.csv")  # no phase: the best candidate's failed fit instead
    assert not fit["calculated"].any() and fit["best_candidate"].max() > 0.1
    assert sorted(os.listdir(tmp_path / "none")) == ["calcite.fit.csv"]
    from difcon_jax.crystal.symmetry import CRYSTAL_SYSTEMS, crystal_system_of
    from difcon_jax.inference.predict_files import read_model_input
    from difcon_jax.match.decide import two_step_answer
    from difcon_jax.match.identify import Identifier

    assert not r["match"] and r["symmetry"]["source"].startswith("network, for a phase outside the library")
    # the failed fits still vote, shown apart as unverified: groups of fitted candidates, never the answer's source
    fitted = {c["space_group"]["number"] for c in r["candidates"]}
    votes = r["symmetry"]["unverified_votes"]
    assert votes and {v["number"] for v in votes} <= fitted | {r["network"]["space_group"][0]["number"]}
    assert 0.99 <= sum(v["p"] for v in votes) <= 1.01 or len(votes) == 10
    # the answer reproduced from the network alone: natural prior, the crystal system of most mass, its best group
    ident = Identifier.load(None, library)
    x = read_model_input(f, ident.cfg.augment, 1.5418).profile[None]
    p = ident.network(x, prior="natural")["space_group"][0]
    sg = two_step_answer(p)
    assert r["symmetry"]["space_group"]["number"] == r["symmetry"]["ranking"][0]["number"] == sg
    assert r["symmetry"]["crystal_system"] == CRYSTAL_SYSTEMS[crystal_system_of(sg)]
    # the network's own answer stays as predict shows it (the library's prior)
    assert r["network"]["space_group"][0]["number"] == int(np.argmax(ident.network(x)["space_group"][0])) + 1


def _the_indexed_cell_is_exported(folder, ix):
    """``--export`` of a pattern nothing matched: the Pawley fit as a column, its reflections with the extracted
    intensities, and a CIF of the refined cell and the answer's group (no atoms) that gemmi reads back."""
    pw = ix["pawley"]
    fit = (folder / "calcite.fit.csv").read_text()
    assert "# pawley: the Pawley fit of the indexed cell (hexagonal R)" in fit
    cols = next(line for line in fit.splitlines() if not line.startswith("#")).split(",")
    assert cols[-1] == "pawley"
    rows = [line.split(",") for line in (folder / "calcite.indexed.hkl.csv").read_text().splitlines()
            if not line.startswith("#")]
    assert rows[0] == ["h", "k", "l", "d_spacing", "two_theta", "two_theta_fitted", "intensity"]
    table = np.array(rows[1:], float)
    assert len(table) == pw["reflections"] and np.all(np.diff(table[:, 3]) <= 0) and table[:, 6].max() == 100.0
    block = gemmi.cif.read_string((folder / "calcite.indexed.cif").read_text()).sole_block()
    assert gemmi.cif.as_number(block.find_value("_cell_length_a")) == pytest.approx(pw["cell"][0], rel=1e-4)
    assert int(block.find_value("_space_group_IT_number")) == pw["space_group"]["number"]
    assert len(block.find_loop("_space_group_symop_operation_xyz")) == len(
        gemmi.find_spacegroup_by_number(pw["space_group"]["number"]).operations())
    assert len(block.find_loop("_refln_index_h")) == pw["reflections"]


def test_a_phase_the_library_lacks_is_indexed_and_pawley_fitted(tmp_path, capsys, library):
    """Calcite with calcium excluded from the candidates: no library phase matches, so the pattern is indexed (by
    default; hexagonal axes, R-centred), its answer kept to the groups the absences allow, and the answer's Pawley
    fit refines the cell it was simulated with."""
    f = _xy(tmp_path / "calcite.xy", simulate("calcite", (1.015, 1.015, 1.01), zero=0.03))
    png = tmp_path / "novel.png"
    main(["identify", f, "--library", library, "--wavelength", "1.5418", "--exclude-elements", "Ca", "--json",
          "--plot", str(png), "--export", str(tmp_path / "ex")])
    (r,) = json.loads(capsys.readouterr().out)
    ix = r["indexing"]
    _the_indexed_cell_is_exported(tmp_path / "ex", ix)
    assert not r["match"] and r["symmetry"]["source"].startswith("indexed cell")
    assert ix["lattice"] == "hexagonal" and ix["centring"] == "R" and ix["m20"] > 30
    assert ix["cell"][0] == pytest.approx(4.9896 * 1.015, rel=2e-3) and ix["cell"][2] == pytest.approx(17.061 * 1.01, rel=2e-3)
    assert all(143 <= g["number"] <= 194 for g in r["symmetry"]["ranking"])  # the hexagonal lattice's groups only
    pw = ix["pawley"]
    assert pw["space_group"] == r["symmetry"]["space_group"] and pw["space_group"]["symbol"].startswith("R")
    assert pw["cell"][0] == pytest.approx(4.9896 * 1.015, rel=1e-3) and pw["cell"][2] == pytest.approx(17.061 * 1.01, rel=1e-3)
    assert pw["rwp"] < 0.3 and png.stat().st_size > 10_000
    from difcon_jax.cli.matching import _print_result  # the text the command prints for this record

    _print_result(r)
    text = capsys.readouterr().out
    assert "indexed cell: hexagonal R" in text and "Pawley fit (R" in text and "Å γ=120.000°, V" in text
    # calcite's c glide: the h−h0l, l odd positions are empty, the evidence for R-3c's class over R-3m's
    assert pw["space_group"]["number"] in (161, 167) and ix["empty_absences"] > 0
    assert f"; {ix['empty_absences']} calculated positions empty where the answer's absences forbid" in text
    r["unexplained_peaks"] = [10.0 + k for k in range(15)]  # a long list is cut at twelve, and says so
    _print_result(r)
    assert "20.00, 21.00 and 3 more (--json lists all)" in capsys.readouterr().out


def test_identify_refuses_bad_libraries_and_elements_in_one_line(tmp_path, capsys, library):
    f = _xy(tmp_path / "nacl.xy", simulate("NaCl"))
    for args, needle in ((["--library", str(tmp_path)], "is a folder"),
                         (["--library", library, "--elements", "Na,Xx"], "'Xx' is not a chemical element symbol"),
                         (["--library", library, "--elements", "Og"], "no reference entry satisfies")):
        assert main(["identify", f, "--wavelength", "1.5418", *args]) == 2
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1, err


def test_predict_shows_the_verified_phase_from_the_packaged_minerals(tmp_path, capsys):
    f = _xy(tmp_path / "calcite.xy", simulate("calcite"))
    assert main(["predict", f, "--wavelength", "1.5418", "--json"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert r["space_group"][0]["p"] > 0  # the network's own answer stays
    assert r["verified"]["name"] == "Calcite" and r["verified"]["space_group"]["number"] == 167
    assert r["verified"]["one_spacing"] is None  # a powder pattern: its lines are not orders of one reflection
    # the answer is identify's: the fitted phases decide it, whatever the network's own top group
    a = r["answer"]
    assert a["verified"] is True and a["crystal_system"] == "trigonal"
    assert a["space_group"] == {"number": 167, "symbol": "R-3c"}
    assert a["ranking"][0]["number"] == 167 and len(a["ranking"]) <= len(r["space_group"]) and "fitted" in a["source"]
    assert main(["predict", f, "--wavelength", "1.5418"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[1].startswith("  answer: trigonal, R-3c (#167) — fitted") and "verified phase: Calcite" in text[2]
    assert any(line.startswith("  network") and "crystal system" in line for line in text)
    assert main(["predict", f, "--wavelength", "1.5418", "--no-verify", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)[0]
    assert "verified" not in r and r["answer"]["verified"] is False
    assert r["answer"]["space_group"]["number"] == r["space_group"][0]["number"]


def test_predict_shows_the_indexed_cell_of_a_phase_the_minerals_lack(tmp_path, capsys):
    """A monoclinic structure written in the tests matches none of the packaged minerals: predict's answer comes
    from its own indexed cell, which the text and the JSON show with the answer's Pawley fit."""
    f = _xy(tmp_path / "novel.xy", simulate("P21c_generic"))
    assert main(["predict", f, "--wavelength", "1.5418", "--json"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    ix = r["indexing"]
    assert r["verified"] is None and r["answer"]["source"].startswith("indexed cell")
    assert ix["lattice"] == "monoclinic" and ix["cell"][0] == pytest.approx(5.1, rel=2e-3) and ix["significance"] >= 15
    assert r["answer"]["crystal_system"] == "monoclinic" and ix["pawley"]["space_group"] == r["answer"]["space_group"]
    from difcon_jax.cli.predicting import _print_prediction

    _print_prediction(r, verify=True)
    text = capsys.readouterr().out
    assert "verified phase: none in the library fits\n  indexed cell: monoclinic P" in text and "Pawley fit (P" in text


def test_library_build_into_a_model_folder_records_its_prior(tmp_path, capsys):
    """A model's own reference library sets the population its 'library' answers are for, stored in
    ``calibration.json``, so predictions stay the same when the reference file is left out."""
    import shutil

    from difcon_jax.inference.model_dir import PACKAGED_MODEL
    from difcon_jax.inference.predictor import Predictor
    from difcon_jax.inference.prior import library_fields

    model = tmp_path / "m"
    model.mkdir()
    for f in ("params.npz", "config.json", "calibration.json"):
        shutil.copy(os.path.join(PACKAGED_MODEL, f), model / f)
    calib = json.loads((model / "calibration.json").read_text())
    calib.pop("library_frequency", None)
    (model / "calibration.json").write_text(json.dumps(calib))
    cifs = tmp_path / "cifs"
    cifs.mkdir()
    write_cifs(cifs, ["NaCl", "calcite"])
    elsewhere = ["library", "build", "--cif-dir", str(cifs), "--model", str(model), "--views", "1", "--workers", "1"]
    assert main(elsewhere + ["--out", str(tmp_path / "other.npz")]) == 0  # not the model's: nothing recorded
    assert "library_frequency" not in json.loads((model / "calibration.json").read_text())
    assert main(elsewhere + ["--out", str(model / "references.npz")]) == 0
    assert "the prior of 'library' answers" in capsys.readouterr().out
    stored = json.loads((model / "calibration.json").read_text())["library_frequency"]
    np.testing.assert_allclose(stored, library_fields([225, 167])["library_frequency"])
    predictor = Predictor.load(str(model))
    x = np.random.default_rng(0).random((2, predictor.grid.n_bins)).astype(np.float32)
    with_file = predictor(x, blend=False)
    os.remove(model / "references.npz")
    without = Predictor.load(str(model))
    assert without.library is None and without.prior_applied("library") == "library"
    np.testing.assert_allclose(without(x, blend=False)["space_group"], with_file["space_group"], rtol=1e-6)


def test_library_build_sets_the_vote_predict_blends_in(tmp_path, capsys, caplog):
    """``--knn-k/--knn-tau/--knn-alpha`` are stored with the representations (else the model's own settings);
    bad values and flags without a model are refused in one line before any CIF is parsed. A database whose
    representations another encoder made is no library of the model (predict and evaluate read it too)."""
    from difcon_jax.inference.library import read_library
    from difcon_jax.inference.model_dir import PACKAGED_MODEL
    from difcon_jax.inference.predictor import Predictor
    from difcon_jax.match.database import read_database, write_database
    from difcon_jax.match.identify import Identifier

    cifs = tmp_path / "cifs"
    cifs.mkdir()
    write_cifs(cifs, ["NaCl"])
    base = ["library", "build", "--cif-dir", str(cifs), "--views", "1", "--workers", "1"]
    for extra, needle in ((["--knn-k", "0", "--model", PACKAGED_MODEL], "need k ≥ 1"),
                          (["--knn-alpha", "1.5", "--model", PACKAGED_MODEL], "0 ≤ α ≤ 1"),
                          (["--knn-k", "20"], "give --model")):
        assert main(base + ["--out", str(tmp_path / "bad.npz")] + extra) != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "bad.npz").exists()
    model = tmp_path / "m"
    model.mkdir()
    out = model / "references.npz"
    assert main(base + ["--out", str(out), "--model", PACKAGED_MODEL, "--knn-k", "20", "--knn-alpha", "0.4"]) == 0
    for f in ("params.npz", "config.json", "calibration.json"):
        os.symlink(os.path.join(PACKAGED_MODEL, f), model / f)
    lib = read_library(str(model))
    assert int(lib["k"]) == 20 and float(lib["alpha"]) == pytest.approx(0.4)
    assert float(lib["tau"]) == pytest.approx(float(read_library(PACKAGED_MODEL)["tau"]))  # not given: kept
    assert Predictor.load(str(model)).library is not None
    db = read_database(str(out))  # the same file, as if another encoder had made its representations
    db.meta["model_digest"] = "0" * 16
    write_database(str(out), db)
    ours = logging.getLogger("difcon_jax")  # main() stopped it propagating to the root (caplog's) logger
    ours.addHandler(caplog.handler)
    try:
        assert Predictor.load(str(model)).library is None  # predict and evaluate blend no foreign votes
        assert "representations made by another model" in caplog.text
        caplog.clear()
        assert not Identifier.load(str(model)).use_representations  # identify: the same, said once
        assert [r.getMessage() for r in caplog.records if "another model" in r.getMessage()] == [
            f"{out}: representations made by another model; its kNN vote is not used"]
    finally:
        ours.removeHandler(caplog.handler)


def test_a_symmetry_answer_that_is_not_phase_ones_group_says_why():
    from difcon_jax.cli.matching import symmetry_differs_note

    def phase(name, sg, symbol, rwp):
        return {"name": name, "space_group": {"number": sg, "symbol": symbol}, "rwp": rwp}

    r = {"phases": [phase("Chalcopyrite", 122, "I-42d", 0.318)],
         "candidates": [phase("Chalcopyrite", 122, "I-42d", 0.318), phase("Luzonite", 121, "I-42m", 0.322)],
         "symmetry": {"space_group": {"number": 121, "symbol": "I-42m"},
                      "votes": [{"symbol": "I-42m", "p": 0.55}, {"symbol": "I-42d", "p": 0.45}]}}
    note = symmetry_differs_note(r)
    assert note.startswith("not phase 1's I-42d: Luzonite I-42m fits with Rwp 0.322 against 0.318")
    assert note.endswith("I-42m 0.55, I-42d 0.45")
    r["symmetry"]["space_group"] = {"number": 122, "symbol": "I-42d"}
    assert symmetry_differs_note(r) is None
    assert symmetry_differs_note({"phases": [], "candidates": [], "symmetry": r["symmetry"]}) is None


def test_other_candidates_list_each_mineral_and_group_once():
    from difcon_jax.cli.matching import other_candidates

    def entry(code, name, symbol, rwp):
        return {"code": code, "name": name, "space_group": {"symbol": symbol}, "rwp": rwp}

    first = entry("A1", "Titanite", "C2/c", 0.213)
    rest = [entry("A2", "Titanite", "C2/c", 0.219), entry("A3", "Titanite", "P21/c", 0.22),
            entry("A4", "Titanite", "C2/c", 0.241), entry("A5", "Malayaite", "C2/c", 0.25)]
    r = {"phases": [first], "candidates": [first] + rest}
    assert other_candidates(r) == ["Titanite C2/c Rwp 0.219 (2 entries, to 0.241)", "Titanite P21/c Rwp 0.220",
                                   "Malayaite C2/c Rwp 0.250"]
    # no phase matched: the best fit is an alternative too
    assert other_candidates({"phases": [], "candidates": [first]}) == ["Titanite C2/c Rwp 0.213"]


def test_a_window_around_one_line_matches_no_phase(tmp_path, capsys, library):
    # calcite's strongest line (104, 29.4°) alone in a 1° window, as a thin film's narrow scan gives it: any entry
    # with a line there fits it, and one line fixes no cell — "no match", saying why
    y = simulate("calcite", (1.0, 1.0, 1.0))
    keep = (CENTRES >= 28.9) & (CENTRES <= 29.9)
    f = tmp_path / "window.xy"
    f.write_text("\n".join(f"{a:.3f} {20 + 1000 * b:.2f}" for a, b in zip(CENTRES[keep], y[keep] / y[keep].max())))
    main(["identify", str(f), "--library", library, "--wavelength", "1.5418", "--json"])
    (r,) = json.loads(capsys.readouterr().out)
    assert not r["match"] and r["phases"] == [] and r["note"].startswith("too few lines to identify a phase")
    assert "holds 1 line(s) of the best candidate" in r["note"]
    assert r["symmetry"]["source"].startswith("network (too few lines to identify a phase;")
    main(["identify", str(f), "--library", library, "--wavelength", "1.5418"])
    text = capsys.readouterr().out
    assert "note: too few lines" in text and "no match (best:" in text


def test_an_oriented_sample_is_said_to_fix_one_spacing_and_the_json_is_strict(tmp_path, capsys, library):
    # 00l of d = 9.8 Å only (a layered film grown along c): whatever the answer, the output says the lines are
    # orders of one spacing and test no group; the library has no representations (similarity unknown): the JSON
    # writes null, never NaN, which standard JSON readers refuse
    d, lam = 9.8, 1.540593
    y = sum(np.exp(-4 * np.log(2) * (CENTRES - 2 * np.degrees(np.arcsin(n * lam / (2 * d)))) ** 2 / 0.12 ** 2) / n
            for n in (1, 2, 3, 4, 5))
    f = _xy(tmp_path / "film.xy", y, low=4.0)
    main(["identify", f, "--library", library, "--wavelength", "1.5406", "--json"])

    def refuse(name):
        raise AssertionError(f"{name} in the JSON output")
    (r,) = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert r["one_spacing"]["orders"] == [1, 2, 3, 4, 5] and r["one_spacing"]["d"] == pytest.approx(d, rel=3e-3)
    assert "orders of one spacing" in r["symmetry"]["source"]
    main(["identify", f, "--library", library, "--wavelength", "1.5406"])
    assert f"note: the measured lines are orders of one spacing (d = {r['one_spacing']['d']:.3f} Å" in capsys.readouterr().out
    assert r["candidates"][0]["similarity"] is None  # unknown without representations: null


# a BaTiO₃-like tetragonal perovskite (P4mm, c/a = 1.025: clearly tetragonal, past the 1.43 % within which an
# entry's own cell counts as pseudo-cubic) and BaTiO₃ above its Curie point (Pm-3m)
_BATIO3_TETRAGONAL = ("BaTiO3_P4mm", "P 4 m m", 99, (3.96, 3.96, 4.06, 90, 90, 90),
                      [("Ba", 0, 0, 0, 1), ("Ti", .5, .5, .512, 1), ("O", .5, .5, .975, 1), ("O", .5, 0, .485, 1)])
_BATIO3_CUBIC = ("BaTiO3_Pm-3m", "P m -3 m", 221, (4.006,) * 3 + (90,) * 3,
                 [("Ba", 0, 0, 0, 1), ("Ti", .5, .5, .5, 1), ("O", 0, .5, .5, 1)])


def test_a_tetragonal_entry_refined_to_a_cubic_cell_answers_a_cubic_group(tmp_path, capsys):
    """The library holds only the tetragonal perovskite: fitted to the cubic phase's pattern, its cell refines to c = a,
    and the symmetry answer is a cubic group the lines allow (no centring or glide: P23, Pm-3, P432, P-43m,
    Pm-3m), not the entry's P4mm; fitted to its own pattern, the entry's group stands."""
    from tests.helpers.structures import make_cif

    lib = tmp_path / "lib"
    lib.mkdir()
    name, setting, _, cell, sites = _BATIO3_TETRAGONAL
    (lib / "BaTiO3.cif").write_text(make_cif(name, setting, cell, sites))
    write_cifs(lib, ["NaCl", "CsCl"])
    assert main(["library", "build", "--cif-dir", str(lib), "--out", str(tmp_path / "db.npz"), "--workers", "1"]) == 0
    capsys.readouterr()
    cubic = _xy(tmp_path / "cubic.xy", simulate(_BATIO3_CUBIC, zero=0.02))
    own = _xy(tmp_path / "tetragonal.xy", simulate(_BATIO3_TETRAGONAL))
    main(["identify", cubic, own, "--library", str(tmp_path / "db.npz"), "--wavelength", "1.5418", "--json"])
    r_cubic, r_own = json.loads(capsys.readouterr().out)
    phase = r_cubic["phases"][0]
    assert r_cubic["match"] and phase["code"] == "BaTiO3" and phase["space_group"]["symbol"] == "P4mm"
    assert phase["cell"][2] == pytest.approx(phase["cell"][0], rel=1.3e-3)  # the fit made it cubic
    m = r_cubic["symmetry"]["metric"]
    assert m["system"] == "cubic" and m["matched_group"]["symbol"] == "P4mm"
    assert r_cubic["symmetry"]["crystal_system"] == "cubic"
    assert r_cubic["symmetry"]["space_group"]["number"] in (195, 200, 207, 215, 221)
    assert "is metrically cubic" in r_cubic["symmetry"]["source"]
    assert r_own["match"] and r_own["symmetry"]["metric"] is None
    assert r_own["phases"][0]["cell"][2] / r_own["phases"][0]["cell"][0] == pytest.approx(4.06 / 3.96, rel=1e-3)
    assert r_own["symmetry"]["crystal_system"] == "tetragonal"
    main(["identify", cubic, "--library", str(tmp_path / "db.npz"), "--wavelength", "1.5418"])
    text = capsys.readouterr().out
    assert "not phase 1's P4mm: its refined edges are equal within" in text and "the fits' vote was P4mm" in text
    # the cubic lattice read from the measured lines, on their own primitive cell
    assert m["cell"][0] == pytest.approx(4.006, rel=2e-3) and "its measured lines index on a P cubic cell of" in text


def test_a_database_belongs_to_every_model_with_its_encoder():
    """A database's representations are used (its kNN vote and retrieval) by any model with the encoder that made
    them — heads retrained on a frozen encoder keep the library — and by no model with another encoder; a database
    written when the digest covered every parameter still matches that same model."""
    from difcon_jax.inference.library import params_digest, representation_digest, representations_match

    params = {"encoder": {"stem_conv": {"kernel": np.ones((3, 1, 4), np.float32)}},
              "cs_head": {"kernel": np.zeros((4, 7), np.float32)}}
    meta = {"model_digest": representation_digest(params)}
    new_heads = {**params, "cs_head": {"kernel": np.ones((4, 7), np.float32)}}
    other_encoder = {**params, "encoder": {"stem_conv": {"kernel": 2 * np.ones((3, 1, 4), np.float32)}}}
    assert representations_match(meta, params) and representations_match(meta, new_heads)
    assert not representations_match(meta, other_encoder)
    assert representations_match({"model_digest": params_digest(params)}, params)  # written before the change
    assert not representations_match({"model_digest": params_digest(params)}, new_heads)
    assert not representations_match({}, params)

"""Real structures in: labels from the atoms for P1 listings, AMCSD atom labels, archives, deduplication,
the reflection-count bound that replaced the volume cap."""

import io
import tarfile
import zipfile

import numpy as np
import pytest

from difcon_jax.cli import main
from difcon_jax.crystal import read_cif
from difcon_jax.crystal.atom_labels import element_from_label
from difcon_jax.crystal.stick import stick_pattern
from difcon_jax.crystal.structure import structure_from_cif_text
from difcon_jax.data import load_peak_table
from difcon_jax.data.build import BuildOptions, build_from_cifs, label_from_atoms
from tests.helpers.structures import STRUCTURES, cif_of, make_cif


def p1_cif(st, name="p1", digits=8) -> str:
    """The full cell of ``st`` written as a P1 listing (as pymatgen writes Materials Project files)."""
    lines = [f"data_{name}", "_symmetry_space_group_name_H-M 'P 1'", "_symmetry_Int_Tables_number 1"]
    for tag, v in zip(("length_a", "length_b", "length_c", "angle_alpha", "angle_beta", "angle_gamma"), st.cell):
        lines.append(f"_cell_{tag} {v:.{digits}f}")
    lines += ["loop_", "_symmetry_equiv_pos_as_xyz", "'x, y, z'", "loop_", "_atom_site_type_symbol",
              "_atom_site_label", "_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z",
              "_atom_site_occupancy"]
    for i, (el, f, occ) in enumerate(zip(st.elements, st.frac, st.occupancy)):
        lines.append(f"{el} {el}{i} {f[0]:.{digits}f} {f[1]:.{digits}f} {f[2]:.{digits}f} {occ:g}")
    return "\n".join(lines) + "\n"


ORDERED = [e for e in STRUCTURES if all(s[4] == 1 for s in e[4])]


@pytest.mark.parametrize("entry", ORDERED, ids=[e[0] for e in ORDERED])
def test_p1_expansion_gets_the_label_of_its_symmetric_original(entry):
    name, setting, number, cell, sites = entry
    original = structure_from_cif_text(make_cif(name, setting, cell, sites), name)
    p1 = structure_from_cif_text(p1_cif(original), name + "_p1")
    assert p1.space_group == 1 and len(p1.rotations) == 1
    labelled, notes, disagree = label_from_atoms(p1)
    assert labelled.space_group == number, (name, notes)
    assert not disagree
    # the pattern is computed from the atoms as given: same peaks as the symmetric original
    a = stick_pattern(original, "CuKa", 90.0)
    b = stick_pattern(labelled, "CuKa", 90.0)
    strong_a, strong_b = a.two_theta[a.intensity > 1], b.two_theta[b.intensity > 1]
    assert len(strong_a) == len(strong_b)
    np.testing.assert_allclose(strong_a, strong_b, atol=1e-4)
    np.testing.assert_allclose(a.intensity[a.intensity > 1], b.intensity[b.intensity > 1], atol=1.5)


def test_declared_group_kept_and_disagreement_counted():
    # a file that declares Pm-3m for atoms with Fm-3m symmetry (all four NaCl sites listed): the declared
    # group stays the label, the disagreement is noted and counted
    st = structure_from_cif_text(make_cif("NaCl_as_Pm-3m", "P m -3 m", (5.6402,) * 3 + (90,) * 3,
                                          [("Na", 0, 0, 0, 1), ("Na", 0, .5, .5, 1), ("Cl", .5, .5, .5, 1),
                                           ("Cl", 0, 0, .5, 1)]), "x.cif")
    kept, notes, disagree = label_from_atoms(st)
    assert kept.space_group == 221 and disagree and "atoms give 225" in notes[0]


def test_mp_1000_bate_is_rock_salt(shared_data):
    shard = shared_data / "structures" / "mp_topology" / "mp_part00.tar.gz"
    with tarfile.open(shard) as tar:
        text = tar.extractfile("mp-1000.cif").read().decode()
    st = structure_from_cif_text(text, "mp-1000.cif")
    assert st.space_group == 1
    labelled, notes, _ = label_from_atoms(st)
    assert labelled.space_group == 225 and st.reduced_formula == "BaTe", notes


@pytest.mark.parametrize("label, element", [
    ("Wat", "O"), ("Wat1", "O"), ("Wat(3)", "O"), ("WatA2", "O"), ("Wat-Int", "O"), ("Ow", "O"), ("OW3", "O"),
    ("Oab", "O"), ("Oint", "O"), ("OI", "O"), ("Ol", "O"), ("KA", "K"), ("KA1", "K"), ("BT", "B"),
    ("HA", "H"), ("VT*1", "V"), ("UA", "U"), ("YA", "Y"),
    ("WB", None), ("NM", None), ("Sl", None), ("Os1", None), ("", None), ("123", None)])
def test_amcsd_label_rules(label, element):
    assert element_from_label(label) == element


def _amcsd_like(label="Wat", occ=1.0) -> str:
    """An AMCSD-style file: labels only (no type symbols), one water oxygen."""
    return f"""data_global
_chemical_name_mineral 'Testite'
_cell_length_a 5.0
_cell_length_b 6.0
_cell_length_c 7.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P m m m'
loop_
_space_group_symop_operation_xyz
  'x,y,z'
  '-x,-y,z'
  '-x,y,-z'
  'x,-y,-z'
  '-x,-y,-z'
  'x,y,-z'
  'x,-y,z'
  '-x,y,z'
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Mg 0 0 0 {occ}
{label} 0.5 0.5 0.5 1.0
"""


def test_amcsd_labels_and_rounded_occupancy(tmp_path):
    st = structure_from_cif_text(_amcsd_like(), "a.cif")
    assert set(st.elements) == {"Mg", "O"} and any("'Wat' read as O" in n for n in st.notes)
    st = structure_from_cif_text(_amcsd_like(occ=1.03), "b.cif")
    assert st.occupancy.max() == 1.0 and any("clipped to 1" in n for n in st.notes)
    with pytest.raises(Exception, match="occupancy 1.2"):
        structure_from_cif_text(_amcsd_like(occ=1.2), "c.cif")
    with pytest.raises(Exception, match="unknown element 'WB'"):
        structure_from_cif_text(_amcsd_like(label="WB"), "d.cif")


def _tar_gz(path, members: dict):
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode() if isinstance(text, str) else text
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_build_reads_archives_and_folders_labels_p1_and_deduplicates(tmp_path, capsys):
    nacl = structure_from_cif_text(cif_of("NaCl"), "NaCl")
    cscl = structure_from_cif_text(cif_of("CsCl"), "CsCl")
    _tar_gz(tmp_path / "mp.tar.gz", {"mp-1.cif": p1_cif(nacl, "mp1"), "dir/mp-2.cif": p1_cif(cscl, "mp2"),
                                     "mp-3.cif": "data_broken\n", "notes.txt": "not a cif"})
    with zipfile.ZipFile(tmp_path / "more.zip", "w") as zf:
        zf.writestr("rutile.cif", cif_of("rutile"))
        zf.writestr("junk.cif", b"\x00\x01" * 50)
    folder = tmp_path / "amcsd"
    (folder / "sub").mkdir(parents=True)
    (folder / "NaCl.cif").write_text(cif_of("NaCl"))  # the same compound as mp-1: a duplicate
    (folder / "sub" / "testite.cif").write_text(_amcsd_like())
    out = tmp_path / "table"
    assert main(["dataset", "build", "--cif-dir", str(folder), "--cif-dir", str(tmp_path / "mp.tar.gz"),
                 "--cif-dir", str(tmp_path / "more.zip"), "--out", str(out), "--workers", "1"]) == 0
    summary = capsys.readouterr().out
    assert "1 duplicates removed" in summary and "2 P1 listings labelled from their atoms" in summary
    t = load_peak_table(out)
    assert sorted(t.space_group.tolist()) == [47, 136, 221, 225]
    assert any(s.endswith("mp.tar.gz!dir/mp-2.cif") for s in t.source_id)
    assert t.source_id[list(t.space_group).index(225)].endswith("NaCl.cif")  # the first listed is kept
    report = (tmp_path / "table.report.tsv").read_text()
    assert "mp.tar.gz!mp-3.cif" in report and "more.zip!junk.cif" in report and "notes.txt" not in report
    notes = (tmp_path / "table.notes.tsv").read_text()
    assert "mp.tar.gz!mp-1.cif\tduplicate of" in notes and "space group 221 found from the atoms" in notes
    assert t.meta["duplicates_removed"] == 1 and t.meta["p1_relabelled"] == 2
    assert t.meta["per_source"][str(folder)]["built"] == 2


def test_same_compound_from_two_sources_lands_in_one_split(tmp_path):
    nacl = structure_from_cif_text(cif_of("NaCl"), "NaCl")
    bigger = nacl.cell[0] * 1.05  # 16 % more volume: not a duplicate, but the same formula and group
    _tar_gz(tmp_path / "a.tar.gz", {"x.cif": p1_cif(nacl)})
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "y.cif").write_text(make_cif("NaCl2", "F m -3 m", (bigger,) * 3 + (90,) * 3,
                                                   [("Na", 0, 0, 0, 1), ("Cl", .5, .5, .5, 1)]))
    r = build_from_cifs([str(tmp_path / "a.tar.gz"), str(tmp_path / "b")], str(tmp_path / "t"),
                        options=BuildOptions(max_peaks=32, test_fraction=0.5, validation_fraction=0.5))
    t = load_peak_table(r.out)
    assert len(t) == 2 and len(set(t.split.tolist())) == 1


def test_large_cell_builds_and_reflection_bound_refuses_runaway(tmp_path):
    big = make_cif("big", "P 1", (31.0, 31.0, 31.0, 90, 90, 90), [("In", 0.1, 0.2, 0.3, 1), ("Te", .5, .5, .5, 1)])
    st = structure_from_cif_text(big, "big.cif")  # 29,791 Å³: over the old 20,000 Å³ cap
    assert len(stick_pattern(st, "CuKa", 30.0)) > 0
    with pytest.raises(ValueError, match="exceed the bound"):
        stick_pattern(st, 0.05, 120.0)  # ~4·10⁹ reflections: refused before any allocation


def test_shared_amcsd_sample_builds(shared_data, tmp_path):
    files = sorted((shared_data / "structures" / "amcsd_minerals").glob("*.cif"))[::60]
    ok = 0
    for f in files:
        try:
            read_cif(f)
            ok += 1
        except Exception:
            pass
    assert ok >= 0.97 * len(files)

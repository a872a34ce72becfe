"""``identify --export``: numbers written as crystallographers read them, reference CIFs found where the library
was built from (folders, archives), the refined cell put into the reference's own CIF. The end-to-end export is
checked in ``test_identify.py`` (``tests/helpers/evidence.py``)."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile

import numpy as np
import pytest

from difcon_jax.crystal.structure import structure_from_cif_text
from difcon_jax.match.export import find_reference_cif, refined_cif, two_theta_at, value_with_su
from tests.helpers.structures import cif_of


def test_values_carry_their_uncertainty_in_the_last_digits():
    assert value_with_su(4.98912, 0.00031) == "4.98912(31)"
    assert value_with_su(8.31235, 0.00085) == "8.31235(85)"
    assert value_with_su(99.641, 0.012) == "99.641(12)"
    assert value_with_su(90.0, 0.0) == "90.0000"  # fixed by symmetry: no uncertainty
    # Cu Kα reaches d ≥ λ/2 only: Mo Kα sees the 1.0 Å line at a lower angle, Cu not a 0.7 Å one
    np.testing.assert_allclose(two_theta_at(np.array([1.0]), 0.7093), [2 * np.degrees(np.arcsin(0.35465))])
    assert np.isnan(two_theta_at(np.array([0.7]), 1.5406))[0]


def test_reference_cifs_are_found_in_folders_and_archives(tmp_path):
    nacl = cif_of("NaCl").encode()
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "NaCl.cif").write_bytes(nacl)
    # the source as the library records it: relative to the build folder's parent
    assert find_reference_cif("lib/NaCl.cif", [str(tmp_path)]) == (str(tmp_path / "lib" / "NaCl.cif"), nacl)
    # a root naming the build folder itself
    assert find_reference_cif("lib/NaCl.cif", [str(tmp_path / "lib")])[1] == nacl
    assert find_reference_cif(str(tmp_path / "lib" / "NaCl.cif"), [])[1] == nacl  # an absolute source
    with tarfile.open(tmp_path / "shard.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("cifs/NaCl.cif")
        info.size = len(nacl)
        tar.addfile(info, io.BytesIO(nacl))
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as zf:
        zf.writestr("NaCl.cif", nacl)
    where, raw = find_reference_cif("shard.tar.gz!cifs/NaCl.cif", [str(tmp_path)])
    assert raw == nacl and where.endswith("shard.tar.gz!cifs/NaCl.cif")
    assert find_reference_cif("set.zip!NaCl.cif", [str(tmp_path)])[1] == nacl
    # --cif-dir naming the archive itself
    assert find_reference_cif("mp/shard.tar.gz!cifs/NaCl.cif", [str(tmp_path / "shard.tar.gz")])[1] == nacl
    # not there: None, never an exception
    assert find_reference_cif("lib/KCl.cif", [str(tmp_path)]) is None
    assert find_reference_cif("shard.tar.gz!cifs/KCl.cif", [str(tmp_path)]) is None
    (tmp_path / "broken.tar.gz").write_bytes(b"not an archive")
    assert find_reference_cif("broken.tar.gz!NaCl.cif", [str(tmp_path)]) is None


def test_the_refined_cell_replaces_the_references_and_the_atoms_stay():
    density = "_exptl_crystal_density_diffrn 2.165\n"
    text = cif_of("NaCl").replace("_cell_angle_gamma 90\n", "_cell_angle_gamma 90\n" + density)
    assert "_exptl_crystal_density_diffrn" in text
    phase = {"name": "halite", "code": "AMCSD 0000001", "cell": [5.7, 5.7, 5.7, 90.0, 90.0, 90.0],
             "cell_sigma": [0.0012, 0.0012, 0.0012, 0.0, 0.0, 0.0], "reference_cell": [5.6402] * 3 + [90.0] * 3,
             "rwp": 0.12, "rwp_lines": 0.1, "weight_fraction": 1.0}
    out = refined_cif({"file": "/data/salt.xy", "phases": [phase]}, 0, "lib/NaCl.cif", text.encode())
    assert out.startswith("# difcon-jax identify: halite [AMCSD 0000001] fitted to salt.xy")
    assert "_cell_length_a 5.7000(12)" in out and "_cell_angle_beta 90.0000" in out
    st = structure_from_cif_text(out, "refined.cif")
    ref = structure_from_cif_text(text, "NaCl.cif")
    assert st.cell == pytest.approx((5.7, 5.7, 5.7, 90, 90, 90)) and st.space_group == ref.space_group == 225
    np.testing.assert_allclose(st.frac, ref.frac)
    assert list(st.elements) == list(ref.elements)
    assert f"_cell_volume {5.7 ** 3:.3f}" in out
    # the same atoms in a larger cell: the density falls by the volume ratio
    assert f"_exptl_crystal_density_diffrn {2.165 * (5.6402 / 5.7) ** 3:.4f}" in out


def test_export_flags_that_cannot_work_are_refused_before_any_work(tmp_path, capsys):
    from difcon_jax.cli import main

    pattern = tmp_path / "p.xy"
    pattern.write_text("10 1\n20 2\n")
    taken = tmp_path / "taken"
    taken.write_text("a file")
    cases = [(["--export", str(taken)], f"--export {taken}: exists and is not a folder"),
             (["--cif-dir", str(tmp_path)], "is read only with --export"),
             (["--export", str(tmp_path / "out"), "--cif-dir", str(tmp_path / "nowhere")], "no such file or folder")]
    for flags, message in cases:
        rc = main(["identify", str(pattern), *flags])
        err = capsys.readouterr().err
        assert rc != 0 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    from difcon_jax.errors import InputError
    from difcon_jax.match.export import export_identifications

    with pytest.raises(InputError, match="cannot make the export folder"):  # a file where a parent folder should be
        export_identifications([], str(taken / "sub"))


def test_two_patterns_of_one_name_keep_both_and_a_missing_cif_is_named(tmp_path):
    from difcon_jax.grid import Grid
    from difcon_jax.match.export import export_identifications

    grid = Grid(450, 0.0, 90.0, 1.54184)
    tt = grid.centres
    line = np.exp(-0.5 * ((tt - 31.7) / 0.1) ** 2)
    phase = {"name": "halite", "code": "AMCSD 0000001", "formula": "Cl4Na4", "source": "gone/NaCl.cif",
             "space_group": {"number": 225, "symbol": "Fm-3m"}, "cell": [5.64] * 3 + [90.0] * 3,
             "cell_sigma": [0.001] * 3 + [0.0] * 3, "reference_cell": [5.6402] * 3 + [90.0] * 3, "rwp": 0.1,
             "rwp_lines": 0.1, "weight_fraction": 1.0}
    r = {"file": "/a/salt.xy", "grid": grid.as_dict(), "wavelength": 1.5406, "_weight": (tt > 10).astype(float),
         "_profile": line, "_model": 0.9 * line, "_phase_models": [0.9 * line], "phases": [phase],
         "_hkl": [np.array([[2, 0, 0], [1, 1, 1]])], "_f2m": [np.array([1.0, 0.1])], "_ticks": [np.array([31.7, 27.4])]}
    written, notes = export_identifications([r, dict(r, file="/b/salt.xy")], str(tmp_path / "out"), [str(tmp_path)])
    names = sorted(os.path.basename(w) for w in written)
    assert names == ["salt.fit.csv", "salt.phase1.hkl.csv", "salt_2.fit.csv", "salt_2.phase1.hkl.csv"]
    assert len(notes) == 2 and "gone/NaCl.cif" in notes[0] and "--cif-dir" in notes[0]
    rows = (tmp_path / "out" / "salt.phase1.hkl.csv").read_text().splitlines()
    # by decreasing d: 111 before 200; d from the refined cell, 2θ at the file's wavelength
    assert rows[4].startswith("1,1,1,") and rows[5].startswith("2,0,0,")
    d200 = 5.64 / 2
    assert rows[5].split(",")[3:5] == [f"{d200:.6f}", f"{2 * np.degrees(np.arcsin(1.5406 / (2 * d200))):.5f}"]

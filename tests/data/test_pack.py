"""A packed peak table (data/pack.py) unpacks to the table it was packed from, within the stated quantisation:
2θ within 0.0005°, intensities within 0.5 %, texture terms within 1/255, everything else exact; the strongest
peaks kept are the ones training keeps; files that are not packed tables get one line naming them."""

import numpy as np
import pytest

from difcon_jax.cli import main
from difcon_jax.data.build import BuildOptions, build_from_cifs
from difcon_jax.data.pack import pack_table, unpack_table
from difcon_jax.data.peak_table import load_peak_table
from difcon_jax.data.prepare import strongest_peaks
from tests.helpers.structures import cif_of


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pack")
    src = tmp / "cifs"
    src.mkdir()
    for name in ("NaCl", "CsCl", "rutile", "corundum_hex", "Si_origin2"):
        (src / f"{name}.cif").write_text(cif_of(name))
    out = tmp / "table"
    build_from_cifs(str(src), str(out), workers=1, options=BuildOptions(max_peaks=40, test_fraction=0.2,
                                                                          validation_fraction=0.2))
    return str(out)


@pytest.mark.parametrize("max_peaks", [None, 12])
def test_unpacked_table_is_the_packed_one_within_the_quantisation(table, tmp_path, max_peaks):
    packed = tmp_path / "t.npz"
    summary = pack_table(table, str(packed), max_peaks)
    ref = load_peak_table(table)
    ref = strongest_peaks(ref, max_peaks) if max_peaks else ref
    got = unpack_table(str(packed), str(tmp_path / "back"))
    assert summary["rows"] == len(ref) == len(got) == 5 and got.max_peaks == ref.max_peaks
    assert summary["max_tt_error"] <= 0.0005 + 1e-9 and summary["max_relative_intensity_error"] <= 0.0051
    m = np.asarray(ref.mask)
    assert m.sum() > 5 * min(max_peaks or 40, 10)  # the check below compares real peaks, many of them
    np.testing.assert_array_equal(np.asarray(got.mask), m)
    assert np.abs(np.asarray(got.two_theta) - np.asarray(ref.two_theta))[m].max() <= 0.0005 + 1e-6
    rel = np.abs(np.asarray(got.intensity)[m] / np.asarray(ref.intensity)[m] - 1)
    assert rel.max() <= 0.0051
    assert (np.asarray(got.two_theta)[~m] == 0).all() and (np.asarray(got.intensity)[~m] == 0).all()
    w_ref, w = np.asarray(ref.po_weight, np.float32), np.asarray(got.po_weight, np.float32)
    np.testing.assert_allclose(w[m], w_ref[m], atol=2.5 / 255)
    np.testing.assert_allclose(w[m].sum(-1), 1.0, atol=2e-3)  # float16 storage
    used = w_ref > 0
    c_ref, c = np.asarray(ref.po_cos2, np.float32), np.asarray(got.po_cos2, np.float32)
    assert np.abs(c - c_ref)[used & m[..., None]].max() <= 0.5 / 255 + 1e-3
    for k in ("space_group", "crystal_system", "extinction_group", "split", "dropped_fraction", "source_id",
              "formula"):
        np.testing.assert_array_equal(np.asarray(getattr(got, k)), np.asarray(getattr(ref, k)), err_msg=k)
    np.testing.assert_array_equal(np.asarray(got.reduced_cell), np.asarray(ref.reduced_cell))
    for k in ("wavelength", "two_theta_max", "two_theta_min"):
        assert got.meta[k] == ref.meta[k]
    assert got.meta["unpacked_from"]["file"] == str(packed)


def test_files_that_are_not_packed_tables_get_one_line(table, tmp_path, capsys):
    text = tmp_path / "notes.npz"
    text.write_text("2theta intensity\n10 5\n")
    not_a_pack = tmp_path / "other.npz"
    np.savez(not_a_pack, x=np.arange(3))
    for bad, why in ((text, "not an .npz archive"), (not_a_pack, "not a readable packed peak table"),
                     (tmp_path / "missing.npz", "no such file")):
        assert main(["dataset", "unpack", str(bad), "--out", str(tmp_path / "u")]) != 0
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and str(bad) in err and why in err, err
    assert main(["dataset", "pack", str(tmp_path), "--out", str(tmp_path / "p.npz")]) != 0
    err = capsys.readouterr().err.strip()
    assert "not a peak table" in err and err.count("\n") == 0
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "data.txt").write_text("mine")
    pack_table(table, str(tmp_path / "ok.npz"))
    assert main(["dataset", "unpack", str(tmp_path / "ok.npz"), "--out", str(keep)]) != 0
    assert "refusing to replace" in capsys.readouterr().err and (keep / "data.txt").read_text() == "mine"
    assert main(["dataset", "unpack", str(tmp_path / "ok.npz"), "--out", str(tmp_path / "fine")]) == 0
    assert "5 structures" in capsys.readouterr().out

"""Hostile input gets one line naming the file and the reason, exit non-zero, no traceback, no hang, and
never touches the user's files (issue: the house and its locks)."""

import os
import subprocess
import sys

import pytest

from difcon_jax.cli import main
from difcon_jax.data import load_peak_table
from difcon_jax.inference.model_dir import PACKAGED_MODEL
from tests.helpers.structures import cif_of


def _one_line(capsys, *needles):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    for n in needles:
        assert n in err[0], err[0]
    return err[0]


def test_build_never_replaces_a_users_folder_or_file(tmp_path, capsys):
    src = tmp_path / "cifs"
    src.mkdir()
    (src / "NaCl.cif").write_text(cif_of("NaCl"))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    assert main(["dataset", "build", "--cif-dir", str(src), "--out", str(mine)]) == 2
    _one_line(capsys, str(mine), "not a peak table")
    assert (mine / "thesis.tex").read_text() == "precious"
    f = tmp_path / "notes.txt"
    f.write_text("also precious")
    assert main(["dataset", "build", "--cif-dir", str(src), "--out", str(f)]) == 2
    _one_line(capsys, str(f), "existing file")
    assert f.read_text() == "also precious"
    # a peak table we wrote may be rebuilt in place
    out = tmp_path / "table"
    assert main(["dataset", "build", "--cif-dir", str(src), "--out", str(out), "--workers", "1"]) == 0
    assert main(["dataset", "build", "--cif-dir", str(src), "--out", str(out), "--workers", "1"]) == 0
    assert len(load_peak_table(out)) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_named_cif_does_not_block_a_build(tmp_path, capsys):
    src = tmp_path / "cifs"
    src.mkdir()
    (src / "NaCl.cif").write_text(cif_of("NaCl"))
    os.mkfifo(src / "trap.cif")
    out = tmp_path / "table"
    assert main(["dataset", "build", "--cif-dir", str(src), "--out", str(out), "--workers", "1"]) == 0
    assert len(load_peak_table(out)) == 1
    assert "not a regular file" in (tmp_path / "table.report.tsv").read_text()


@pytest.mark.parametrize("argv, needle", [
    (["simulate", "{cif}", "--b-iso", "-5"], "--b-iso -5.0"),
    (["simulate", "{cif}", "--two-theta-max", "nan"], "--two-theta-max nan"),
    (["simulate", "{cif}", "--two-theta-max", "0"], "--two-theta-max 0.0"),
    (["predict", "{cif}", "--top-k", "0"], "--top-k 0"),
    (["predict", "{cif}", "--top-k", "-1"], "--top-k -1"),
    (["predict", "{cif}", "--wavelength", "100"], "--wavelength 100.0"),
    (["predict", "{cif}", "--wavelength", "0"], "--wavelength 0.0"),
    (["predict", "{cif}", "--plot", "{tmp}/no/such/folder/p.png"], "folder does not exist"),
    (["train", "--workdir", "{tmp}/w", "--config.batch_size=abc"], "expected a value of type int"),
    (["train", "--workdir", "{tmp}/w", "--config.num_steps=-5"], "num_steps -5"),
    (["train", "--workdir", "{tmp}/w", "--config.optim.trainable=encoder"], "optim.trainable 'encoder' is not one of"),
    (["train", "--workdir", "{cif}"], "work directory is an existing file"),
    (["train", "--workdir", "{tmp}/w", "--config", "{cif}"], "cannot load config (SyntaxError"),
    (["train", "--workdir", "{tmp}/w", "--config", "quickstrat"], "packaged configs: augment_invariance"),
])
def test_bad_options_one_line(tmp_path, capsys, argv, needle):
    cif = tmp_path / "NaCl.cif"
    cif.write_text(cif_of("NaCl"))
    argv = [a.format(cif=cif, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    _one_line(capsys, needle)


def test_simulate_into_a_closed_pipe_is_quiet(tmp_path):
    cif = tmp_path / "NaCl.cif"
    cif.write_text(cif_of("NaCl"))
    cmd = f"{sys.executable} -m difcon_jax simulate {cif} --two-theta-max 150 | head -1"
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr
    assert r.stdout.count("\n") == 1


def _nacl_with(sites: str = "", ops: str = "", a: float = 5.64, occ: str = "1") -> str:
    """Rock salt written by hand: extra atom-site lines, explicit operations instead of the symbol."""
    sym = f"loop_\n_symmetry_equiv_pos_as_xyz\n{ops}\n" if ops else "_symmetry_space_group_name_H-M 'F m -3 m'\n"
    return (f"data_NaCl\n_cell_length_a {a}\n_cell_length_b {a}\n_cell_length_c {a}\n_cell_angle_alpha 90\n"
            f"_cell_angle_beta 90\n_cell_angle_gamma 90\n{sym}loop_\n_atom_site_label\n_atom_site_type_symbol\n"
            f"_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n_atom_site_occupancy\n"
            f"Na1 Na 0 0 0 {occ}\nCl1 Cl 0.5 0.5 0.5 1\n{sites}")


def _many_sites(n: int) -> str:
    import numpy as np

    xyz = np.random.default_rng(0).random((n, 3))
    return "".join(f"C{i} C {x:.4f} {y:.4f} {z:.4f} 1\n" for i, (x, y, z) in enumerate(xyz))


@pytest.mark.parametrize("text, needle", [
    (lambda: _nacl_with(occ="nan"), "occupancy 'nan' at site 'Na1'"),
    (lambda: _nacl_with(occ="-1"), "occupancy -1.0 at site 'Na1'"),
    (lambda: _nacl_with(ops="\n".join(f"'x+{i / 5000:.6f},y,z'" for i in range(5000))), "5000 symmetry operations"),
    (lambda: _nacl_with(ops="\n".join(f"'x+{i / 300:.6f},y,z'" for i in range(300))), "300 distinct symmetry"),
    (lambda: _nacl_with(ops="'x,y,z'\n'x+1/3,y,z'"), "do not form a space group"),
    (lambda: _nacl_with(_many_sites(600), a=50.0), "602 sites × 192 symmetry operations"),
    (lambda: _nacl_with(_many_sites(1200), a=50.0), "1202 atom sites (one atom or more each) exceed the cap 1000"),
    (lambda: _nacl_with("O1 O 0.5 0.5 0.52 1\n"), "sites 'Cl1' and 'O1' overlap (0.113 Å"),
])
def test_hostile_cifs_one_line_in_bounded_time(tmp_path, capsys, text, needle):
    import time

    f = tmp_path / "bad.cif"
    f.write_text(text())
    t = time.perf_counter()
    assert main(["simulate", str(f)]) == 2
    assert time.perf_counter() - t < 20
    _one_line(capsys, str(f), needle)


def test_a_site_listed_twice_is_kept_once_with_a_note(tmp_path, capsys):
    from difcon_jax.crystal.structure import read_cif

    f = tmp_path / "dup.cif"
    f.write_text(_nacl_with("Cl2 Cl 0.5 0.5 0.501 1\n"))
    st = read_cif(f)
    assert st.formula == "Cl4Na4" and any("coincides" in n for n in st.notes)
    assert main(["simulate", str(f)]) == 0
    assert "note: " + str(f) + ": site 'Cl2' coincides with site 'Cl1'" in capsys.readouterr().err
    # a build keeps the good files beside the bad ones and reports each skip
    src = tmp_path / "cifs"
    src.mkdir()
    (src / "NaCl.cif").write_text(_nacl_with())
    (src / "clash.cif").write_text(_nacl_with("O1 O 0.5 0.5 0.52 1\n"))
    (src / "ops.cif").write_text(_nacl_with(ops="\n".join(f"'x+{i / 5000:.6f},y,z'" for i in range(5000))))
    assert main(["dataset", "build", "--cif-dir", str(src), "--out", str(tmp_path / "t"), "--workers", "1"]) == 0
    assert len(load_peak_table(tmp_path / "t")) == 1
    report = (tmp_path / "t.report.tsv").read_text()
    assert "overlap" in report and "5000 symmetry operations" in report


def _pattern(path, x=None):
    import numpy as np

    x = np.arange(10, 90, 0.02) if x is None else x
    y = 3 + sum(500 * np.exp(-0.5 * ((x - c) / 0.05) ** 2) for c in (27.4, 31.7, 45.5, 56.5))
    path.write_text("\n".join(f"{a:.5f} {b:.1f}" for a, b in zip(x, y)))
    return path


def test_special_files_and_unit_mistakes_in_patterns(tmp_path, capsys):
    import json

    import numpy as np

    good = _pattern(tmp_path / "good.xy")
    os.symlink("/dev/zero", tmp_path / "zero.xy")
    folder = tmp_path / "folder.xy"
    folder.mkdir()
    radians = _pattern(tmp_path / "radians.xy", np.radians(np.arange(10, 90, 0.02)))
    files = [str(tmp_path / "zero.xy"), str(folder), str(radians), str(good)]
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.xy")
        files.append(str(tmp_path / "fifo.xy"))
    assert main(["predict", *files, "--json", "--wavelength", "1.5406"]) == 1  # bad ones reported, good kept
    out, err = capsys.readouterr()
    assert [r["file"] for r in json.loads(out)] == [str(good)]
    assert "zero.xy: not a regular file" in err and "folder.xy: is a folder" in err
    assert "radians.xy: 2θ values end at 1.570" in err and "Traceback" not in err
    # d-spacings mistaken for 2θ: a narrow span, answered but flagged
    tt = np.arange(10, 90, 0.02)
    y = 3 + sum(500 * np.exp(-0.5 * ((tt - c) / 0.05) ** 2) for c in (27.4, 31.7, 45.5, 56.5))
    d = tmp_path / "d.xy"
    d.write_text("\n".join(f"{a:.5f} {b:.1f}" for a, b in zip(1.5406 / (2 * np.sin(np.radians(tt / 2)))[::-1], y[::-1])))
    assert main(["predict", str(d), "--json", "--wavelength", "1.5406"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)[0]["uncertain"] is True and "covers only 1.1–8.8°" in err


def _broken_model(tmp_path, name, fix):
    import shutil

    from difcon_jax.inference.predict_files import PACKAGED_MODEL

    d = tmp_path / name
    shutil.copytree(PACKAGED_MODEL, d)
    fix(d)
    return d


def _npz_edit(d, change):
    import numpy as np

    with np.load(d / "params.npz") as z:
        p = dict(z)
    change(p)
    np.savez(d / "params.npz", **p)


@pytest.mark.parametrize("name, fix, needle", [
    ("truncated", lambda d: (d / "params.npz").write_bytes((d / "params.npz").read_bytes()[:5000]), "unreadable"),
    ("shape", lambda d: _npz_edit(d, lambda p: p.update({"eg_head/kernel": p["eg_head/kernel"][:3]})),
     "parameter eg_head/kernel has shape"),
    ("nan", lambda d: _npz_edit(d, lambda p: p.update({"eg_head/kernel": p["eg_head/kernel"] * float("nan")})),
     "non-finite probabilities"),
    ("pickled", lambda d: _npz_edit(d, lambda p: p.update({"eg_head/kernel": __import__("numpy").array([{}])})),
     "holds Python objects (pickled data)"),
    ("config_empty", lambda d: (d / "config.json").write_text("{}"), "not a difcon-jax config"),
    ("config_list", lambda d: (d / "config.json").write_text("[]"), "not a difcon-jax config"),
    ("calibration_list", lambda d: (d / "calibration.json").write_text("[]"), "needs numeric 'temperature'"),
    ("temperature_0", lambda d: (d / "calibration.json").write_text('{"temperature": 0, "uncertain_below": 0.5}'),
     "temperature 0.0 must be > 0"),
])
def test_broken_model_folders_one_line(tmp_path, capsys, name, fix, needle):
    d = _broken_model(tmp_path, name, fix)
    assert main(["predict", str(_pattern(tmp_path / "p.xy")), "--model", str(d), "--wavelength", "1.5406"]) == 2
    _one_line(capsys, str(d), needle)


def test_model_that_is_a_file_and_bad_labels(tmp_path, capsys):
    p = str(_pattern(tmp_path / "p.xy"))
    assert main(["predict", p, "--model", p]) == 2
    _one_line(capsys, p, "not a model or training directory (a file)")
    (tmp_path / "labels.csv").write_text("name,space_group\np.xy,225\n")
    assert main(["evaluate", "--workdir", str(tmp_path / "none"), "--experimental", str(tmp_path)]) == 2
    _one_line(capsys, "labels.csv", "no 'file' column")
    from difcon_jax.patterns.labelled import read_labels

    (tmp_path / "labels.csv").write_text("file,space_group\np.xy,999\np.xy,225\n")
    good, bad = read_labels(str(tmp_path))
    assert good == [(p, 225)] and "space group '999' is not 1–230" in bad[0][1]


def test_atomic_writes_are_readable_like_plain_files(tmp_path):
    import stat

    import numpy as np

    from difcon_jax.data.peak_table import ARRAYS, write_peak_table
    from difcon_jax.files import _UMASK, atomic_write_json

    f = atomic_write_json(str(tmp_path / "a.json"), {"x": 1})
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o666 & ~_UMASK  # what open() makes, not mkstemp's 0600
    n = 2
    arrays = {"two_theta": np.zeros((n, 3), np.float32), "intensity": np.zeros((n, 3), np.float32),
              "formula": np.array(["A", "B"]), "source": np.array(["a", "b"])}
    write_peak_table(str(tmp_path / "t"), {k: arrays.get(k, np.zeros(n, np.int32)) for k in ARRAYS}, {})
    assert stat.S_IMODE(os.stat(tmp_path / "t").st_mode) == 0o777 & ~_UMASK  # not mkdtemp's 0700

def test_decimal_commas_are_read_as_decimals(tmp_path, capsys):
    import numpy as np

    from difcon_jax.patterns import read_pattern

    x = np.arange(10, 90, 0.02)
    y = 3 + 500 * np.exp(-0.5 * ((x - 31.7) / 0.05) ** 2)
    for sep in (" ", ";", "\t"):
        f = tmp_path / f"comma{ord(sep)}.xy"
        f.write_text("\n".join(f"{a:.2f}{sep}{b:.1f}".replace(".", ",") for a, b in zip(x, y)))
        m = read_pattern(f, 1.5406)
        np.testing.assert_allclose(m.two_theta, np.round(x, 2))
        assert abs(m.two_theta[np.argmax(m.intensity)] - 31.7) < 0.011
    f = tmp_path / "csv.xy"  # commas as separators stay separators
    f.write_text("\n".join(f"{a:.2f},{b:.1f}" for a, b in zip(x, y)))
    assert len(read_pattern(f, 1.5406).two_theta) == len(x)


def test_reflection_bound_is_one_plain_line(tmp_path, capsys):
    f = tmp_path / "big.cif"
    f.write_text(_nacl_with(a=12.6))
    assert main(["simulate", str(f), "--wavelength", "0.05", "--two-theta-max", "180"]) == 2
    line = _one_line(capsys, str(f), "reflections", "exceed the bound")
    assert "ValueError" not in line


def test_each_file_of_a_build_has_a_time_budget(tmp_path):
    import dataclasses

    from difcon_jax.data.build import BuildOptions, build_from_cifs

    src = tmp_path / "cifs"
    src.mkdir()
    (src / "NaCl.cif").write_text(_nacl_with())
    res = build_from_cifs(str(src), str(tmp_path / "t"), 1, dataclasses.replace(BuildOptions(), time_budget_s=1e-4))
    assert res.built == 0 and "time budget per file" in res.skipped[0][1]
    res = build_from_cifs(str(src), str(tmp_path / "t2"), 1, BuildOptions())
    assert res.built == 1


def test_evaluate_on_a_missing_or_empty_workdir(tmp_path, capsys):
    assert main(["evaluate", "--workdir", str(tmp_path / "nowhere")]) == 2
    _one_line(capsys, str(tmp_path / "nowhere"), "does not exist")
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", "--workdir", str(tmp_path / "empty")]) == 2
    _one_line(capsys, str(tmp_path / "empty"), "no config.json")


def test_train_workdir_below_a_file_and_bad_run_lengths(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["train", "--workdir", str(f / "run")]) == 2
    _one_line(capsys, str(f / "run"), f"{f} is a file")
    assert f.read_text() == "x"
    assert main(["train", "--workdir", str(tmp_path / "a"), "--config.batch_size=0"]) == 2
    line = _one_line(capsys, "batch_size 0 must be at least 1")
    assert "num_steps" not in line
    assert main(["train", "--workdir", str(tmp_path / "b"), "--config.num_steps=-3"]) == 2
    line = _one_line(capsys, "num_steps -3 must be at least 1")
    assert "batch_size" not in line
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("encode", [
    lambda t: "\ufeff".encode() + t.encode(),  # UTF-8 byte-order mark
    lambda t: t.replace("\n", "\r").encode(),  # old-Mac line endings
    lambda t: "\ufeff".encode() + t.replace("\n", "\r\n").encode(),  # Windows
])
def test_cif_with_bom_or_cr_line_endings_is_read(tmp_path, capsys, encode):
    f = tmp_path / "NaCl.cif"
    f.write_bytes(encode(cif_of("NaCl")))
    assert main(["simulate", str(f), "--json"]) == 0
    import json

    assert json.loads(capsys.readouterr().out)["space_group"] == 225


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_pattern_files_are_read(tmp_path, encoding):
    import numpy as np

    from difcon_jax.patterns import read_pattern

    x = np.arange(10, 80, 0.02)
    y = 5 + 900 * np.exp(-0.5 * ((x - 31.7) / 0.06) ** 2)
    text = "# wavelength: 1.5406\r\n" + "\r\n".join(f"{a:.2f}\t{b:.1f}" for a, b in zip(x, y))
    f = tmp_path / "export.txt"
    f.write_bytes(text.encode(encoding))
    m = read_pattern(str(f))
    assert len(m.two_theta) == len(x) and m.wavelength == 1.5406 and abs(m.two_theta[np.argmax(m.intensity)] - 31.7) < 0.01


def test_symmetry_operations_that_are_not_a_group_are_refused(tmp_path, capsys):
    f = tmp_path / "bad.cif"
    f.write_text(_nacl_with(ops="'x,y,z'\n'-x,y,z'\n'x,-y,z'"))
    assert main(["simulate", str(f)]) == 2
    _one_line(capsys, str(f), "do not form a space group", "'-x,y,z'", "'x,-y,z'", "(-x,-y,z) is not listed")


def test_evaluate_into_a_report_folder_it_cannot_make(tmp_path, capsys):
    # the folder is made before the evaluation's minutes, and a file in its way is one line, not a traceback
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "labels.csv").write_text("file,space_group,crystal_system\n")
    out = str(tmp_path / "a_file" / "report")
    assert main(["evaluate", "--workdir", PACKAGED_MODEL, "--experimental-only", "--experimental",
                 str(tmp_path / "exp"), "--out", out]) == 2
    _one_line(capsys, out, "cannot make the report folder")

"""Hostile input gets one line naming the file and the reason, exit non-zero, no traceback, no hang, and
never touches the user's files (issue: the house and its locks)."""

import os
import subprocess
import sys

import pytest

from difcon_jax.cli import main
from difcon_jax.data import load_peak_table
from structures import cif_of


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

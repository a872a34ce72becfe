"""`evaluate`'s report folder: beside a model of the user's, never inside the installed package."""

import json
from pathlib import Path

import numpy as np

from difcon_jax.cli import main
from difcon_jax.inference.model_dir import PACKAGED_MODEL


def test_the_packaged_model_reports_into_the_working_directory(tmp_path, monkeypatch, capsys):
    # the packaged model's folder is part of the package (read-only when installed for every user; tracked files in
    # a checkout): evaluating it wrote WORKDIR/evaluation into it
    exp = tmp_path / "exp"
    exp.mkdir()
    x = np.arange(10.0, 80.0, 0.02)
    for i in range(2):
        y = 5 + sum(900 * np.exp(-0.5 * ((x - c) / 0.06) ** 2) for c in (20 + 3 * i, 33, 47 + i))
        (exp / f"p{i}.xy").write_text("\n".join(f"{a:.2f} {b:.1f}" for a, b in zip(x, y)))
    (exp / "labels.csv").write_text("file,space_group,crystal_system\np0.xy,225,cubic\np1.xy,62,orthorhombic\n")
    run = tmp_path / "run"
    run.mkdir()
    monkeypatch.chdir(run)
    inside = [p.name for p in Path(PACKAGED_MODEL).iterdir()]
    rc = main(["evaluate", "--workdir", PACKAGED_MODEL, "--experimental-only", "--experimental", str(exp),
               "--wavelength", "1.5406"])
    out = capsys.readouterr().out
    assert rc == 0 and "| exp | 2 |" in out
    assert json.loads((run / "evaluation_difcon_cpu" / "report.json").read_text())["difcon"]["exp"]["n"] == 2
    assert sorted(p.name for p in Path(PACKAGED_MODEL).iterdir()) == sorted(inside)

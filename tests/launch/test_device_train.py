"""launch/device_train.sh, dry run on the CPU: the same steps as on an accelerator with a tiny network."""

import json
import os
import subprocess
import tarfile

from difcon_jax.data.build import BuildOptions, build_from_cifs
from difcon_jax.data.pack import pack_table
from tests.helpers.structures import STRUCTURES, make_cif

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_device_script_dry_run(tmp_path):
    cifs = tmp_path / "cifs"
    cifs.mkdir()
    for name, setting, _, cell, sites in STRUCTURES[:16]:
        (cifs / f"{name}.cif").write_text(make_cif(name, setting, cell, sites))
    table = tmp_path / "table"
    build_from_cifs(str(cifs), str(table), options=BuildOptions(max_peaks=24, test_fraction=0.25,
                                                                 validation_fraction=0.25))
    packed = tmp_path / "table.npz"  # carried as one packed file, as the full real table is
    pack_table(str(table), str(packed))
    out = tmp_path / "out"
    env = dict(os.environ, OUT=str(out), DIFCON_DRY_RUN="1", DIFCON_WORK=str(tmp_path / "work"),
               JAX_DISABLE_MOST_OPTIMIZATIONS="true",  # a dry run tests the plumbing: compile time dominates
               JAX_PLATFORMS="cpu")
    r = subprocess.run(["bash", "launch/device_train.sh", str(packed)], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:] + (out / "train.err").read_text()[-2000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    # what comes back from a lent machine: at most 8 files of ≤ 16 MiB — the logs, the summary and the parts
    back = sorted(p.name for p in out.iterdir())
    parts = [n for n in back if n.startswith("results.tar.part")]
    assert set(back) - set(parts) == {"train.out", "train.err", "summary.json"} and 1 <= len(parts) <= 5, back
    assert all((out / n).stat().st_size <= 15 * 2**20 for n in parts)
    assert json.loads((out / "summary.json").read_text()) == summary
    res = tmp_path / "results"
    res.mkdir()
    with open(tmp_path / "results.tar", "wb") as fh:
        for n in parts:
            fh.write((out / n).read_bytes())
    with tarfile.open(tmp_path / "results.tar") as tar:
        tar.extractall(res, filter="data")
    out = res
    assert summary["steps"] == 2 and summary["augment_patterns_per_s"] > 0 and summary["train_samples_per_s"] > 0
    assert summary["steps_planned"] == summary["steps_asked"] == 2 and summary["stopped_by_train_seconds"] is False
    assert summary["train_step_samples_per_s"] > 0  # the step timed before training (it sizes the schedule)
    assert set(summary["model_file_bytes"]) == {"params.npz", "config.json", "calibration.json", "library.npz"}
    assert max(summary["model_file_bytes"].values()) < 16 * 2**20
    curve = json.loads((out / "learning_curve.json").read_text())
    assert curve["steps"] == [1, 2] and len(curve["equivariance"]["acc_sg"]) == 2
    assert (out / "learning_curve.png").stat().st_size > 1000
    cfg = json.loads((out / "model" / "config.json").read_text())
    assert cfg["model"]["dtype"] == "float32" and cfg["data"]["table"] == str(tmp_path / "work_table")

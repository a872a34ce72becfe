"""launch/device_train.sh, dry run on the CPU: the same steps as on an accelerator with a tiny network."""

import json
import os
import subprocess
import tarfile
import time

from difcon_jax.data.build import BuildOptions, build_from_cifs
from difcon_jax.data.pack import pack_table
from tests.helpers.structures import STRUCTURES, make_cif

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _packed_table(tmp_path, n=16):
    cifs = tmp_path / "cifs"
    cifs.mkdir()
    for name, setting, _, cell, sites in STRUCTURES[:n]:
        (cifs / f"{name}.cif").write_text(make_cif(name, setting, cell, sites))
    table = tmp_path / "table"
    build_from_cifs(str(cifs), str(table), options=BuildOptions(max_peaks=24, test_fraction=0.25,
                                                                 validation_fraction=0.25))
    packed = tmp_path / "table.npz"
    pack_table(str(table), str(packed))
    return packed


def test_device_script_dry_run(tmp_path):
    packed = _packed_table(tmp_path)  # carried as one packed file, as the full real table is
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
    assert set(back) - set(parts) == {"progress.log", "train.out", "train.err", "summary.json"}, back
    assert 1 <= len(parts) <= 4, back
    log = (out / "progress.log").read_text()
    for stage in ("jax_devices", "unpack", "train_step", "train", "export", "curve", "augment_throughput"):
        assert f"end {stage} rc=0" in log, log
    assert "jax: cpu" in log and "bundled" in log.splitlines()[-1], log
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
    # the step's rate is printed as soon as it is timed: a benchmark cut later still leaves it as its last JSON line
    timed = [json.loads(line) for line in (out / "train_step.out").read_text().splitlines() if line.startswith("{")]
    assert timed[0]["partial"] and timed[0]["results"].keys() == timed[-1]["results"].keys() and len(timed) == 2
    assert set(summary["model_file_bytes"]) == {"params.npz", "config.json", "calibration.json", "library.npz"}
    assert max(summary["model_file_bytes"].values()) < 16 * 2**20
    curve = json.loads((out / "learning_curve.json").read_text())
    assert curve["steps"] == [1, 2] and len(curve["equivariance"]["acc_sg"]) == 2
    assert (out / "learning_curve.png").stat().st_size > 1000
    cfg = json.loads((out / "model" / "config.json").read_text())
    assert cfg["model"]["dtype"] == "float32" and cfg["data"]["table"] == str(tmp_path / "work_table")


def test_device_call_out_of_time_still_returns_its_log_and_summary(tmp_path):
    """A deadline already spent: every stage is skipped, not run into the tool's limit, and the log, the summary and
    the bundle still come back."""
    out = tmp_path / "out"
    env = dict(os.environ, OUT=str(out), DIFCON_DRY_RUN="1", DIFCON_WORK=str(tmp_path / "work"),
               DEVICE_CALL_SECONDS="1", JAX_PLATFORMS="cpu")
    r = subprocess.run(["bash", "launch/device_train.sh", str(tmp_path / "absent.npz")], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 0 and summary["model_file_bytes"] == {} and summary["equivariance"]["acc_sg"] is None
    log = (out / "progress.log").read_text()
    assert "skip train (no time left)" in log and "skip export" in log, log
    assert any(p.name.startswith("results.tar.part") for p in out.iterdir())


def test_device_stage_cuts_a_stalled_command_and_says_so(tmp_path):
    script = (". launch/device_env.sh; DEVICE_T0=$(date +%s); DEVICE_LOG=$1/progress.log; "
              "device_stage stall 1 \"$1\" bash -c 'echo working >&2; sleep 60'; echo \"rc=$?\"")
    t = time.time()
    r = subprocess.run(["bash", "-c", script, "bash", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert time.time() - t < 20 and r.stdout.strip() == "rc=124", r
    log = (tmp_path / "progress.log").read_text()
    assert "start stall (limit 1s)" in log and "end stall rc=124" in log and "    working" in log, log
    assert (tmp_path / "stall.err").read_text() == "working\n"

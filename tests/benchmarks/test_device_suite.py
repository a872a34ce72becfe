"""benchmarks/device_suite.sh, dry run on the CPU: the accelerator benchmark's steps with tiny shapes, ending in
one JSON line with the three numbers the accelerator run reports."""

import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_device_suite_dry_run(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path), DIFCON_DRY_RUN="1", JAX_PLATFORMS="cpu",
               JAX_DISABLE_MOST_OPTIMIZATIONS="true")  # a dry run tests the plumbing: compile time dominates
    r = subprocess.run(["bash", "benchmarks/device_suite.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:] + (tmp_path / "train_step.err").read_text()[-2000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["benchmark"] == "device_suite" and summary["device"]
    assert summary["augment_patterns_per_s"] > 0 and summary["train_samples_per_s"] > 0
    assert 0 < summary["augment_fraction"] <= 1
    assert summary["augment"]["bins"] == 12000 and summary["augment"]["table"] == "random"
    assert json.loads((tmp_path / "device_suite.json").read_text()) == summary
    log = (tmp_path / "progress.log").read_text()  # each benchmark bounded and logged as it ran
    assert "end augment_throughput rc=0" in log and "end train_step rc=0" in log, log
    assert len(list(tmp_path.iterdir())) <= 8  # what a lent machine brings back

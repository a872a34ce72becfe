"""Training: one end-to-end step, data parallel (4 fake devices) = 1 device, 2 processes = 1 process,
kill -9 then resume, corrupt checkpoints, config errors."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from tests.helpers.train import ROOT, tiny_overrides


@pytest.fixture
def table(tiny_table):
    return tiny_table


def _env(**extra):
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    env.update({"PYTHONPATH": ROOT + os.pathsep + env.get("PYTHONPATH", ""), "JAX_PLATFORMS": "cpu",
                "JAX_DISABLE_MOST_OPTIMIZATIONS": "true", **extra})  # compile time dominates tiny runs
    return env


def test_one_step_end_to_end_every_mode(table, tmp_path):
    from difcon_jax.config import default_config_path, load_config
    from difcon_jax.data.prepare import prepare_table
    from difcon_jax.evaluate.evaluators import run_evaluators, simulated_axes
    from difcon_jax.inference.model_dir import load_model
    from difcon_jax.inference.predictor import Predictor
    from difcon_jax.train.loop import train

    for mode in ("cnn_static", "cnn_aug", "simclr"):  # difcon: tests/train/test_step.py, tests/jobs/
        cfg = load_config(default_config_path("quickstart"), tiny_overrides(table, steps=1, mode=mode))
        last = train(cfg, str(tmp_path / mode)).metrics
        assert np.isfinite(last["loss"]) and set(last) >= {"acc_cs", "acc_eg", "acc_sg", "loss_repr"}
        lines = open(tmp_path / mode / "metrics.jsonl").read().splitlines()
        record = json.loads(lines[-1])
        assert record["step"] == 1 and record["steps_per_s"] > 0 and record["lr"] == 0.0  # warm-up starts at 0
    cfg, model, params = load_model(str(tmp_path / "simclr"))
    rep = run_evaluators(simulated_axes(cfg, prepare_table(cfg, str(tmp_path / "simclr"))), Predictor.of(cfg, model, params))
    assert rep["invariance"]["n"] == 8 and 0 <= rep["invariance"]["acc_sg"] <= 1
    assert rep["textbook"]["n"] == 88 and rep["cross_simulator"]["n"] >= rep["equivariance"]["n"] > 0
    for axis in ("equivariance", "invariance", "training", "cross_simulator"):  # drawn from the table: by isotypes
        assert sum(b["n"] for b in rep[axis]["by_isotypes"].values()) == rep[axis]["n"], axis
    assert "by_isotypes" not in rep["textbook"]


def _worker(workdir, table, steps, env):
    r = subprocess.run([sys.executable, "-m", "tests.helpers.train_worker", str(workdir), table, str(steps)],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_four_devices_and_two_processes_match_one_device(table, tmp_path):
    """Data parallel over 4 fake devices, and over 2 processes (jax.distributed on the CPU), end where one
    device ends: the one-device reference is run once for both."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for pid in range(2):
        env = _env(DIFCON_COORDINATOR=f"127.0.0.1:{port}", DIFCON_NUM_PROCESSES="2", DIFCON_PROCESS_ID=str(pid))
        procs.append(subprocess.Popen([sys.executable, "-m", "tests.helpers.train_worker", str(tmp_path / "mp"),
                                       table, "3"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:  # the reference runs while the two processes train: one wait, not two
        one = _worker(tmp_path / "one", table, 3, _env())
        four = _worker(tmp_path / "four", table, 3, _env(XLA_FLAGS="--xla_force_host_platform_device_count=4"))
        outs = [p.communicate(timeout=300) for p in procs]
    finally:  # a failed reference run leaves no training process behind
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    multi = json.loads(outs[0][0].strip().splitlines()[-1])
    assert one["devices"] == 1 and four["devices"] == 4
    assert multi["processes"] == 2 and multi["devices"] == 2
    np.testing.assert_allclose(four["first"], one["first"], rtol=1e-4, atol=1e-6)
    assert four["sum"] == pytest.approx(one["sum"], rel=1e-5)
    np.testing.assert_allclose(multi["first"], one["first"], rtol=1e-4, atol=1e-6)


def test_a_time_budget_spent_on_one_process_stops_both_at_the_same_step(table, tmp_path):
    """Process 0's budget is spent at once, process 1's never: process 0's clock decides for both (broadcast),
    so both stop at step 1 — were each to follow its own clock, process 1 would wait in step 2's collectives until
    the timeout."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for pid, budget in ((0, "1e-9"), (1, "1e9")):
        env = _env(DIFCON_COORDINATOR=f"127.0.0.1:{port}", DIFCON_NUM_PROCESSES="2", DIFCON_PROCESS_ID=str(pid))
        procs.append(subprocess.Popen([sys.executable, "-m", "tests.helpers.train_worker", str(tmp_path / "mp"),
                                       table, "3", f"train_seconds={budget}"], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    try:
        outs = [p.communicate(timeout=180) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    assert json.loads(outs[0][0].strip().splitlines()[-1])["step"] == 1
    assert "train_seconds (1e-09 s) spent at step 1 of 3" in outs[0][1]


def _train_cmd(table, workdir, steps):
    args = [f"--config.{o}" for o in tiny_overrides(table, steps)]
    return [sys.executable, "-m", "difcon_jax", "train", "--workdir", str(workdir), "--skip-eval"] + args


def test_kill_9_then_resume(table, tmp_path):
    wd = tmp_path / "run"
    p = subprocess.Popen(_train_cmd(table, wd, 10_000), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ck = wd / "checkpoints"
    deadline = time.time() + 240
    while time.time() < deadline:
        done = [d for d in (os.listdir(ck) if ck.exists() else []) if d.isdigit()]
        if len(done) >= 2:
            break
        time.sleep(0.5)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    steps = sorted(int(d) for d in os.listdir(ck) if d.isdigit())
    assert steps, "no checkpoint before the kill"
    r = subprocess.run(_train_cmd(table, wd, steps[-1] + 2), env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resumed from step" in r.stderr
    resumed = int(r.stderr.split("resumed from step ")[1].split()[0])
    assert resumed >= steps[-1] - 1  # the newest (possibly half-written when killed) or the one before
    assert json.loads(open(wd / "metrics.jsonl").read().splitlines()[-1])["step"] == steps[-1] + 2


def test_corrupt_checkpoint_and_bad_config(table, tmp_path):
    wd = tmp_path / "c"
    r = subprocess.run(_train_cmd(table, wd, 1), env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    for root, _, files in os.walk(wd / "checkpoints" / "1"):
        for f in files:
            if "manifest" in f or f.endswith(".ocdbt") or "d" == root.split(os.sep)[-1]:
                with open(os.path.join(root, f), "wb") as fh:
                    fh.write(b"garbage")
    r = subprocess.run(_train_cmd(table, wd, 2), env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 3 and "unreadable checkpoint" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(_train_cmd(table, tmp_path / "x", 1) + ["--config.model.widht=3"], env=_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no config key 'model.widht'" in r.stderr and "Traceback" not in r.stderr


def test_predict_and_evaluate_cli(table, tmp_path, capsys):
    from difcon_jax.cli import main

    wd = tmp_path / "model"  # with the lattice head: its estimate is predicted and its error evaluated
    overrides = tiny_overrides(table, steps=1) + ["model.lattice_head=True"]
    assert main(["train", "--workdir", str(wd)] + [f"--config.{o}" for o in overrides]) == 0
    out, _ = capsys.readouterr()
    assert "equivariance" in out and "invariance" in out and "cell edge error" in out
    summary = json.loads((wd / "eval_summary.json").read_text())
    assert summary["invariance"]["n"] == 8 and summary["calibration"]["temperature"] > 0
    assert summary["training"]["cell_n"] == summary["training"]["n"]
    assert 0 <= summary["equivariance"]["cell_volume_within_5pct"] <= 1
    exp = tmp_path / "exp"
    exp.mkdir()
    x = np.arange(10, 80, 0.02)
    rows = ["file,space_group,crystal_system"]
    for i, sg in enumerate((225, 62, 14)):
        y = 5 + sum(900 * np.exp(-0.5 * ((x - c) / 0.06) ** 2) for c in (20 + 3 * i, 33, 47 + i))
        (exp / f"p{i}.xy").write_text("\n".join(f"{a:.2f} {b:.1f}" for a, b in zip(x, y)))
        rows.append(f"p{i}.xy,{sg},x")
    (exp / "broken.xy").write_text("1\n2\n")
    rows.append("broken.xy,1,triclinic")
    (exp / "labels.csv").write_text("\n".join(rows) + "\n")

    from tests.helpers import vendor_files

    y = 5 + sum(900 * np.exp(-0.5 * ((x - c) / 0.06) ** 2) for c in (21, 30, 44))
    (exp / "scan.raw").write_bytes(vendor_files.bruker_raw4(x, y, 0.709319, 0.713609))
    (exp / "cut.brml").write_bytes(vendor_files.bruker_brml(x, y, 1.5406, 1.5444)[:500])
    files = [str(exp / f) for f in ("p0.xy", "broken.xy", "p1.xy", "cut.brml", "scan.raw")]
    from difcon_jax.evaluate.calibration import record_library_frequency

    record_library_frequency(str(wd), [225, 225, 62, 14])  # as `library build` into the model folder does
    rc = main(["predict", *files, "--model", str(wd), "--json", "--top-k", "2", "--wavelength", "1.5406",
               "--plot", str(tmp_path / "pred.png")])
    out, err = capsys.readouterr()
    assert rc == 1 and "broken.xy: one column only" in err and "Traceback" not in err
    assert "cut.brml: not a readable Bruker BRML file" in err and err.count("difcon-jax: ") == 2
    res = json.loads(out)
    assert [r["file"] for r in res] == [files[0], files[2], files[4]]
    assert res[2]["wavelength_source"] == "file" and abs(res[2]["wavelength"] - 0.71075) < 1e-4  # Mo Kα mean
    r = res[0]
    assert set(r) >= {"file", "crystal_system", "extinction_group", "space_group", "uncertain"}
    assert r["prior"] == "library"  # training wrote the draw's group mass, the library its frequencies
    assert len(r["space_group"]) == 2 and {"number", "symbol", "p"} == set(r["space_group"][0])
    # no reference library in this folder: nothing verifies, the answer is the network's top group
    assert r["verified"] is None and r["answer"]["verified"] is False
    assert r["answer"]["space_group"]["number"] == r["space_group"][0]["number"]
    assert "no reference" in r["answer"]["source"]
    c = r["lattice_estimate"]
    assert c["a"] > 0 and 0 < c["alpha"] < 180 and c["volume"] > 0
    assert (tmp_path / "pred.png").stat().st_size > 1000

    rc = main(["evaluate", "--workdir", str(wd), "--experimental", str(exp), "--wavelength", "1.5406"])
    out, err = capsys.readouterr()
    assert rc == 0 and "| exp | 3 |" in out and "skipped" in err and "Lattice head" in out
    assert "| exp (without the library prior) | 3 |" in out
    rep = json.loads((wd / "evaluation" / "report.json").read_text())
    assert rep["difcon"]["exp"]["n"] == 3
    assert all((wd / "evaluation" / f"confusion_{lv}_exp.png").exists() for lv in ("cs", "eg", "sg"))
    sim = rep["difcon"]["similarity"]
    assert -1 <= sim["mean_between"] <= 1 and 0 <= sim["nearest_view_same_structure"] <= 1
    assert (wd / "evaluation" / "similarity.png").exists() and "Representation similarity" in out


def test_packaged_model_predicts_and_export_round_trip(table, tmp_path, capsys):
    from difcon_jax.cli import main
    from difcon_jax.config import default_config_path, load_config
    from difcon_jax.inference.model_dir import export_model, load_model
    from difcon_jax.train.loop import train

    x = np.arange(10, 90, 0.02)
    y = 3 + sum(500 * np.exp(-0.5 * ((x - c) / 0.05) ** 2) for c in (27.4, 31.7, 45.5, 56.5))
    f = tmp_path / "nacl_like.xy"
    f.write_text("# wavelength: 1.5406\n" + "\n".join(f"{a:.2f} {b:.1f}" for a, b in zip(x, y)))
    assert main(["predict", str(f), "--json"]) == 0  # no --model: the packaged DIFCON model
    res = json.loads(capsys.readouterr().out)
    assert res[0]["wavelength_source"] == "file" and abs(sum(c["p"] for c in res[0]["crystal_system"])) <= 1.0001

    wd = tmp_path / "m"
    train(load_config(default_config_path("quickstart"), tiny_overrides(table, steps=1)), str(wd))
    export_model(str(wd), str(tmp_path / "exported"))
    _, _, p1 = load_model(str(wd))
    _, _, p2 = load_model(str(tmp_path / "exported"))
    for a, b in zip(jax.tree_util.tree_leaves(p1), jax.tree_util.tree_leaves(p2)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_warm_start_takes_another_runs_parameters(table, tmp_path):
    from difcon_jax.config import default_config_path, load_config
    from difcon_jax.errors import ConfigError
    from difcon_jax.train.loop import train

    first = train(load_config(default_config_path("quickstart"), tiny_overrides(table, steps=2)), str(tmp_path / "a"))
    # the warm-up's first step has rate 0: a warm-started run's parameters after it are the first run's
    cfg = load_config(default_config_path("quickstart"),
                      tiny_overrides(table, steps=1) + [f"init_from={str(tmp_path / 'a')!r}"])
    second = train(cfg, str(tmp_path / "b"))
    for a, b in zip(jax.tree_util.tree_leaves(first.state.params), jax.tree_util.tree_leaves(second.state.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    other = load_config(default_config_path("quickstart"), tiny_overrides(table, steps=1)
                        + ["model.head_hidden=8", f"init_from={str(tmp_path / 'a')!r}"])
    with pytest.raises(ConfigError, match=r"head_trunk/bias \(16,\) → \(8,\).* keeps every trained array"):
        train(other, str(tmp_path / "c"))


def test_a_spent_time_budget_stops_at_a_log_step_with_a_checkpoint_and_the_run_resumes(table, tmp_path):
    from difcon_jax.checkpoint import manager
    from difcon_jax.config import default_config_path, load_config
    from difcon_jax.train.loop import train

    wd = str(tmp_path / "w")
    tiny = tiny_overrides(table, steps=6) + ["log_every=2", "ckpt_every=100"]
    stopped = train(load_config(default_config_path("quickstart"), tiny + ["train_seconds=1e-9"]), wd)
    assert int(stopped.state.step) == 2  # the first log step after the budget was spent: not one step further
    assert manager(wd).latest_step() == 2  # a checkpoint there, although ckpt_every is 100
    lines = [json.loads(line) for line in open(os.path.join(wd, "metrics.jsonl"))]
    assert lines[-1]["step"] == 2 and lines[-1]["stopped"] == "train_seconds" and lines[-1]["num_steps"] == 6
    assert np.isfinite(stopped.metrics["loss"])
    resumed = train(load_config(default_config_path("quickstart"), tiny), wd)  # no budget: on to num_steps
    assert int(resumed.state.step) == 6


def test_warm_start_grows_a_model_and_keeps_its_answers():
    """A trained network warm-started into one with a global attention block: every trained array is kept,
    the block is new, and the grown model's outputs equal the trained one's (the block starts as the
    identity); a model that would drop an array is refused."""
    import jax.numpy as jnp

    from difcon_jax.errors import ConfigError
    from difcon_jax.models.resnet1d import build_model
    from difcon_jax.train.loop import warm_start_params

    base = dict(widths=(4, 8), blocks=(1, 1), stem_features=4, projector_dims=(8,), head_hidden=8)
    small, grown = build_model(base, 5), build_model(dict(base, attention_layers=1), 5)
    x = jax.random.normal(jax.random.key(0), (2, 256))
    trained = small.init(jax.random.key(1), x)["params"]
    fresh = grown.init(jax.random.key(2), x)["params"]
    params, added = warm_start_params(fresh, trained, "trained")
    assert added == ["encoder/attention0/attention/key", "encoder/attention0/attention/out",
                     "encoder/attention0/attention/query", "encoder/attention0/attention/value",
                     "encoder/attention0/mlp_in", "encoder/attention0/mlp_out", "encoder/attention0/norm1",
                     "encoder/attention0/norm2"]
    np.testing.assert_array_equal(params["cs_head"]["kernel"], trained["cs_head"]["kernel"])
    a, b = small.apply({"params": trained}, x), grown.apply({"params": params}, x)
    np.testing.assert_allclose(a["crystal_system"], b["crystal_system"], atol=1e-6)
    assert float(jnp.abs(a["representation"] - b["representation"]).max()) < 1e-6
    with pytest.raises(ConfigError, match="attention0.* has no place in cfg.model"):
        warm_start_params(trained, params, "grown")


def test_warm_start_grows_the_heads_by_a_residual_branch_and_keeps_their_answers():
    """``model.head_mlp`` adds a branch beside the heads' trunk whose last layer starts at zero: warm-started from
    the model without it, every trained array is kept and every head answers as before."""
    import jax.numpy as jnp

    from difcon_jax.models.resnet1d import build_model
    from difcon_jax.train.loop import warm_start_params

    base = dict(widths=(4, 8), blocks=(1, 1), stem_features=4, projector_dims=(8,), head_hidden=8, lattice_head=True)
    small, grown = build_model(base, 5), build_model(dict(base, head_mlp=(16, 16)), 5)
    x = jax.random.normal(jax.random.key(0), (2, 256))
    trained = small.init(jax.random.key(1), x)["params"]
    params, added = warm_start_params(grown.init(jax.random.key(2), x)["params"], trained, "trained")
    assert added == ["head_residual/dense0", "head_residual/dense1", "head_residual/in_norm", "head_residual/norm0",
                     "head_residual/norm1", "head_residual/out"]
    a, b = small.apply({"params": trained}, x), grown.apply({"params": params}, x)
    for name in ("crystal_system", "extinction_group", "reduced_cell", "representation"):
        np.testing.assert_allclose(a[name], b[name], atol=1e-6)
    for k in range(7):
        np.testing.assert_allclose(a["space_group"][k], b["space_group"][k], atol=1e-6)
    # once trained, the branch changes the heads' answers, not the representation
    params["head_residual"]["out"]["kernel"] = jnp.ones_like(params["head_residual"]["out"]["kernel"])
    c = grown.apply({"params": params}, x)
    assert float(jnp.abs(a["crystal_system"] - c["crystal_system"]).max()) > 1e-3
    np.testing.assert_array_equal(a["representation"], c["representation"])


def test_lattice_head_refuses_a_table_without_cells(table, tmp_path):
    """A table built before reduced cells were stored: one line naming it and the way out, before any work."""
    import shutil

    from difcon_jax.config import default_config_path, load_config
    from difcon_jax.errors import InputError
    from difcon_jax.train.loop import train

    old = shutil.copytree(table, tmp_path / "old_table")
    os.remove(old / "reduced_cell.npy")
    cfg = load_config(default_config_path("quickstart"), tiny_overrides(str(old), steps=1) + ["model.lattice_head=True"])
    with pytest.raises(InputError, match="no reduced cells for the lattice head .*lattice_head=False"):
        train(cfg, str(tmp_path / "run"))


def test_metrics_merged_in_one_program_average_the_steps_since_the_log_line():
    from difcon_jax.train.loop import accumulate_metrics

    acc = None
    for loss in (1.0, 2.0, 6.0):
        acc = accumulate_metrics(acc, {"loss": np.float32(loss), "acc_sg": np.float32(loss / 10)})
    assert float(acc["loss"].compute()) == pytest.approx(3.0)
    assert float(acc["acc_sg"].compute()) == pytest.approx(0.3)
    assert float(accumulate_metrics(None, {"loss": np.float32(5.0)})["loss"].compute()) == 5.0  # a fresh interval

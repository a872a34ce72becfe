"""One evaluation path: the Table 2 experiment (which trains each model with ``train``'s own
``train_and_evaluate``, writing its end-of-run summary), ``evaluate`` and ``curve`` score one model through the
same evaluators and report the same numbers; training logs the evaluators
every ``eval.every_steps`` steps (the learning curve without a second pass)."""

import json

import pytest

from difcon_jax.cli import main
from difcon_jax.config import default_config_path
from difcon_jax.jobs.experiment import run_experiment
from tests.helpers.train import tiny_overrides

KEYS = ("acc_cs", "acc_eg", "acc_sg", "top5_sg")


@pytest.fixture
def table(tiny_table):
    return tiny_table


def test_experiment_train_evaluate_and_curve_agree(table, tmp_path, capsys):
    overrides = tiny_overrides(table, steps=2) + ["eval.every_steps=1"]
    table2 = run_experiment(str(tmp_path / "exp"), default_config_path("quickstart"), overrides, ["difcon"], [],
                            command="test")
    assert set(table2) == {"HAND", "DIFCON"} and table2["HAND"]["invariance"]["n"] == 8
    md = (tmp_path / "exp" / "report.md").read_text()
    assert "| HAND | invariance |" in md and "| DIFCON | equivariance |" in md and "Command: `test`" in md
    res = table2["DIFCON"]
    wd = tmp_path / "exp" / "difcon"
    # training logged the evaluators at step 1 (the last step is scored by the summary)
    records = [json.loads(line) for line in (wd / "metrics.jsonl").read_text().splitlines()]
    logged = [r for r in records if "eval" in r]
    assert [r["step"] for r in logged] == [1] and set(logged[0]["eval"]) == {"equivariance", "invariance", "training"}
    assert 0 <= logged[0]["eval"]["training"]["acc_sg"] <= 1

    summary = json.loads((wd / "eval_summary.json").read_text())  # written by train_and_evaluate (`train`)
    assert main(["evaluate", "--workdir", str(wd)]) == 0
    evaluated = json.loads((wd / "evaluation" / "report.json").read_text())["difcon"]
    assert main(["curve", "--workdir", str(wd)]) == 0
    curve = json.loads((wd / "learning_curve.json").read_text())
    capsys.readouterr()
    for axis in ("equivariance", "invariance", "training"):
        got = {name: {k: src[axis][k] for k in KEYS} for name, src in
               (("experiment", res), ("train", summary), ("evaluate", evaluated))}
        assert got["experiment"] == got["train"] == got["evaluate"], (axis, got)
    assert curve["steps"] == [1, 2]
    assert [curve["equivariance"][k][-1] for k in ("acc_cs", "acc_sg", "top5_sg")] == \
           [round(res["equivariance"][k], 4) for k in ("acc_cs", "acc_sg", "top5_sg")]

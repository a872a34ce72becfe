"""The wheel is the whole product: configs and the packaged model inside, training and prediction from any
directory with nothing of the source tree on the path (issue 11 §1)."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from tests.helpers.train import ROOT, tiny_overrides

pytest.importorskip("setuptools")  # the test extra installs it: the wheel is built without network access


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Build the wheel from a copy of the sources (the checkout is left untouched by build/ and egg-info)."""
    src = tmp_path_factory.mktemp("src")
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), src / name)
    for name in ("difcon_jax", "configs"):
        shutil.copytree(os.path.join(ROOT, name), src / name, ignore=skip)
    out = tmp_path_factory.mktemp("dist")
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                          "-q", "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    (whl,) = list(out.glob("difcon_jax-*.whl"))
    return whl


def test_wheel_carries_configs_and_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    configs = sorted(n for n in names if n.startswith("difcon_jax/configs/") and n.endswith(".py"))
    shipped = {f for f in os.listdir(os.path.join(ROOT, "configs")) if f.endswith(".py")}
    assert {os.path.basename(n) for n in configs} == shipped
    for f in ("params.npz", "references.npz", "config.json", "calibration.json", "MODEL_CARD.md"):
        assert f"difcon_jax/pretrained/difcon_cpu/{f}" in names, f
    pretrained = os.path.join(ROOT, "difcon_jax", "pretrained")
    for model in os.listdir(pretrained):  # the member networks a packaged folder names ship with it
        listed = os.path.join(pretrained, model, "members.json")
        for member in json.load(open(listed))["members"] if os.path.exists(listed) else []:
            for f in ("params.npz", "config.json", "calibration.json"):
                assert f"difcon_jax/pretrained/{model}/{member}/{f}" in names, (model, member, f)
    top = {n.split("/")[0] for n in names}
    assert "configs" not in top and "tests" not in top  # no stray top-level packages in site-packages


def test_installed_wheel_trains_and_predicts_from_elsewhere(wheel, tiny_table, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    table = tiny_table  # the run's one tiny table, read only
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "PYTHONPATH")}
    env.update({"PYTHONPATH": str(site), "JAX_PLATFORMS": "cpu", "JAX_DISABLE_MOST_OPTIMIZATIONS": "true"})

    def run(*args):
        res = subprocess.run([sys.executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True,
                             timeout=600)
        assert res.returncode == 0, res.stderr[-3000:]
        return res.stdout

    where = run("-c", "import difcon_jax, difcon_jax.configs as c; print(difcon_jax.__file__, c.__file__)")
    assert all(p.startswith(str(site)) for p in where.split()), where  # the wheel, not the checkout
    overrides = [f"--config.{o}" for o in tiny_overrides(table, steps=1)]
    run("-m", "difcon_jax", "train", "--config", "quickstart", "--workdir", "w", *overrides)
    assert (elsewhere / "w" / "checkpoints").is_dir()

    x = np.arange(10, 90, 0.02)
    y = 3 + sum(500 * np.exp(-0.5 * ((x - c) / 0.05) ** 2) for c in (27.4, 31.7, 45.5, 56.5))
    (elsewhere / "p.xy").write_text("\n".join(f"{a:.2f} {b:.1f}" for a, b in zip(x, y)))
    res = json.loads(run("-m", "difcon_jax", "predict", "p.xy", "--json"))  # the packaged model
    assert len(res[0]["space_group"]) >= 1 and res[0]["space_group"][0]["p"] > 0
    res = json.loads(run("-m", "difcon_jax", "predict", "p.xy", "--model", "w", "--json"))  # the new one
    assert res[0]["crystal_system"][0]["p"] > 0

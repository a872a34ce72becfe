"""The flat space-group head (``model.flat_head``): combined with the hierarchical heads as their normalised
geometric mean (p(CS) its marginal, at any temperature), trained by the loss beside them, fitted on frozen features,
and grafted by ``difcon-jax flat-head`` onto a model folder whose every other parameter stays bit for bit."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from difcon_jax.config import default_config_path, load_config
from difcon_jax.inference.forward import predict, predict_logits
from difcon_jax.inference.model_dir import model_of
from difcon_jax.models.heads import SG_OFFSETS, SG_PER_SYSTEM, space_group_log_probs
from difcon_jax.train.flat_head import draw_rows, fit_flat_head, flat_head_probabilities
from tests.helpers.train import tiny_overrides


def _cfg(table, *extra):
    return load_config(default_config_path("quickstart"), tiny_overrides(table, steps=1, batch=4) + list(extra))


def test_flat_head_is_combined_with_the_hierarchical_heads(tiny_table):
    cfg = _cfg(tiny_table, "model.flat_head=(16,)")
    model = model_of(cfg)
    params = model.init(jax.random.key(0), jnp.zeros((1, cfg.augment.n_bins)))["params"]
    assert params["sg_flat"]["out"]["kernel"].shape == (16, 230)
    x = np.random.default_rng(0).random((3, cfg.augment.n_bins)).astype(np.float32)
    logits = predict_logits(model, params, x)
    t = 1.7
    hier = np.asarray(space_group_log_probs(logits["crystal_system"] / t, [s / t for s in logits["space_group"]]))
    flat = np.asarray(jax.nn.log_softmax(logits["space_group_flat"] / t, -1))
    want = np.exp(0.5 * (hier + flat))
    want /= want.sum(1, keepdims=True)
    got = predict(model, params, x, temperature=t)
    np.testing.assert_allclose(got["space_group"], want, rtol=2e-4, atol=1e-7)
    cs = np.stack([want[:, o - 1:o - 1 + n].sum(1) for o, n in zip(SG_OFFSETS, SG_PER_SYSTEM)], 1)
    np.testing.assert_allclose(got["crystal_system"], cs, rtol=2e-4, atol=1e-7)
    assert got["extinction_group"].shape[1] == logits["extinction_group"].shape[1]
    plain = _cfg(tiny_table)  # without the head: the hierarchical distribution as before
    pm = model_of(plain)
    pp = {k: v for k, v in params.items() if k != "sg_flat"}
    np.testing.assert_allclose(predict(pm, pp, x, temperature=t)["space_group"], np.exp(hier), rtol=2e-4, atol=1e-7)


def test_the_loss_trains_a_flat_head_beside_the_hierarchical_ones():
    from difcon_jax.train.losses import classification_losses

    rng = np.random.default_rng(1)
    out = {"crystal_system": jnp.asarray(rng.normal(size=(4, 7))),
           "extinction_group": jnp.asarray(rng.normal(size=(4, 9))),
           "space_group": tuple(jnp.asarray(rng.normal(size=(4, n))) for n in SG_PER_SYSTEM)}
    labels = {"crystal_system": jnp.array([0, 2, 6, 6]), "extinction_group": jnp.array([0, 1, 2, 3]),
              "space_group": jnp.array([1, 20, 225, 227])}
    weights = {"cs": 1.0, "eg": 1.0, "sg": 1.0}
    base, _ = classification_losses(out, labels, weights)
    flat = jnp.asarray(rng.normal(size=(4, 230)))
    loss, metrics = classification_losses({**out, "space_group_flat": flat}, labels, weights)
    logp = np.asarray(jax.nn.log_softmax(flat, -1))
    want = -np.mean(np.take_along_axis(logp, np.array([[0], [19], [224], [226]]), 1))
    np.testing.assert_allclose(float(loss) - float(base), want, rtol=1e-5)
    assert {"loss_sg_flat", "acc_sg_flat"} <= set(metrics)
    grad = jax.grad(lambda f: classification_losses({**out, "space_group_flat": f}, labels, weights)[0])(flat)
    assert np.abs(np.asarray(grad)).sum() > 0


def test_fit_flat_head_learns_separable_features_and_draws_rows():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 12)) * 3
    groups = np.array([2, 14, 62, 225, 194])
    y = rng.integers(0, 5, 3000)
    h = (centres[y] + rng.normal(size=(3000, 12))).astype(np.float32)
    head = fit_flat_head(h, groups[y], (32,), epochs=20, batch=256)
    ty = rng.integers(0, 5, 500)
    p = flat_head_probabilities((32,), head, centres[ty] + rng.normal(size=(500, 12)))
    assert p.shape == (500, 230) and np.allclose(p.sum(1), 1)
    assert np.mean(np.argmax(p, 1) + 1 == groups[ty]) > 0.95
    train = np.arange(10, 20)
    assert sorted(draw_rows(train, None, 5, 0)) == sorted(set(draw_rows(train, None, 5, 0)))  # uniform: no repeats
    cdf = np.cumsum(np.r_[np.zeros(9), 1.0])  # all the mass on the last row
    assert set(draw_rows(train, cdf, 50, 0)) == {19}


def test_flat_head_command_grows_a_model_folder(tiny_table, tmp_path, capsys):
    from difcon_jax.cli import main
    from difcon_jax.inference.model_dir import export_model, load_model
    from difcon_jax.inference.predictor import Predictor
    from difcon_jax.train.loop import train

    wd, src, out = tmp_path / "wd", tmp_path / "src", tmp_path / "grown"
    train(_cfg(tiny_table), str(wd))
    export_model(str(wd), str(src), float16=True)
    (src / "calibration.json").write_text(json.dumps({"temperature": 1.0, "uncertain_below": 0.5,
                                                                 "library_frequency": [1 / 230] * 230}))
    (src / "notes.txt").write_text("kept")
    (src / "MODEL_CARD.md").write_text("the source model's card")
    assert main(["flat-head", "--model", str(src), "--table", tiny_table, "--out", str(out), "--hidden", "16",
                 "--passes", "2", "--per-pass", "8", "--epochs", "2"]) == 0
    assert "flat head 16 fitted on 16 features" in capsys.readouterr().out
    cfg, _, grown = load_model(str(out))
    _, _, before = load_model(str(src))
    assert tuple(cfg.model.flat_head) == (16,) and set(grown) == set(before) | {"sg_flat"}
    for a, b in zip(jax.tree_util.tree_leaves(before), jax.tree_util.tree_leaves({k: grown[k] for k in before})):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with np.load(out / "params.npz") as z:
        assert z["sg_flat/out/kernel"].dtype == np.float16  # the source's storage kept
    calib = json.loads((out / "calibration.json").read_text())
    assert calib["library_frequency"] == [1 / 230] * 230 and "uncertain_below" in calib and calib["temperature"] > 0
    assert (out / "notes.txt").read_text() == "kept" and not (out / "MODEL_CARD.md").exists()
    p = Predictor.load(str(out))(np.random.default_rng(0).random((2, cfg.augment.n_bins)).astype(np.float32))
    assert np.allclose(p["space_group"].sum(1), 1, atol=1e-4)

    from_wd = tmp_path / "from_training_directory"  # its checkpoints stay behind
    assert main(["flat-head", "--model", str(wd), "--table", tiny_table, "--out", str(from_wd), "--hidden", "16",
                 "--passes", "1", "--per-pass", "8", "--epochs", "1"]) == 0
    assert not (from_wd / "checkpoints").exists() and (from_wd / "params.npz").exists()
    assert tuple(load_model(str(from_wd))[0].model.flat_head) == (16,)
    capsys.readouterr()
    assert main(["flat-head", "--model", str(src), "--table", tiny_table, "--out", str(src)]) != 0
    assert main(["flat-head", "--model", str(src), "--table", tiny_table, "--out", str(out), "--hidden", "a,b"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "not over its source" in err[0] and "--hidden 'a,b'" in err[1]


@pytest.mark.parametrize("bad", [["--passes", "0"], ["--hidden", "0"]])
def test_flat_head_command_refuses_bad_settings(bad, tmp_path, capsys):
    from difcon_jax.cli import main

    assert main(["flat-head", "--table", str(tmp_path), "--out", str(tmp_path / "o")] + bad) != 0
    assert len(capsys.readouterr().err.strip().splitlines()) == 1

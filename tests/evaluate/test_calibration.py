"""Temperature scaling fitted directly: on a model whose logits are too sharp, the fitted temperature is
above 1 and lowers the validation NLL; the threshold is a probability; the file round-trips."""

import jax
import numpy as np
import pytest

from difcon_jax.config import default_config_path, load_config
from difcon_jax.data import load_peak_table
from difcon_jax.evaluate.calibration import fit_calibration, write_calibration
from difcon_jax.inference.calibration import read_calibration
from difcon_jax.inference.model_dir import model_of
from tests.helpers.train import tiny_overrides


@pytest.fixture(scope="module")
def setup(tiny_table):
    table_dir = tiny_table
    cfg = load_config(default_config_path("quickstart"), tiny_overrides(table_dir))
    model = model_of(cfg)
    params = model.init(jax.random.key(0), np.zeros((1, cfg.augment.n_bins), np.float32))["params"]
    return cfg, model, params, load_peak_table(table_dir)


def test_overconfident_logits_get_a_temperature_above_one(setup, tmp_path):
    cfg, model, params, table = setup
    # sharpen every head: an untrained network's random logits × 50 are confidently wrong
    heads = [k for k in params if k.startswith(("cs_head", "eg_head", "sg_head"))]
    assert len(heads) == 9
    sharp = {k: jax.tree_util.tree_map(lambda x: x * 50.0, v) if k in heads else v for k, v in params.items()}
    calib = fit_calibration(cfg, model, sharp, table, n=16)
    assert calib["temperature"] > 1.0 and 0.0 <= calib["uncertain_below"] <= 1.0
    assert "simulated patterns" in calib["fitted_on"]
    write_calibration(str(tmp_path), calib)
    assert read_calibration(str(tmp_path))["temperature"] == calib["temperature"]


def test_calibration_stores_the_training_draw_and_evaluation_reports_both(setup):
    from difcon_jax.data.split import Split
    from difcon_jax.evaluate.evaluators import LabelledSet
    from difcon_jax.inference.predictor import Predictor
    from difcon_jax.inference.prior import group_frequency

    cfg, model, params, table = setup
    cfg = cfg.copy_and_resolve_references()
    cfg.data.sampling_power = 0.5  # tempered as difcon_cpu draws
    calib = fit_calibration(cfg, model, params, table, n=8)
    train_sg = np.asarray(table.space_group)[np.asarray(table.split) == Split.TRAIN]
    np.testing.assert_allclose(calib["sampling_mass"], group_frequency(train_sg, cfg.data.sampling_power))
    np.testing.assert_allclose(calib["natural_frequency"], group_frequency(train_sg, 1.0, 1.0))
    x = np.random.default_rng(0).random((3, cfg.augment.n_bins)).astype(np.float32)
    sgs = np.asarray(table.space_group)[:3]
    pred = Predictor.of(cfg, model, params, calib)
    out = LabelledSet("s", x, sgs)(pred)
    assert out["prior"] == "natural" and set(out["without_prior"]) == {"acc_cs", "acc_eg", "acc_sg", "top5_sg"}
    raw, shifted = pred(x, blend=False, prior="none"), pred(x, blend=False, prior="natural")
    np.testing.assert_allclose(shifted["space_group"].sum(1), 1.0, rtol=1e-5)
    assert not np.allclose(raw["space_group"], shifted["space_group"])
    assert "without_prior" not in LabelledSet("s", x, sgs)(Predictor.of(cfg, model, params))  # uncalibrated
    # measured patterns ('library'): without a library or its stored frequencies there is nothing to correct
    # to — the heads as trained, not the training split's natural frequencies
    assert pred.prior_applied("library") == "none"
    assert "without_prior" not in LabelledSet("m", x, sgs, prior="library")(pred)
    np.testing.assert_array_equal(pred(x, blend=False, prior="library")["space_group"], raw["space_group"])
    with_lib = Predictor.of(cfg, model, params, calib, {"space_group": np.array([225, 14]), "alpha": 0.0})
    assert with_lib.prior_applied("library") == "library"


def test_a_refitted_threshold_votes_with_training_structures_only(setup):
    """refit_uncertain (a folder whose member networks now average) fits the threshold on validation patterns
    with a library of the table's training structures only: an entry of a held-out structure would vote for
    the very structure the pattern was rendered from."""
    from difcon_jax.data.split import Split
    from difcon_jax.evaluate.calibration import refit_uncertain, training_library
    from difcon_jax.inference.predictor import Predictor

    cfg, model, params, table = setup
    split, formula, sg = (np.asarray(getattr(table, k)) for k in ("split", "formula", "space_group"))
    n = len(split)
    dim = Predictor.of(cfg, model, params)(np.zeros((1, cfg.augment.n_bins), np.float32))["representation"].shape[1]
    library = {"h": np.random.default_rng(1).normal(size=(n + 1, dim)).astype(np.float32),
               "space_group": np.append(sg, 1), "formula": np.append(formula, "Xx9"), "k": np.int32(3),
               "tau": np.float32(0.1), "alpha": np.float32(0.5)}
    kept = training_library(library, table)
    assert kept["formula"].tolist() == formula[split == Split.TRAIN].tolist()  # held-out and unknown ones gone
    assert len(kept["h"]) == len(kept["space_group"]) == int((split == Split.TRAIN).sum()) < n
    assert training_library({k: v for k, v in library.items() if k != "formula"}, table)["h"].shape[0] == n + 1
    calib = fit_calibration(cfg, model, params, table, n=8)
    out = refit_uncertain(Predictor.of(cfg, model, params, calib, library), table, n=8)
    assert 0.0 <= out["uncertain_below"] <= 1.0 and out["temperature"] == calib["temperature"]
    assert "1 networks averaged" in out["uncertain_fitted_on"] and out["fitted_on"] == calib["fitted_on"]


def test_simulated_sets_and_calibration_do_not_follow_the_eval_batch(setup):
    """The evaluation axes and the calibration are the rows' and seed's alone: a CPU folder (eval batch 64) and an
    accelerator run of it (512) score and calibrate on the same patterns (they once drew keys per eval batch)."""
    from difcon_jax.evaluate.evaluators import simulated_axes

    cfg, model, params, table = setup
    small, large = cfg.copy_and_resolve_references(), cfg.copy_and_resolve_references()
    small.eval.batch_size, large.eval.batch_size = 2, 8
    for a, b in zip(simulated_axes(small, table, ("equivariance", "training")),
                    simulated_axes(large, table, ("equivariance", "training"))):
        np.testing.assert_array_equal(a.profiles, b.profiles)
    assert fit_calibration(small, model, params, table, n=16) == fit_calibration(large, model, params, table, n=16)


def test_the_temperature_is_refined_between_grid_points():
    """A loss flat between two grid points (G's 1.68 and 1.83) is minimised between them, not at either."""
    from difcon_jax.evaluate.calibration import TEMPERATURE_GRID, _fit_temperature

    loss, t = _fit_temperature(lambda t: (np.log(t) - np.log(1.76)) ** 2)
    assert abs(t - 1.76) < 1e-3 and loss < 1e-6 and np.min(np.abs(TEMPERATURE_GRID - t)) > 0.05
    assert _fit_temperature(lambda t: t)[1] == TEMPERATURE_GRID[0]  # at the grid's edge: its end

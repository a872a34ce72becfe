"""The label-shift correction: Bayes' rule recovers the population's posterior from the training draw's, the
crystal system stays the marginal of p(SG), and a broken stored prior is one clear line."""

import json

import numpy as np
import pytest

from difcon_jax.crystal.symmetry import crystal_system_array, extinction_group_array, num_extinction_groups
from difcon_jax.errors import CheckpointError
from difcon_jax.inference.calibration import read_calibration
from difcon_jax.inference.prior import group_frequency, label_shift, library_fields, prior_fields, prior_target


def _probs(sg):
    """predict-like dict from p(SG) float[B, 230] (CS and EG its marginals)."""
    cs = np.zeros((len(sg), 7))
    np.add.at(cs.T, crystal_system_array()[1:], sg.T)
    eg = np.zeros((len(sg), num_extinction_groups()))
    np.add.at(eg.T, extinction_group_array()[1:], sg.T)
    return {"space_group": sg, "crystal_system": cs, "extinction_group": eg, "representation": np.zeros((len(sg), 4))}


def test_group_frequency_counts_tempers_and_smooths():
    f = group_frequency([2, 2, 2, 2, 14], power=0.5)
    assert f.shape == (230,) and f.sum() == pytest.approx(1.0)
    assert f[1] / f[13] == pytest.approx(2.0)  # √4 : √1
    g = group_frequency([2], 1.0, pseudo=1.0)
    assert g[1] / g[0] == pytest.approx(2.0) and (g > 0).all()


def test_bayes_rule_recovers_the_population_posterior():
    # a population of three groups with known likelihoods p(x | g); the draw saw them with other frequencies
    rng = np.random.default_rng(0)
    groups = np.array([2, 14, 225])
    like = rng.random((5, 3))
    draw, population = np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.3, 0.1])
    mass, target = np.zeros(230), np.full(230, 1e-9)
    mass[groups - 1], target[groups - 1] = draw, population
    sg = np.zeros((5, 230))
    sg[:, groups - 1] = like * draw / (like * draw).sum(1, keepdims=True)  # what a perfect network learns
    out = label_shift(_probs(sg), target, mass)
    want = like * population / (like * population).sum(1, keepdims=True)
    np.testing.assert_allclose(out["space_group"][:, groups - 1], want, rtol=1e-6)
    # the crystal system is the marginal of the corrected p(SG); the extinction groups sum to one
    cs = np.zeros((5, 7))
    np.add.at(cs.T, crystal_system_array()[1:], out["space_group"].T)
    np.testing.assert_allclose(out["crystal_system"], cs, atol=1e-12)
    np.testing.assert_allclose(out["extinction_group"].sum(1), 1.0, rtol=1e-9)
    # the same target as the draw changes nothing
    same = label_shift(_probs(sg), mass, mass)
    np.testing.assert_allclose(same["space_group"], sg, atol=1e-12)


def test_prior_target_choices():
    fields = prior_fields(np.array([2, 2, 14, 62, 62, 62]), 0.5)
    calib = {"temperature": 1.0, "uncertain_below": 0.5, **fields}
    lib = {"space_group": np.array([225, 225, 2])}
    np.testing.assert_allclose(prior_target(calib, lib, "natural"), fields["natural_frequency"])
    t = prior_target(calib, lib, "library")
    assert t[224] > t[1] > t[13] > 0  # the library's counts, smoothed
    assert prior_target(calib, None, "library") is None  # no library: the heads as trained, not the split's
    stored = dict(calib, **library_fields(np.array([225, 14])))  # what `library build` writes into the model
    for lib_or_none in (lib, None):  # the answer does not depend on whether the reference file is there
        np.testing.assert_allclose(prior_target(stored, lib_or_none, "library"), stored["library_frequency"])
    assert stored["library_frequency"][224] == stored["library_frequency"][13] > stored["library_frequency"][1]
    assert prior_target(calib, lib, "none") is None
    assert prior_target({"temperature": 1.0}, lib, "library") is None  # calibrated before priors were stored
    with pytest.raises(ValueError, match="prior 'uniform'"):
        prior_target(calib, lib, "uniform")
    assert prior_fields(np.zeros(0, int), 0.5) == {} and library_fields(np.zeros(0, int)) == {}


@pytest.mark.parametrize("bad", [[0.1] * 229, ["x"] * 230, [0.0] * 230, [float("nan")] + [0.1] * 229])
def test_a_broken_stored_prior_is_one_line(tmp_path, bad):
    fields = prior_fields(np.array([2, 14]), 0.5)
    (tmp_path / "calibration.json").write_text(json.dumps({"temperature": 1.2, "uncertain_below": 0.6, **fields,
                                                           "sampling_mass": bad}))
    with pytest.raises(CheckpointError, match="calibration.json: 'sampling_mass' must be 230") as e:
        read_calibration(str(tmp_path))
    assert "\n" not in str(e.value)


def test_a_broken_library_frequency_is_one_line(tmp_path):
    fields = dict(prior_fields(np.array([2, 14]), 0.5), library_frequency=[1.0] * 7)
    (tmp_path / "calibration.json").write_text(json.dumps({"temperature": 1.2, "uncertain_below": 0.6, **fields}))
    with pytest.raises(CheckpointError, match="calibration.json: 'library_frequency' must be 230"):
        read_calibration(str(tmp_path))


def test_the_natural_correction_at_a_strength_between_none_and_bayes():
    from difcon_jax.inference.prior import check_prior_fields, tempered_target

    rng = np.random.default_rng(1)
    sg = rng.dirichlet(np.ones(230), size=4)
    fields = prior_fields(np.array([1, 1, 1, 1, 2, 14, 14, 62, 225]), 0.5)
    t, m = np.asarray(fields["natural_frequency"]), np.asarray(fields["sampling_mass"])
    np.testing.assert_allclose(tempered_target(t, m, 1.0), t)  # full strength: Bayes' rule as before
    seen = m > 0  # groups the draw never showed keep their zero at any strength
    none = label_shift(_probs(sg), tempered_target(t, m, 0.0), m)  # zero strength: the heads as trained
    np.testing.assert_allclose(none["space_group"], sg * seen / (sg * seen).sum(1, keepdims=True), rtol=1e-9)
    half = label_shift(_probs(sg), tempered_target(t, m, 0.5), m)  # p · (t/m)^½, renormalised
    want = sg * np.sqrt(np.where(seen, t, 0) / np.where(seen, m, 1))
    np.testing.assert_allclose(half["space_group"], want / want.sum(1, keepdims=True), rtol=1e-9)
    calib = {"temperature": 1.0, "uncertain_below": 0.5, **fields, "natural_prior_strength": 0.5}
    np.testing.assert_allclose(prior_target(calib, None, "natural"), tempered_target(t, m, 0.5))
    assert check_prior_fields(calib) is None
    assert "from 0 to 1" in check_prior_fields(dict(calib, natural_prior_strength=1.5))
    assert "from 0 to 1" in check_prior_fields(dict(calib, natural_prior_strength="strong"))


def test_the_strength_fitted_by_likelihood_is_the_one_the_labels_were_drawn_with():
    from difcon_jax.evaluate.calibration import fit_prior_strength
    from difcon_jax.inference.prior import tempered_target

    rng = np.random.default_rng(2)
    draw = rng.integers(1, 231, 3000)
    fields = prior_fields(np.concatenate([draw, np.full(3000, 2), np.full(1500, 14)]), 0.5)
    t, m = np.asarray(fields["natural_frequency"]), np.asarray(fields["sampling_mass"])
    p = rng.dirichlet(np.full(230, 0.3), size=4000)  # the heads as trained
    truth = label_shift(_probs(p), tempered_target(t, m, 0.5), m)["space_group"]  # the population's posterior
    sg = np.array([rng.choice(230, p=q / q.sum()) + 1 for q in truth])
    cs, eg = crystal_system_array()[sg], extinction_group_array()[sg]
    beta, losses = fit_prior_strength(_probs(p), cs, eg, sg, fields)
    assert abs(beta - 0.5) <= 0.1 and losses[beta] < losses[1.0] and losses[beta] < losses[0.0]

"""A model folder's member networks (``members.json``): their heads are averaged, each with its own temperature
and training draw, under the folder's population, before the library's votes; a broken list is one line naming
the file."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from difcon_jax.config import default_config_path, load_config
from difcon_jax.errors import CheckpointError
from difcon_jax.files import atomic_savez, atomic_write_json
from difcon_jax.inference.model_dir import model_of

TINY = ["augment.n_bins=600", "model.widths=(4, 8)", "model.blocks=(1, 1)", "model.stem_features=4",
        "model.stem_stride=4", "model.projector_dims=(8,)", "model.head_hidden=8", "eval.batch_size=8"]


def _model_folder(path, seed: int, temperature: float, extra=()):
    """A model folder of a tiny untrained network (config.json, params.npz, calibration.json)."""
    cfg = load_config(default_config_path("quickstart"), TINY + list(extra))
    params = model_of(cfg).init(jax.random.key(seed), jnp.zeros((1, cfg.augment.n_bins)))["params"]
    os.makedirs(path, exist_ok=True)
    atomic_write_json(os.path.join(path, "config.json"), cfg.to_dict())
    atomic_savez(os.path.join(path, "params.npz"),
                 **{"/".join(k): np.asarray(v) for k, v in traverse_util.flatten_dict(params).items()})
    atomic_write_json(os.path.join(path, "calibration.json"), {"temperature": temperature, "uncertain_below": 0.5})
    return str(path)


def test_a_folder_averages_its_networks_heads(tmp_path):
    from difcon_jax.inference.predictor import MEMBERS_FILE, Predictor, add_member

    head = _model_folder(tmp_path / "m", 0, 0.5)
    alone = Predictor.load(head)
    _model_folder(tmp_path / "m" / "ln_axis", 1, 2.0, ["model.log_sin_bins=300"])
    assert add_member(head, "ln_axis") == os.path.join(head, MEMBERS_FILE)
    add_member(head, "ln_axis")  # named once
    assert json.load(open(os.path.join(head, MEMBERS_FILE))) == {"members": ["ln_axis"]}
    both = Predictor.load(head)
    assert len(both.members) == 1 and both.members[0].temperature == 2.0 and both.members[0].library is None
    x = np.random.default_rng(0).random((3, 600)).astype(np.float32)
    p_head = alone(x, blend=False, prior="none")
    p_member = Predictor.load(os.path.join(head, "ln_axis"))(x, blend=False, prior="none")
    p = both(x, blend=False, prior="none")
    for h in ("crystal_system", "extinction_group", "space_group"):
        np.testing.assert_allclose(p[h], (p_head[h] + p_member[h]) / 2, rtol=1e-5, atol=1e-7)
        assert not np.allclose(p[h], p_head[h])  # the member changes the answer
    np.testing.assert_array_equal(p["representation"], p_head["representation"])  # the library's own


def test_each_member_divides_out_its_own_draw_and_puts_in_the_folders_population(tmp_path):
    from difcon_jax.inference.predictor import Predictor, add_member
    from difcon_jax.inference.prior import label_shift

    rng = np.random.default_rng(1)
    mass_head, mass_member, folder_t, member_t = (rng.random(230) + 0.05 for _ in range(4))
    head = _model_folder(tmp_path / "m", 0, 1.0)
    _model_folder(tmp_path / "m" / "minerals", 1, 1.5)
    for where, mass, natural in [(head, mass_head, folder_t), (os.path.join(head, "minerals"), mass_member, member_t)]:
        calib = json.load(open(os.path.join(where, "calibration.json")))
        calib.update(sampling_mass=list(mass / mass.sum()), natural_frequency=list(natural / natural.sum()))
        atomic_write_json(os.path.join(where, "calibration.json"), calib)
    add_member(head, "minerals")
    folder = Predictor.load(head)
    x = rng.random((2, 600)).astype(np.float32)
    member = Predictor.load(os.path.join(head, "minerals"))
    as_trained = member(x, blend=False, prior="none")
    expected = label_shift(as_trained, folder_t / folder_t.sum(), mass_member / mass_member.sum())
    got = folder.members[0].network(x, "natural", None, folder_t / folder_t.sum())
    np.testing.assert_allclose(got["space_group"], expected["space_group"], rtol=1e-5, atol=1e-8)
    p = folder(x, blend=False, prior="natural")
    own = folder.network(x, "natural", None)
    np.testing.assert_allclose(p["space_group"], (own["space_group"] + got["space_group"]) / 2, rtol=1e-5, atol=1e-8)
    # the member's own population would give another answer: the folder's is the one asked about
    alone = member(x, blend=False, prior="natural")["space_group"]
    assert not np.allclose(alone, got["space_group"], rtol=1e-3)


def test_a_broken_member_list_is_one_line_naming_the_file(tmp_path):
    from difcon_jax.inference.predictor import MEMBERS_FILE, Predictor, add_member

    head = _model_folder(tmp_path / "m", 0, 1.0)
    where = os.path.join(head, MEMBERS_FILE)
    for text, reason in [("{not json", "unreadable member list"), ('{"members": "x"}', "must be a list"),
                         ('{"members": ["../elsewhere"]}', "not a sub-folder"), ('{"members": ["gone"]}', "is missing")]:
        with open(where, "w") as fh:
            fh.write(text)
        with pytest.raises(CheckpointError, match=reason) as e:
            Predictor.load(head)
        assert MEMBERS_FILE in str(e.value) and "\n" not in str(e.value)
    os.remove(where)
    _model_folder(tmp_path / "m" / "coarse", 1, 1.0, ["augment.n_bins=300"])
    with pytest.raises(CheckpointError, match="reads a 2θ grid"):
        add_member(head, "coarse")
    assert not os.path.exists(where)  # the refused member is not left in the list
    assert Predictor.load(head).members == ()


def test_export_adds_a_member_from_the_command_line(tmp_path, tiny_table, capsys):
    from difcon_jax.cli import main
    from difcon_jax.inference.predictor import Predictor

    # a run's folder as export reads it (its parameters as params.npz; Orbax restores are tested with training)
    wd = _model_folder(tmp_path / "run", 3, 1.0)
    os.makedirs(os.path.join(wd, "checkpoints"))
    assert main(["export", "--workdir", wd, "--out", str(tmp_path / "m")]) == 0
    assert main(["export", "--workdir", wd, "--out", str(tmp_path / "m" / "second"), "--float16",
                 "--member-of", str(tmp_path / "m"), "--table", tiny_table]) == 0
    out = capsys.readouterr().out
    assert "members.json" in out and "2 networks averaged" in out
    folder = Predictor.load(str(tmp_path / "m"))
    assert len(folder.members) == 1 and "2 networks averaged" in folder.calibration["uncertain_fitted_on"]
    assert folder.calibration["temperature"] == 1.0 and folder.members[0].calibration["uncertain_below"] == 0.5
    assert main(["export", "--workdir", wd, "--out", str(tmp_path / "elsewhere"),
                 "--member-of", str(tmp_path / "m")]) != 0
    assert "direct sub-folder" in capsys.readouterr().err
    assert main(["export", "--workdir", wd, "--out", str(tmp_path / "m"), "--member-of", str(tmp_path / "m")]) != 0
    assert "direct sub-folder" in capsys.readouterr().err
    assert main(["export", "--workdir", wd, "--out", str(tmp_path / "x"), "--table", tiny_table]) != 0
    assert "give both" in capsys.readouterr().err and not os.path.exists(tmp_path / "x")

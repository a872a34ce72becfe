"""The train step as a pure function ``(state, batch, key) -> (state, metrics)``, tested directly: one step
moves the parameters and counts, the same inputs give the same outputs, and the first step of the warm-up
(rate 0) changes nothing but the counter and the optimiser's moments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from difcon_jax.config import default_config_path, load_config
from difcon_jax.data import load_peak_table
from difcon_jax.data.split import Split
from difcon_jax.train.loop import build, device_data
from difcon_jax.train.step import init_state, learning_rate_schedule, make_train_step
from tests.helpers.train import tiny_overrides


@pytest.fixture(scope="module")
def setup(tiny_table):
    table_dir = tiny_table
    cfg = load_config(default_config_path("quickstart"), tiny_overrides(table_dir, steps=4, batch=4))
    table = load_peak_table(table_dir)
    rows = np.flatnonzero(np.asarray(table.split) == Split.TRAIN)
    model, tx = build(cfg)
    state = init_state(cfg, model, tx, jax.random.key(0))
    batch = {"index": jnp.arange(4) % len(rows), "table": device_data(table, rows)}
    return cfg, model, tx, state, batch


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


def test_one_step_moves_parameters_and_counts(setup):
    cfg, model, tx, state, batch = setup
    step = jax.jit(make_train_step(cfg, model, tx))
    # the warm-up starts at rate 0 (the optimiser counts its own updates): the second update moves
    assert float(learning_rate_schedule(cfg)(1)) > 0
    state, _ = step(state, batch, jax.random.key(0))
    new, metrics = step(state, batch, jax.random.key(1))
    assert int(new.step) == 2
    assert {"loss", "acc_cs", "acc_eg", "acc_sg", "loss_repr"} <= set(metrics)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    moved = [not np.allclose(a, b) for a, b in zip(_leaves(state.params), _leaves(new.params))]
    assert sum(moved) > len(moved) // 2
    again, metrics2 = step(state, batch, jax.random.key(1))  # pure: same inputs, same outputs
    for a, b in zip(_leaves(new.params), _leaves(again.params)):
        np.testing.assert_array_equal(a, b)
    assert float(metrics["loss"]) == float(metrics2["loss"])
    other, _ = step(state, batch, jax.random.key(2))  # another key: other views, other update
    assert any(not np.array_equal(a, b) for a, b in zip(_leaves(new.params), _leaves(other.params)))


def test_zero_learning_rate_leaves_parameters(setup):
    cfg, model, tx, state, batch = setup
    new, metrics = jax.jit(make_train_step(cfg, model, tx))(state, batch, jax.random.key(1))  # step 0: rate 0
    assert float(learning_rate_schedule(cfg)(0)) == 0.0 and np.isfinite(float(metrics["loss"]))
    for a, b in zip(_leaves(state.params), _leaves(new.params)):
        np.testing.assert_array_equal(a, b)


def test_lattice_loss_is_relative_and_skips_unknown_cells():
    from difcon_jax.models.heads import decode_reduced_cell, encode_reduced_cell
    from difcon_jax.train.losses import lattice_loss

    cells = jnp.array([[3.0, 4.0, 5.0, 90.0, 90.0, 120.0], [10.0, 12.0, 30.0, 70.0, 80.0, 85.0],
                       [np.nan] * 6])
    exact = encode_reduced_cell(jnp.nan_to_num(cells, nan=1.0))
    np.testing.assert_allclose(decode_reduced_cell(exact)[:2], cells[:2], rtol=1e-5)
    loss, m = lattice_loss(exact, cells)
    assert float(loss) == 0.0
    off = exact.at[:, :3].add(np.log(1.05))  # every edge 5 % long; the unknown third row does not count
    loss, m = lattice_loss(off, cells)
    assert float(m["cell_err"]) == pytest.approx(np.log(1.05), rel=1e-5)
    assert float(loss) == pytest.approx(np.log(1.05) / 2, rel=1e-5)


def test_lattice_head_trains_on_the_tables_reduced_cells(setup, tiny_table):
    """With ``model.lattice_head`` the step learns the table's reduced cells: the loss and its error are
    reported, and a few steps on one batch lower them."""
    cfg = load_config(default_config_path("quickstart"),
                      tiny_overrides(tiny_table, steps=12, batch=4) + ["model.lattice_head=True", "optim.learning_rate=1e-2"])
    _, _, _, _, batch = setup
    assert bool(jnp.isfinite(batch["table"].reduced_cell).all())  # the tiny table stores its cells
    model, tx = build(cfg)
    state = init_state(cfg, model, tx, jax.random.key(0))
    assert "cell_head" in state.params
    step = jax.jit(make_train_step(cfg, model, tx))
    errs = []
    for i in range(12):
        state, metrics = step(state, batch, jax.random.key(0))
        errs.append(float(metrics["cell_err"]))
    assert {"loss_cell", "cell_err"} <= set(metrics)
    assert errs[-1] < 0.75 * errs[0]


def test_heads_only_training_freezes_the_encoder_and_projector(setup, tiny_table):
    """``optim.trainable = "heads"``: after steps at a positive rate (and weight decay) the encoder and the
    projector are bit-for-bit unchanged, the heads, the residual branch and a flat head moved; an unknown value is
    refused."""
    from difcon_jax.errors import ConfigError
    from difcon_jax.train.step import FROZEN_FOR_HEADS, make_optimizer

    cfg = load_config(default_config_path("quickstart"), tiny_overrides(tiny_table, steps=4, batch=4) + [
        "optim.trainable=heads", "model.head_mlp=(16,)", "model.flat_head=(16,)", "optim.weight_decay=0.1", "optim.learning_rate=1e-2"])
    _, _, _, _, batch = setup
    model, tx = build(cfg)
    state = init_state(cfg, model, tx, jax.random.key(0))
    step = jax.jit(make_train_step(cfg, model, tx))
    new = state
    for i in range(3):
        new, metrics = step(new, batch, jax.random.key(i))
    assert np.isfinite(float(metrics["loss"]))
    for group in FROZEN_FOR_HEADS:
        for a, b in zip(_leaves(state.params[group]), _leaves(new.params[group])):
            np.testing.assert_array_equal(a, b)
    assert np.isfinite(float(metrics["loss_sg_flat"]))
    for group in ("cs_head", "sg_head_0", "head_trunk", "head_residual", "sg_flat"):
        assert any(not np.array_equal(a, b) for a, b in zip(_leaves(state.params[group]), _leaves(new.params[group])))
    cfg.optim.trainable = "encoder"
    with pytest.raises(ConfigError, match="optim.trainable 'encoder' is not one of all, heads"):
        make_optimizer(cfg)

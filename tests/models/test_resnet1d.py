import jax
import jax.numpy as jnp
import numpy as np
import pytest

from difcon_jax.models import SG_PER_SYSTEM, space_group_log_probs
from difcon_jax.train.losses import barlow_twins_loss, cross_entropy, nt_xent_loss


def test_sg_table_covers_230():
    assert sum(SG_PER_SYSTEM) == 230


def test_hierarchical_space_group_probabilities():
    key = jax.random.key(0)
    cs = jax.random.normal(key, (4, 7))
    sg = tuple(jax.random.normal(jax.random.fold_in(key, k), (4, n)) for k, n in enumerate(SG_PER_SYSTEM))
    p = jnp.exp(space_group_log_probs(cs, sg))
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)
    # marginal over each system's block equals p(CS)
    starts = np.concatenate([[0], np.cumsum(SG_PER_SYSTEM)])
    marg = np.stack([p[:, a:b].sum(-1) for a, b in zip(starts[:-1], starts[1:])], -1)
    np.testing.assert_allclose(marg, jax.nn.softmax(cs, -1), rtol=1e-5)


def test_barlow_twins_matches_formula():
    rng = np.random.default_rng(0)
    za, zb = rng.normal(size=(16, 5)), rng.normal(size=(16, 5))
    na = (za - za.mean(0)) / za.std(0)
    nb = (zb - zb.mean(0)) / zb.std(0)
    c = na.T @ nb / 16
    expected = ((1 - np.diag(c)) ** 2).sum() + 0.01 * ((c**2).sum() - (np.diag(c) ** 2).sum())
    assert float(barlow_twins_loss(jnp.asarray(za), jnp.asarray(zb), 0.01)) == pytest.approx(expected, rel=1e-4)
    # identical, decorrelated views: the loss is (almost) zero
    q, _ = np.linalg.qr(rng.normal(size=(64, 8)))
    z = jnp.asarray(q - q.mean(0))
    assert float(barlow_twins_loss(z, z, 0.005)) < 0.05


def test_nt_xent_prefers_partners():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(8, 16))
    good = float(nt_xent_loss(jnp.asarray(z), jnp.asarray(z + 0.01 * rng.normal(size=z.shape)), 0.1))
    bad = float(nt_xent_loss(jnp.asarray(z), jnp.asarray(rng.normal(size=z.shape)), 0.1))
    assert good < 0.1 < bad
    assert float(cross_entropy(jnp.array([[0.0, 100.0]]), jnp.array([1]))) < 1e-6


def test_model_shapes_and_batch_agnostic_predict():
    from difcon_jax.inference.forward import predict
    from difcon_jax.models.resnet1d import DifconModel, ResNet1D

    model = DifconModel(ResNet1D(widths=(8, 16), blocks=(1, 1), stem_features=8), num_extinction_groups=112,
                        projector_dims=(32, 16), head_hidden=16)
    params = model.init(jax.random.key(0), jnp.zeros((1, 1200)))["params"]
    out = model.apply({"params": params}, jnp.zeros((3, 1200)))
    assert out["representation"].shape == (3, 16) and out["projection"].shape == (3, 16)
    assert out["extinction_group"].shape == (3, 112)
    x = np.random.default_rng(0).random((5, 1200)).astype(np.float32)
    full = predict(model, params, x)
    one = predict(model, params, x[:1])
    three = predict(model, params, x[:3], max_batch=2)
    np.testing.assert_allclose(full["space_group"][:1], one["space_group"], atol=1e-6)
    np.testing.assert_allclose(full["crystal_system"][:3], three["crystal_system"], atol=1e-6)
    assert full["space_group"].shape == (5, 230)
    np.testing.assert_allclose(full["space_group"].sum(1), 1, rtol=1e-5)


def test_model_is_built_from_the_config_fields_by_name():
    import ml_collections

    from difcon_jax.models.heads import HEADS
    from difcon_jax.models.resnet1d import build_model

    m = ml_collections.ConfigDict(dict(widths=[8, 8], blocks=[1, 1], stem_features=8, stem_stride=2, kernel=3,
                                       projector_dims=[16], head_hidden=8, dtype="float32"))
    model = build_model(m, 112)
    assert model.encoder.widths == (8, 8) and model.encoder.kernel == 3 and model.head_hidden == 8
    out = model.apply(model.init(jax.random.key(0), jnp.zeros((2, 64))), jnp.zeros((2, 64)))
    assert set(HEADS) <= set(out) and out["crystal_system"].shape == (2, 7) and len(out["space_group"]) == 7
    m.unlock()
    m.widht = (8,)
    with pytest.raises(ValueError, match="unknown field.*widht"):
        build_model(m, 112)


def test_attention_block_knows_where_a_peak_is():
    """The plain ResNet's mean pool cannot tell a peak at 30° from one at 50° (shifted by a multiple of its
    total stride, the pooled features are the same); with a trained (non-zero) global attention block the
    place changes the representation — the position features reach it."""
    from flax import traverse_util

    from difcon_jax.models.resnet1d import build_model

    base = dict(widths=(4, 8), blocks=(1, 1), stem_features=4, projector_dims=(8,), head_hidden=8)
    plain, grown = build_model(base, 5), build_model(dict(base, attention_layers=1), 5)
    n, stride = 1024, 16  # stem 4 · pool 2 · one strided stage 2
    x = jnp.zeros((2, n)).at[0, 384].set(1.0).at[1, 384 + 16 * stride].set(1.0)
    p_plain = plain.init(jax.random.key(0), x)["params"]
    r = plain.apply({"params": p_plain}, x)["representation"]
    np.testing.assert_allclose(r[0], r[1], atol=1e-5)
    flat = traverse_util.flatten_dict(grown.init(jax.random.key(0), x)["params"], sep="/")
    keys = jax.random.split(jax.random.key(3), len(flat))
    flat = {k: (0.3 * jax.random.normal(kk, v.shape) if k.endswith(("out/kernel", "mlp_out/kernel")) else v)
            for (k, v), kk in zip(flat.items(), keys)}
    r = grown.apply({"params": traverse_util.unflatten_dict(flat, sep="/")}, x)["representation"]
    assert float(jnp.abs(r[0] - r[1]).max()) > 1e-3

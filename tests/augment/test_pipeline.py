"""The composed pipeline: determinism, vmap = loop, finite at extreme parameters, one compilation per
shape, parameter ranges, Latin hypercube strata, and the invariance config's disjointness."""

import glob
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from difcon_jax.augment import Peaks, latin_hypercube, make_augment_batch, make_simulate, make_two_views
from difcon_jax.augment import params as P
from difcon_jax.config import CONFIG_DIR, load_config


@pytest.fixture(scope="module")
def cfg():
    c = load_config(os.path.join(CONFIG_DIR, "augment_table1.py"))
    c.unlock()
    c.n_bins = 3000  # 0–120° at 0.04°: same code paths, faster tests
    c.render_stride = 8
    return c


def toy_batch(b=3, p=16):
    rng = np.random.default_rng(0)
    tt = np.sort(rng.uniform(10, 110, (b, p)), axis=1).astype(np.float32)
    inten = rng.uniform(0, 100, (b, p)).astype(np.float32)
    inten[:, -3:] = 0  # padding
    c2 = rng.uniform(0, 1, (b, p, 4)).astype(np.float32)
    w = np.zeros((b, p, 4), np.float32)
    w[..., 0] = 1
    return Peaks(jnp.asarray(tt), jnp.asarray(inten), jnp.asarray(c2), jnp.asarray(w))


def test_every_config_loads():
    files = sorted(glob.glob(os.path.join(CONFIG_DIR, "*.py")))
    files = [f for f in files if not f.endswith("__init__.py")]
    assert files
    for f in files:
        assert load_config(f) is not None


def test_misspelt_override_is_a_clear_error():
    with pytest.raises(ValueError, match="no config key 'ranges.zero_shfit'"):
        load_config(os.path.join(CONFIG_DIR, "augment_table1.py"), ["ranges.zero_shfit=((0, 1),)"])
    c = load_config(os.path.join(CONFIG_DIR, "augment_table1.py"), ["n_bins=6000"])
    assert c.n_bins == 6000


def test_invariance_ranges_are_disjoint_from_training():
    train = load_config(os.path.join(CONFIG_DIR, "augment_table1.py"))
    test = load_config(os.path.join(CONFIG_DIR, "augment_invariance.py"))
    assert set(train.ranges.keys()) == set(test.ranges.keys())
    for name in train.ranges.keys():
        assert P.ranges_overlap(train.ranges[name], test.ranges[name]) == 0.0, name
        assert train.ranges[name] != test.ranges[name], name
    assert not {s[0] for s in train.sources} & {s[0] for s in test.sources}


def test_params_within_ranges_and_lhs(cfg):
    params = P.sample_params_batch(jax.random.key(0), 64, cfg)
    for name in cfg.ranges.keys():
        iv = np.asarray(cfg.ranges[name]).reshape(-1, 2)
        v = np.asarray(params[name])
        inside = np.zeros(len(v), bool)
        for lo, hi in iv:
            inside |= (v >= lo - 1e-5 * abs(lo)) & (v <= hi + 1e-5 * abs(hi))
        assert inside.all(), name
    assert {round(float(v), 4) for v in np.asarray(params["lambda1"])} <= {round(s[1], 4) for s in cfg.sources}
    u = np.asarray(latin_hypercube(jax.random.key(1), 50, 3))
    for j in range(3):
        assert sorted(np.floor(u[:, j] * 50).astype(int)) == list(range(50))
    eta = np.asarray(params["eta"])
    lo, hi = cfg.ranges["eta"][0]
    assert sorted(np.floor((eta - lo) / (hi - lo) * 64).astype(int)) == list(range(64))  # LHS strata


def test_two_intervals_are_both_used():
    test = load_config(os.path.join(CONFIG_DIR, "augment_invariance.py"))
    v = np.asarray(jax.vmap(lambda k: P.sample_params(k, test))(jax.random.split(jax.random.key(2), 200))["zero_shift"])
    assert (v < -0.1).any() and (v > 0.1).any() and not ((v > -0.1) & (v < 0.1)).any()


def test_determinism_vmap_equals_loop_and_no_retrace(cfg):
    traces = []
    simulate = make_simulate(cfg)

    def counted(key, peaks, params):
        traces.append(1)
        return simulate(key, peaks, params)

    sim = jax.jit(counted)
    batch = toy_batch()
    params = P.sample_params_batch(jax.random.key(3), 3, cfg)
    keys = jax.random.split(jax.random.key(4), 3)
    rows = [sim(keys[i], jax.tree_util.tree_map(lambda a: a[i], batch), jax.tree_util.tree_map(lambda a: a[i], params))
            for i in range(3)]
    assert len(traces) == 1  # one compilation for one shape
    vm = jax.jit(jax.vmap(simulate))(keys, batch, params)
    np.testing.assert_allclose(np.stack(rows), vm, atol=5e-4)  # float32, differently fused
    again = jax.jit(jax.vmap(simulate))(keys, batch, params)
    np.testing.assert_array_equal(vm, again)
    assert vm.shape == (3, cfg.n_bins) and float(vm.max()) == pytest.approx(1.0)


def test_two_views_differ_but_share_structure(cfg):
    a, b = jax.jit(make_two_views(cfg))(jax.random.key(5), toy_batch())
    assert a.shape == b.shape and not np.allclose(a, b)
    c, _ = jax.jit(make_two_views(cfg))(jax.random.key(5), toy_batch())
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("config_name", ["augment_table1.py", "augment_invariance.py"])
@pytest.mark.parametrize("end", [0, 1])
def test_finite_at_extreme_parameters(cfg, config_name, end):
    c = load_config(os.path.join(CONFIG_DIR, config_name))
    c.unlock()
    c.n_bins, c.render_stride = cfg.n_bins, cfg.render_stride
    params = P.sample_params(jax.random.key(0), c)
    for name in c.ranges.keys():
        iv = np.asarray(c.ranges[name]).reshape(-1, 2)
        params[name] = jnp.float32(iv[0, 0] if end == 0 else iv[-1, 1])
    y = jax.jit(make_simulate(c))(jax.random.key(1), jax.tree_util.tree_map(lambda a: a[0], toy_batch()), params)
    assert bool(jnp.all(jnp.isfinite(y))) and float(y.max()) <= 1.0
    empty = Peaks(jnp.zeros(16), jnp.zeros(16), jnp.zeros((16, 4)), jnp.zeros((16, 4)))
    assert bool(jnp.all(jnp.isfinite(jax.jit(make_simulate(c))(jax.random.key(1), empty, params))))


def test_augment_batch_runs_under_jit(cfg):
    y = jax.jit(make_augment_batch(cfg))(jax.random.key(0), toy_batch(4))
    assert y.shape == (4, cfg.n_bins) and bool(jnp.all(jnp.isfinite(y)))


def test_invariance_axis_keeps_the_models_grid_and_takes_the_held_out_ranges():
    from difcon_jax.config import upgrade
    from difcon_jax.evaluate.evaluators import invariance_augment

    held = load_config(os.path.join(CONFIG_DIR, "augment_invariance.py"))
    for name in ("quickstart.py", "difcon_cpu.py", "difcon.py"):
        cfg = load_config(os.path.join(CONFIG_DIR, name))
        inv = invariance_augment(cfg)
        for k in ("n_bins", "two_theta_max", "render_stride", "lambda_ref", "background_removal_deg"):
            assert inv[k] == cfg.augment.get(k), (name, k)
        assert inv.ranges.to_dict() == held.ranges.to_dict() and tuple(inv.sources) == tuple(held.sources)
        # a config.json saved before the ranges were embedded names the config instead: same result
        old = cfg.to_dict()
        old["eval"].pop("invariance")
        old["eval"]["invariance_config"] = "augment_invariance"
        assert invariance_augment(upgrade(old)).to_dict() == inv.to_dict()


@pytest.mark.parametrize("batch,chunk", [(8, 2), (5, 2)])
def test_chunked_rendering_is_the_vmap(cfg, batch, chunk):
    """make_simulate_batch (per-peak and per-bin stages vmapped, the renderer in groups of `chunk`) gives
    vmap(make_simulate) example for example, also when the batch does not divide into groups."""
    from difcon_jax.augment import make_simulate_batch, sample_params_batch, vmap_in_chunks

    c = cfg.copy_and_resolve_references()
    c.augment_chunk = chunk
    peaks = toy_batch(batch)
    keys = jax.random.split(jax.random.key(2), batch)
    params = sample_params_batch(jax.random.key(3), batch, c)
    ref = jax.jit(jax.vmap(make_simulate(c)))(keys, peaks, params)
    out = jax.jit(make_simulate_batch(c))(keys, peaks, params)
    np.testing.assert_allclose(out, ref, atol=2e-6)
    x = jnp.arange(batch * 3.0).reshape(batch, 3)
    np.testing.assert_array_equal(jax.jit(vmap_in_chunks(lambda r: r * 2 + r.sum(), chunk))(x), x * 2 + x.sum(1, keepdims=True))


def test_render_chunk_auto_resolves_by_backend(cfg):
    from difcon_jax.augment.pipeline import CPU_RENDER_CHUNK, render_chunk

    c = cfg.copy_and_resolve_references()
    assert c.augment_chunk == -1  # the shipped default: auto
    assert render_chunk(c) == (CPU_RENDER_CHUNK if jax.default_backend() == "cpu" else 0)
    c.augment_chunk = 0
    assert render_chunk(c) == 0


def test_render_set_is_the_batch_pipeline_compiled_once_per_config(cfg, tiny_table):
    """render_set (rows gathered on the host, one jitted pipeline per config in the process) gives the batched
    pipeline on the rows gathered on the device, block for block with the same keys and padding."""
    from difcon_jax.augment import device_table, gather
    from difcon_jax.augment.render import _jitted_augment, render_set
    from difcon_jax.data.peak_table import load_peak_table

    table = load_peak_table(tiny_table)
    rows = np.array([3, 1, 7, 2, 9])
    got = render_set(table, rows, cfg, seed=5, block=4)
    augment, dev = jax.jit(make_augment_batch(cfg)), device_table(table.subset(rows))
    ref = [np.asarray(augment(jax.random.fold_in(jax.random.key(5), i), gather(dev, jnp.asarray(np.resize(idx, 4)))))
           [:len(idx)] for i, idx in ((0, np.arange(4)), (4, np.arange(4, 5)))]
    np.testing.assert_array_equal(got, np.concatenate(ref))
    assert got.shape == (5, cfg.n_bins) and np.isfinite(got).all()
    same, other = cfg.copy_and_resolve_references(), cfg.copy_and_resolve_references()
    other.render_stride = 4
    assert _jitted_augment(same) is _jitted_augment(cfg) and _jitted_augment(other) is not _jitted_augment(cfg)

"""The counter-based hash stream behind the detector noise: a standard normal in moments, tails and
independence, reproducible from its key, and different keys give unrelated streams."""

import jax
import numpy as np
import pytest
from scipy import stats

from difcon_jax.augment.noise_stream import hash_bits, hash_normal, lowbias32


def test_lowbias32_is_a_bijection_on_a_sample():
    x = jax.numpy.arange(1 << 16, dtype=jax.numpy.uint32) * jax.numpy.uint32(65537)
    assert len(np.unique(np.asarray(lowbias32(x)))) == 1 << 16


def test_normal_moments_tails_and_independence():
    z = np.asarray(hash_normal(jax.random.key(0), (1_000_000,)), np.float64)
    assert abs(z.mean()) < 0.005 and z.var() == pytest.approx(1.0, abs=0.005)
    assert abs(stats.skew(z)) < 0.01 and stats.kurtosis(z) == pytest.approx(0.0, abs=0.03)  # excess kurtosis
    assert np.abs(z).max() <= 4.5  # the 16-bit grid truncates at 4.42 σ
    assert (np.abs(z) > 3).mean() == pytest.approx(2 * stats.norm.sf(3), rel=0.1)
    # Kolmogorov–Smirnov against N(0, 1) on a sample
    assert stats.kstest(z[:200_000], "norm").pvalue > 1e-3
    for lag in (1, 2, 16, len(z) // 2):  # neighbouring values, and the two halves of one word (n/2 apart)
        assert abs(np.corrcoef(z[:-lag], z[lag:])[0, 1]) < 0.01, lag


def test_keys_reproduce_and_separate():
    a = np.asarray(hash_normal(jax.random.key(7), (12000,)))
    np.testing.assert_array_equal(a, np.asarray(hash_normal(jax.random.key(7), (12000,))))
    b = np.asarray(hash_normal(jax.random.key(8), (12000,)))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.04
    # not shifted copies of each other either (a counter hash with a plain additive seed could be)
    words = [np.asarray(hash_bits(k, 4096)) for k in jax.random.split(jax.random.key(1), 64)]
    assert len(np.unique(np.concatenate(words))) > 0.999 * 64 * 4096
    # batched (vmap) draws are the per-example draws
    keys = jax.random.split(jax.random.key(3), 4)
    vm = np.asarray(jax.vmap(lambda k: hash_normal(k, (100,)))(keys))
    np.testing.assert_array_equal(vm[2], np.asarray(hash_normal(keys[2], (100,))))

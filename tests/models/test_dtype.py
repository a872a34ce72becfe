"""Named encoder modules (the keys of exported params) and the bf16 compute dtype."""

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.config import default_config_path, load_config
from difcon_jax.train.loop import build


def test_named_modules_and_bf16_compute_with_f32_params():
    cfg = load_config(default_config_path("quickstart"), ["model.blocks=(2, 1, 1, 1)", "augment.n_bins=1600",
                                                          "model.widths=(8, 8, 8, 8)", "model.stem_features=8",
                                                          "model.projector_dims=(16, 16)", "model.head_hidden=8"])
    model, _ = build(cfg)
    x = jax.random.uniform(jax.random.key(0), (2, cfg.augment.n_bins))
    params = model.init(jax.random.key(1), x)["params"]
    assert list(params["encoder"]) == ["stem_conv", "stem_norm", "stage0_block0", "stage0_block1", "stage1_block0",
                                       "stage2_block0", "stage3_block0", "final_norm"]
    assert set(params["encoder"]["stage1_block0"]) == {"norm1", "conv1", "norm2", "conv2", "shortcut"}
    cfg.model.dtype = "bfloat16"
    bf16, _ = build(cfg)
    out32, out16 = model.apply({"params": params}, x), bf16.apply({"params": params}, x)
    assert all(a.dtype == jnp.float32 for a in jax.tree_util.tree_leaves(params))
    assert out16["representation"].dtype == jnp.float32 and out16["crystal_system"].dtype == jnp.float32
    np.testing.assert_allclose(out16["representation"], out32["representation"], rtol=0.1, atol=0.05)

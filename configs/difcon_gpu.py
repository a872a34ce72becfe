"""DIFCON on real structures for one lent accelerator (H100/H200, ~9 minutes of training in one call).

The CPU recipe's data and input path (augment_real.py: 0–90° grid, measured-like noise, shared SNIP
removal; tempered space-group sampling; classification on both views) with a network and batch sized for
a GPU, bf16 compute (parameters and losses float32). Run through launch/device_train.sh, which carries a
compact peak table (≤ 48 MiB) and returns params ≤ 16 MiB per file.
"""

from difcon_jax.configs import difcon_cpu


def get_config():
    c = difcon_cpu.get_config()
    c.num_steps = 12000
    c.batch_size = 256
    c.log_every = 100
    c.ckpt_every = 2000
    c.ckpt_keep_period = 2000
    c.data.workers = 16
    c.model.widths = (64, 128, 256, 512)
    c.model.blocks = (2, 2, 2, 2)
    c.model.stem_features = 64
    c.model.stem_stride = 4
    c.model.projector_dims = (1024, 1024)
    c.model.head_hidden = 512
    c.model.dtype = "bfloat16"
    c.augment.augment_chunk = 0  # one wide vmap: the accelerator wants the whole batch at once
    c.optim.warmup_steps = 1000
    c.optim.learning_rate = 2e-3
    c.eval.num_structures = 2000
    c.eval.batch_size = 512
    return c

"""The embedded default: DIFCON end-to-end on a 2-core CPU from nothing (README's command 1; its times are there).

Synthesises random pyxtal crystals into WORKDIR/data, trains a small network, leaves a checkpoint and an
evaluation summary (equivariance and invariance axes) in WORKDIR.
"""

from difcon_jax.configs import difcon


def get_config():
    c = difcon.get_config()
    c.num_steps = 1050  # 1,250 took 8 min 36 s from a clean clone on a 2-core machine (over ~8); README has the times
    c.batch_size = 32
    c.log_every = 25
    c.ckpt_every = 100
    c.data.synth_count = 1500
    c.data.synth_max_atoms = 32
    c.data.workers = 2
    c.data.max_peaks = 96
    c.model.widths = (16, 32, 64, 96)
    c.model.blocks = (1, 1, 1, 1)
    c.model.stem_features = 16
    c.model.projector_dims = (256, 256)
    c.model.head_hidden = 128
    c.optim.warmup_steps = 50
    c.optim.learning_rate = 2e-3
    c.eval.num_structures = 500
    c.eval.batch_size = 64
    # the 0–90° grid of 0.02° bins the shipped recipe uses (configs/augment_real.py): what laboratory patterns
    # cover, and 2.7× fewer bins than 0–120° at 0.01° for the 2-core budget
    c.augment.n_bins = 4500
    c.augment.two_theta_max = 90.0
    c.augment.render_stride = 20
    c.model.stem_stride = 4  # 0.08° of 2θ per position after the stem (the 0.02° bins / 4)
    return c

"""SimCLR: DIFCON with NT-Xent instead of Barlow Twins (the paper's comparison)."""

from difcon_jax.configs import difcon


def get_config():
    c = difcon.get_config()
    c.mode = "simclr"
    c.loss.temperature = 0.1
    c.model.projector_dims = (2048, 2048, 128)
    return c

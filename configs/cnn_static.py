"""CNNstatic: one fixed augmentation per structure (a static dataset), classification heads only."""

from difcon_jax.configs import difcon


def get_config():
    c = difcon.get_config()
    c.mode = "cnn_static"
    return c

"""CNNaug: the same network trained on fresh on-the-fly augmentations, classification heads only."""

from difcon_jax.configs import difcon


def get_config():
    c = difcon.get_config()
    c.mode = "cnn_aug"
    return c

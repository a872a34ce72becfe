"""DIFCON with the paper's two phases: Barlow Twins pre-training, then fine-tuning with the heads."""

from difcon_jax.configs import difcon


def get_config():
    c = difcon.get_config()
    c.loss.schedule = "pretrain_finetune"
    c.loss.pretrain_steps = c.num_steps // 2
    c.loss.w_repr = 0.0  # fine-tuning phase: classification only
    return c

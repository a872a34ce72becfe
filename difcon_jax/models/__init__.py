"""1D ResNet encoder, Barlow Twins / SimCLR projector and the hierarchical classification heads."""

from difcon_jax.models.heads import SG_PER_SYSTEM, space_group_log_probs
from difcon_jax.models.resnet1d import DifconModel, ResNet1D

__all__ = ["DifconModel", "ResNet1D", "SG_PER_SYSTEM", "space_group_log_probs"]

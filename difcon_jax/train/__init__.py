"""Losses, the pure train step, data-parallel sharding, checkpoints, the training loop, inference."""

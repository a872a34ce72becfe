"""Training: losses, the pure train step, data-parallel sharding and the training loop (checkpoints live in
:mod:`difcon_jax.checkpoint`, inference in :mod:`difcon_jax.inference`)."""

"""The configs of difcon-jax: ``get_config()`` files, installed as ``difcon_jax.configs``.

In the repository they live at the top level (``configs/``); pyproject.toml maps them into the package so
a wheel carries them. Configs import each other as ``from difcon_jax.configs import difcon``; a config of
your own, anywhere on disk, can do the same and change what differs.
"""

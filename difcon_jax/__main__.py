"""``python -m difcon_jax`` is the ``difcon-jax`` command."""

from difcon_jax.cli import entry

if __name__ == "__main__":
    entry()

"""`python -m difcon_jax` is the same as the `difcon-jax` command."""

from difcon_jax.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

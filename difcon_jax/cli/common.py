"""What every command shares: one-line errors."""

from __future__ import annotations

import sys


def err(msg: str) -> int:
    """Print ``difcon-jax: msg`` on stderr; the exit code of a refused input (2)."""
    print(f"difcon-jax: {msg}", file=sys.stderr)
    return 2

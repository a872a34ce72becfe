"""What every command shares: one-line errors."""

from __future__ import annotations

import sys


def err(msg: str) -> int:
    """Print ``difcon-jax: msg`` on stderr; the exit code of a refused input (2)."""
    print(f"difcon-jax: {msg}", file=sys.stderr)
    return 2


def check_plot_folder(path: str | None) -> None:
    """FileNotFoundError before any work when ``--plot`` names a file in a folder that does not exist."""
    import os

    if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise FileNotFoundError(f"--plot {path}: the folder does not exist")


def report_file_errors(errors) -> None:
    """One stderr line per skipped file: ``difcon-jax: <file>: <reason>``."""
    for f, reason in errors:
        print(f"difcon-jax: {reason}" if reason.startswith(f) else f"difcon-jax: {f}: {reason}", file=sys.stderr)

"""What every command shares: one-line errors."""

from __future__ import annotations

import os
import sys

from difcon_jax.errors import InputError


def err(msg: str, code: int = 2) -> int:
    """Print ``difcon-jax: msg`` on stderr; returns the exit code (2: a refused input)."""
    print(f"difcon-jax: {msg}", file=sys.stderr)
    return code


def check_plot_folder(path: str | None) -> None:
    """InputError before any work when ``--plot`` names a file in a folder that does not exist."""
    if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise InputError(f"--plot {path}", "the folder does not exist")


def report_file_errors(errors) -> None:
    """One stderr line per skipped file: ``difcon-jax: <file>: <reason>``."""
    for f, reason in errors:
        print(f"difcon-jax: {reason}" if reason.startswith(f) else f"difcon-jax: {f}: {reason}", file=sys.stderr)

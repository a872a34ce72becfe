"""What every command shares: one-line errors, strict JSON output."""

from __future__ import annotations

import json
import math
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


def strict_json(obj) -> str:
    """``obj`` as standard JSON: a non-finite number (an unknown similarity, an undefined fraction) is written
    ``null`` — Python's default ``NaN`` is not JSON, and jq or a browser refuses the whole output over it."""
    def clean(v):
        if isinstance(v, float):
            return v if math.isfinite(v) else None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v
    return json.dumps(clean(obj), allow_nan=False)

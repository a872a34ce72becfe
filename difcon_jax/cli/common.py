"""What every command shares: one-line errors, strict JSON output, XLA's compiled programs kept between runs."""

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


def use_compilation_cache() -> str | None:
    """Keep XLA's compiled programs on disk between runs of the command (JAX's persistent compilation cache):
    most of a one-file ``identify`` is compiling its fits (~20 s the first time on a 2-core machine, ~10 s once
    cached; the rest is importing, loading and JAX's tracing). The folder: ``$DIFCON_JAX_CACHE``, else
    ``$XDG_CACHE_HOME/difcon-jax/xla`` (``~/.cache/difcon-jax/xla``); ``DIFCON_JAX_CACHE=off`` turns it off, and
    a ``JAX_COMPILATION_CACHE_DIR`` already set is left to JAX. A cached program is the one XLA would build:
    answers are unchanged. Returns the folder in use, or None. Call before anything is compiled."""
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return os.environ["JAX_COMPILATION_CACHE_DIR"]
    folder = os.environ.get("DIFCON_JAX_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "difcon-jax", "xla")
    if folder.lower() in ("off", "0", "none", "no"):
        return None
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:  # a read-only home: compile every time, as without the cache
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # every program: the fits are many small ones
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder

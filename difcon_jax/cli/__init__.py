"""The ``difcon-jax`` command: thin argument parsing over importable functions.

One module per group of commands (argument parsing and the call, no logic):

* :mod:`.structures` — ``simulate`` (one CIF), ``dataset build`` / ``dataset synth`` (peak tables), ``dataset pack`` / ``dataset unpack`` (one file to carry)
* :mod:`.training` — ``train``, ``export``, ``curve``, ``experiment``, ``augment figure``
* :mod:`.predicting` — ``predict`` (measured files), ``evaluate`` (test axes, labelled folders)
* :mod:`.matching` — ``identify`` (named phases, refined cells, fits), ``library build`` (reference databases)

Every user-facing failure is one line on stderr (``difcon-jax: <file>: <problem>``) and exit code 2 (3 for a
training run stopped by a non-finite loss or an unreadable checkpoint): commands raise
:class:`~difcon_jax.errors.DifconError` and :func:`main` turns it into that line, once, for all of them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from difcon_jax.cli import matching, predicting, structures, training
from difcon_jax.cli.common import err as _err
from difcon_jax.cli.common import use_compilation_cache
from difcon_jax.errors import DifconError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (``--config.a.b=value`` overrides are taken out before)."""
    p = argparse.ArgumentParser(prog="difcon-jax", description="Powder X-ray diffraction patterns → crystal system, "
                                "extinction group and space group (DIFCON in JAX/Flax)")
    sub = p.add_subparsers(dest="cmd", required=True)
    for module in (structures, training, predicting, matching):
        module.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # ml-collections style overrides: --config.a.b=value (anything after --config.)
    overrides = [a[len("--config."):] for a in argv if a.startswith("--config.")]
    argv = [a for a in argv if not a.startswith("--config.")]
    args = build_parser().parse_args(argv)
    args.overrides = overrides
    _log_to_stderr()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return _err("interrupted")
    except BrokenPipeError:  # `difcon-jax simulate x.cif | head -1`: the reader left, not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except DifconError as e:
        return _err(str(e), getattr(e, "exit_code", 2))
    except (FileNotFoundError, ValueError) as e:  # library errors with the path in the message (os, numpy, gemmi)
        return _err(" ".join(str(e).split()))


def entry() -> None:
    """The console script: :func:`main`, then exit. After a failure's one line nothing else reaches the
    terminal: worker threads of a failed Orbax restore print tracebacks of their own until the process ends.
    Compiled programs are kept on disk between runs (:func:`~difcon_jax.cli.common.use_compilation_cache`)."""
    use_compilation_cache()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if code:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    raise SystemExit(code)


class _CurrentStderr(logging.StreamHandler):
    """A handler that writes to whatever ``sys.stderr`` is when a record comes (redirected or captured)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ sets it; the property always answers sys.stderr
        pass


class _OneLine(logging.Formatter):
    def format(self, record):
        level = "" if record.levelno < logging.WARNING else f"{record.levelname} "
        return f"difcon-jax: {level}{' '.join(record.getMessage().split())}"


def _log_to_stderr() -> None:
    """Library modules log (``logging.getLogger(__name__)``); the command shows INFO and above on stderr, one
    line each, as ``difcon-jax: [WARNING ]message``."""
    root = logging.getLogger("difcon_jax")
    if not any(getattr(h, "_difcon", False) for h in root.handlers):
        handler = _CurrentStderr()
        handler._difcon = True
        handler.setFormatter(_OneLine())
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False  # libraries (pyxtal, absl) configure the root logger: one line per record, ours


if __name__ == "__main__":
    entry()

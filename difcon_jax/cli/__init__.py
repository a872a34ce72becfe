"""The ``difcon-jax`` command: thin argument parsing over importable functions.

One module per group of commands (argument parsing and the call, no logic):

* :mod:`.structures` — ``simulate`` (one CIF), ``dataset build`` / ``dataset synth`` (peak tables)
* :mod:`.training` — ``train``, ``export``, ``curve``, ``experiment``, ``augment figure``
* :mod:`.predicting` — ``predict`` (measured files), ``evaluate`` (test axes, labelled folders)
* :mod:`.matching` — ``identify`` (named phases, refined cells, fits), ``library build`` (reference databases)

Every user-facing failure is one line on stderr (``difcon-jax: <file>: <problem>``) and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from difcon_jax.cli.common import err as _err


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (``--config.a.b=value`` overrides are taken out before)."""
    from difcon_jax.cli import matching, predicting, structures, training

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
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return _err("interrupted")
    except BrokenPipeError:  # `difcon-jax simulate x.cif | head -1`: the reader left, not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (FileNotFoundError, ValueError) as e:
        return _err(" ".join(str(e).split()))


if __name__ == "__main__":
    raise SystemExit(main())

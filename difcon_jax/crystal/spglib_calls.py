"""spglib calls whose failure is ``None``, under spglib's current error handling.

spglib ≥ 2.5 keeps its old handling (a failed call returns ``None``) only behind ``spglib.error.OLD_ERROR_HANDLING``,
warning on every call, and spglib 3 will raise ``SpglibError`` instead. Every caller here reads a failure as
``None``: :func:`spglib_or_none` asks for the new handling for the length of one call, catches its error, and puts
the caller's setting back, so a user's own spglib calls in the same process keep theirs.
"""

from __future__ import annotations

import spglib
import spglib.error


def spglib_or_none(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` (a function of :mod:`spglib`), or ``None`` where spglib fails."""
    before = spglib.error.OLD_ERROR_HANDLING
    spglib.error.OLD_ERROR_HANDLING = False
    try:
        return fn(*args, **kwargs)
    except spglib.error.SpglibError:
        return None
    finally:
        spglib.error.OLD_ERROR_HANDLING = before

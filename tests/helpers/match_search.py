"""The small reference library the search-match tests search (tests/helpers/match.py's structures) and the
settings they search it with: short fits (coarse grid ×2, 40-bin windows, 6 fine fits), one phase by default."""

from __future__ import annotations

import dataclasses

from difcon_jax.grid import Grid
from difcon_jax.match.database import build_database, read_database
from difcon_jax.match.fit import FitSettings
from difcon_jax.match.search import IdentifySettings, SearchIndex, search_profile
from tests.helpers.match import N_BINS, TT_MAX, write_cifs

GRID = Grid(N_BINS, 0.0, TT_MAX, 1.54184)
FIT = FitSettings(coarse_factor=2, window=40, coarse_window=40, keep=6)
SETTINGS = IdentifySettings(candidates=50, fit=FIT, max_phases=1)


def library_index(folder) -> SearchIndex:
    """Every structure of tests/helpers/match.py written as a CIF in ``folder`` (a pathlib.Path), built into a
    reference database there and indexed on :data:`GRID`."""
    write_cifs(folder)
    _, skipped = build_database([str(folder)], str(folder / "db.npz"))
    assert skipped == []
    return SearchIndex.of(read_database(str(folder / "db.npz")), GRID)


def search_in(index: SearchIndex, y, w, **settings) -> dict:
    """``search_profile`` of the profile ``y`` float[N_BINS] (weight ``w``) in ``index`` with :data:`SETTINGS`
    changed by ``settings`` (IdentifySettings fields)."""
    return search_profile(y, w, None, None, index, None, GRID, dataclasses.replace(SETTINGS, **settings))

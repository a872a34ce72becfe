"""Speed of ``identify``: seconds per pattern for K retrieved candidates (coarse fits of all K, fine fits of the
best ``fit.keep``), batched over files, after one warm-up pattern (compilation). The issue's budget: ≤ 2 s per
pattern for K = 50 on 2 cores.

    python benchmarks/identify_speed.py --n 20 --candidates 50
    python benchmarks/identify_speed.py --n 20 --candidates 50 --library runs/mp.npz   # a user's larger library
    python benchmarks/identify_speed.py --n 20 --candidates 50 --tile 22               # the search at 141 k entries

Uses the shared RRUFF patterns when ../shared is present, else patterns simulated from the test structures.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import time

import numpy as np

from difcon_jax.augment.render import render_set
from difcon_jax.match.database import stick_table
from difcon_jax.match.fit import FitSettings
from difcon_jax.match.identify import Identifier, identify_profiles
from difcon_jax.match.search import IdentifySettings
from difcon_jax.patterns import read_pattern, to_model_input
from difcon_jax.patterns.preprocess import coverage

HERE = os.path.dirname(os.path.abspath(__file__))
RRUFF = os.path.join(HERE, "..", "..", "shared", "data", "experimental", "rruff_dev")


def patterns(ident, n: int):
    files = sorted(glob.glob(os.path.join(RRUFF, "*.xy")))[:n]
    if files:
        xs, ws = [], []
        for f in files:
            m = read_pattern(f, None)
            lo, hi = coverage(m, ident.cfg.augment)
            xs.append(to_model_input(m, ident.cfg.augment))
            ws.append(((ident.grid.centres >= lo) & (ident.grid.centres <= hi)).astype(np.float32))
        return np.stack(xs), np.stack(ws), "shared rruff_dev"
    # no shared data here: the first n database entries rendered by the training augmentation
    table = stick_table(ident.index.db, ident.grid.lambda_ref, ident.grid.tt_max)
    x = render_set(table, np.arange(min(n, len(table))), ident.cfg.augment, seed=0)
    return x, (x > 0).any(0).astype(np.float32)[None].repeat(len(x), 0), "reference entries, training augmentation"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--candidates", type=int, default=50)
    p.add_argument("--library", default=None, help="a reference database built with `library build` (default: the "
                   "packaged model's own)")
    p.add_argument("--tile", type=int, default=1, help="search the library's entries repeated this many times: the "
                   "search at the size of a larger library (22: ~141 k entries, the Materials Project's)")
    p.add_argument("--no-index", action="store_true", help="do not index the patterns nothing matches (identify "
                   "--no-index; indexing and the Pawley fit of an indexed cell are identify's default)")
    p.add_argument("--fine-starts", default=",".join(FitSettings.fine_starts),
                   help="where the fine fit starts, the better kept (FitSettings.fine_starts): coarse, profile_reset")
    p.add_argument("--no-texture-axes", action="store_true",
                   help="hold the March–Dollase direction to c* (FitSettings.texture_axes off, as before)")
    a = p.parse_args()
    t = time.perf_counter()
    ident = Identifier.load(library=a.library)
    if a.tile > 1:  # the search's cost at a larger library's size (the fits' cost does not depend on it)
        ident.index = ident.index.subset(np.tile(np.arange(len(ident.index.db)), a.tile))
    load_s = time.perf_counter() - t
    x, w, source = patterns(ident, a.n + 1)
    settings = IdentifySettings(candidates=a.candidates, max_phases=1,
                                fit=FitSettings(fine_starts=tuple(a.fine_starts.split(",")),
                                                texture_axes=not a.no_texture_axes))
    if a.no_index:
        settings = dataclasses.replace(settings, index=None)
    t = time.perf_counter()
    identify_profiles(ident, x[:1], w[:1], settings=settings)  # compiles
    warm_s = time.perf_counter() - t
    t = time.perf_counter()
    identify_profiles(ident, x[1:], w[1:], settings=settings)
    per = (time.perf_counter() - t) / (len(x) - 1)
    print(json.dumps({"benchmark": "identify_speed", "patterns": len(x) - 1, "source": source,
                      "candidates": a.candidates, "fine_fits": settings.fit.keep,
                      "fine_starts": list(settings.fit.fine_starts), "texture_axes": settings.fit.texture_axes,
                      "index": settings.index is not None, "library_entries": len(ident.index.db),
                      "cpu_count": os.cpu_count(), "load_s": round(load_s, 2), "first_pattern_s": round(warm_s, 2),
                      "seconds_per_pattern": round(per, 3)}))


if __name__ == "__main__":
    main()

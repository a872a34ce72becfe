"""Speed of containment retrieval (``match/containment.py``) against library size: C(e) of every entry at every
cell scaling read from the ln sin θ shift table, against the reference that places each stick at each scaling
(``contained_direct``: an arcsin per stick and scaling), in one run on the same machine; plus the whole
``containment_scores`` (the shift table and the shortlist's coverage) and how far the two C agree.

    python benchmarks/containment_speed.py --n 5

Library sizes: the packaged one (6,434 AMCSD entries when measured; 7,174 with the AFLOW prototypes since
2026-12-03) and the same entries tiled to ~141 k (the size of a Materials Project library a user builds).
Patterns: the first ``n`` shared RRUFF files when ../shared is present, else reference entries rendered by the
training augmentation. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

# the sibling benchmark (this one runs as a script: benchmarks/ is on sys.path)
from identify_speed import patterns

from difcon_jax.match import containment as C
from difcon_jax.match.identify import Identifier
from difcon_jax.match.search import stick_table


def timed(fn, repeats: int) -> tuple[float, object]:
    out = fn()  # warm-up
    t = time.perf_counter()
    for _ in range(repeats):
        out = fn()
    return (time.perf_counter() - t) / repeats, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=5, help="patterns")
    p.add_argument("--tile", type=int, default=22, help="copies of the packaged library in the large one")
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args()
    ident = Identifier.load()
    g = ident.grid
    x, w, source = patterns(ident, a.n)
    t = stick_table(ident.index.db, g.lambda_ref, g.tt_max)
    strains = C.strain_grid()
    out = {"benchmark": "containment_speed", "patterns": len(x), "source": source, "scalings": len(strains),
           "cpu_count": os.cpu_count()}
    for label, rep in (("packaged", 1), ("tiled", a.tile)):
        rows = np.tile(np.arange(len(t.two_theta)), rep)
        sticks = C.StickSines(t.two_theta[rows], t.intensity[rows])
        sin_top = np.exp(sticks.log_sin_top)  # −inf → 0: no stick
        ref_s = table_s = full_s = 0.0
        diff, overlap = [], []
        for xi, wi in zip(x, w):
            pres, counted = C.presence_map(xi, wi, g.step)
            s_ref, c_ref = timed(lambda: np.stack([C.contained_direct(sin_top, sticks.weight_top, e, pres, counted,
                                                                      g.tt_min, g.step) for e in strains], 1), a.repeats)
            s_tab, c_tab = timed(lambda: C.ShiftTable(pres, counted, strains, g.tt_min, g.step)
                                 .contained(sticks.log_sin_top, sticks.weight_top), a.repeats)
            s_full, _ = timed(lambda: C.containment_scores(xi, xi, wi, g.tt_min, g.step, sticks), a.repeats)
            ref_s, table_s, full_s = ref_s + s_ref, table_s + s_tab, full_s + s_full
            diff.append(float(np.abs(c_ref - c_tab).mean()))
            top = [set(np.argsort(-c.max(1), kind="stable")[:50] % len(t.two_theta)) for c in (c_ref, c_tab)]
            overlap.append(len(top[0] & top[1]) / len(top[0]))
        n = len(x)
        out[label] = {"entries": len(rows), "reference_s": round(ref_s / n, 3), "shift_table_s": round(table_s / n, 3),
                      "speedup": round(ref_s / table_s, 2), "containment_scores_s": round(full_s / n, 3),
                      "mean_abs_c_diff": round(float(np.mean(diff)), 5), "top50_overlap": round(float(np.mean(overlap)), 3)}
        print(label, out[label], flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

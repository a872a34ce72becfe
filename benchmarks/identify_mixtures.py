"""Mixtures on the simulated identification axis: does identify find a second phase that is there, and only then?

Pairs of held-out AMCSD entries (``--split test``: the model's hash split, as ``identify_axis.py``), each cell
strained by ±1–4 %, rendered by the training augmentation with one shared seed per pair (the same instrument:
widths, zero shift, Kα2, measured range, noise, background humps, impurity lines) and mixed by diffracted
intensity at ``--fractions`` (the first entry the major phase). Each mixture, and each major entry alone, is
searched in the whole database (which holds both unstrained parents):

* single phase: the share of patterns given a further phase that is not there (``spurious_further``);
* mixture: the major parent (or its mineral) named as phase 1, the minor one among the further phases
  (``minor_found``), both named in either order (``both_found``: at 50/50 neither is the major), their intensity
  fractions against the mixed ones.

    python benchmarks/identify_mixtures.py --n 60 --out /tmp/mix.json
    python benchmarks/identify_mixtures.py --n 60 --no-mixtures     # the first phase must explain 70 % alone
    python benchmarks/identify_mixtures.py --n 60 --containment 0   # no containment candidates

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

# the sibling benchmark (this one runs as a script: benchmarks/ is on sys.path)
from common import add_search_arguments, search_settings
from identify_axis import PARENTS, measured_range, parent_pool, render_at_cells, strained_cells

from difcon_jax.match.identify import Identifier, identify_profiles


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None)
    p.add_argument("--n", type=int, default=60, help="pairs")
    p.add_argument("--fractions", default="0.7,0.5", help="the major phase's share of the diffracted intensity")
    p.add_argument("--seed", type=int, default=0)
    add_search_arguments(p)
    p.add_argument("--no-mixtures", action="store_true", help="a first phase must explain the pattern alone "
                   "(IdentifySettings.mixtures off)")
    p.add_argument("--parents", default=PARENTS, help="draw phases from the entries whose code starts so ('' = any)")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    ident = Identifier.load(a.model)
    db = ident.index.db
    rng = np.random.default_rng(a.seed)
    pool = rng.permutation(parent_pool(db, 1, a.parents))
    major, minor = pool[:a.n], pool[a.n:2 * a.n]
    x_a = render_at_cells(ident, db, major, strained_cells(db, major, rng), a.seed + 17)
    x_b = render_at_cells(ident, db, minor, strained_cells(db, minor, rng), a.seed + 17)  # same keys: same instrument
    fractions = [float(f) for f in a.fractions.split(",")]
    xs, ws, kinds = [], [], []
    for i in range(a.n):
        if not (x_a[i].any() and x_b[i].any()):
            continue
        ws.append(measured_range(x_a[i]))
        xs.append(x_a[i])
        kinds.append((i, None))
        w = measured_range(x_a[i], x_b[i])
        for f in fractions:  # mixed by diffracted intensity (areas over the common range)
            area_a, area_b = max(float((x_a[i] * w).sum()), 1e-30), max(float((x_b[i] * w).sum()), 1e-30)
            m = f * x_a[i] * w / area_a + (1 - f) * x_b[i] * w / area_b
            xs.append((m / m.max()).astype(np.float32))
            ws.append(w)
            kinds.append((i, f))
    t0 = time.time()
    settings = search_settings(a, mixtures=not a.no_mixtures)
    res = identify_profiles(ident, np.stack(xs), np.stack(ws), settings=settings)
    seconds = (time.time() - t0) / len(xs)

    def same(ph, row):  # the entry itself or its mineral (a sibling entry names the same phase)
        return ph["code"] == str(db.code[row]) or ph["name"] == str(db.name[row])

    records = []
    for (i, f), r in zip(kinds, res):
        ph = r["phases"]
        rec = {"major": str(db.code[major[i]]), "minor": str(db.code[minor[i]]) if f is not None else None,
               "fraction": f, "phases": [[q["code"], q["name"], q["intensity_fraction"]] for q in ph],
               "major_first": bool(ph) and same(ph[0], major[i]),
               "minor_found": f is not None and any(same(q, minor[i]) for q in ph[1:]),
               # both parents named, in either order (at 50/50 neither is "the major")
               "both_found": f is not None and any(same(q, major[i]) for q in ph) and any(same(q, minor[i]) for q in ph)}
        if rec["minor_found"]:
            q = next(q for q in ph[1:] if same(q, minor[i]))
            rec["minor_fraction_error"] = round(abs(q["intensity_fraction"] - (1 - f)), 4)
        records.append(rec)
    single = [r for r in records if r["fraction"] is None]
    summary = {"benchmark": "identify_mixtures", "pairs": a.n, "patterns": len(records), "mixtures": not a.no_mixtures,
               "containment": a.containment,
               "single_matched": round(float(np.mean([bool(r["phases"]) for r in single])), 4),
               "spurious_further": round(float(np.mean([len(r["phases"]) > 1 for r in single])), 4)}
    for f in fractions:
        mix = [r for r in records if r["fraction"] == f]
        errs = [r["minor_fraction_error"] for r in mix if "minor_fraction_error" in r]
        further = [len(r["phases"]) - 1 for r in mix if r["phases"]]
        summary[f"mix_{f:g}"] = {"n": len(mix),
                                 "major_first": round(float(np.mean([r["major_first"] for r in mix])), 4),
                                 "minor_found": round(float(np.mean([r["minor_found"] for r in mix])), 4),
                                 "both_found": round(float(np.mean([r["both_found"] for r in mix])), 4),
                                 "further_phases": round(float(np.mean(further)), 3) if further else None,
                                 "minor_fraction_error_median": round(float(np.median(errs)), 4) if errs else None}
    summary["seconds_per_pattern"] = round(seconds, 3)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as fh:
            json.dump({"summary": summary, "records": records}, fh, indent=1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

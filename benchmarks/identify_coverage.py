"""Why a labelled measured pattern finds no match: retrieval or the library's coverage.

For the patterns an ``identify_rruff.py`` run answered "no match" (every ``--every``-th of them, up to
``--limit``), two counts:

* **retrieval**: is the labelled space group among the candidates identify retrieves (K per phase) and among
  those it fits finely — and does identify's answer name it;
* **coverage**: every entry of the database with the labelled space group is fitted to the pattern (the fit
  identify uses, in batches of K); the best fit's Rwp over its own lines and explained share, and whether any
  entry passes the shipped match test. None passing means the library does not hold the phase (or holds it
  beyond the fit's ±5 % cell box), so no search could have named it.

The labels are only scored here (they choose which entries to fit, to bound what a perfect search could do);
nothing is set from them.

    python benchmarks/identify_coverage.py results/identify/rruff_dev.json ../shared/data/experimental/rruff_dev \
        --every 2 --limit 24 [--library other.npz]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from difcon_jax.inference.predict_files import read_model_input
from difcon_jax.match.database import read_database
from difcon_jax.match.identify import Identifier, identify_profiles
from difcon_jax.match.entry_fit import fit_rows
from difcon_jax.match.search import IdentifySettings
from difcon_jax.patterns.preprocess import noise_sigma


def best_of_group(db, group: int, y, weight, grid, settings: IdentifySettings) -> dict | None:
    """The best fit (by Rwp) of every entry of ``db`` in space group ``group`` to the profile, and whether any
    passes the match test; None when the database has no entry of that group."""
    rows = np.flatnonzero(db.space_group == group)
    if not len(rows):
        return None
    sigma = noise_sigma(y, weight)
    fits = []
    for s in range(0, len(rows), settings.candidates):
        out = fit_rows(db, rows[s:s + settings.candidates], y, weight, np.zeros_like(y), grid, settings, "Cu", sigma)
        fits += [(float(out["rwp"][j]), float(out["rwp_lines"][j]), float(out["explained"][j]), int(out["row"][j]))
                 for j in range(len(out["row"]))]
    fits.sort()
    passes = [f for f in fits if settings.matches(f[1], f[2])]
    rwp, lines, explained, row = fits[0]
    return {"entries": int(len(rows)), "rwp": round(rwp, 4), "rwp_lines": round(lines, 4),
            "explained": round(explained, 4), "name": str(db.name[row]), "formula": str(db.formula[row]),
            "passes": len(passes), "passing": str(db.name[passes[0][3]]) if passes else None}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("records", help="an identify_rruff.py --out file")
    p.add_argument("folder", help="the labelled folder it was run on")
    p.add_argument("--library", default=None, help="database for the coverage fits (default: the model's own)")
    p.add_argument("--every", type=int, default=2)
    p.add_argument("--limit", type=int, default=24)
    p.add_argument("--out", default=None)
    a = p.parse_args()
    recs = [r for r in json.load(open(a.records))["records"] if not r["match"]][::a.every][:a.limit]
    ident = Identifier.load(None)
    db = read_database(a.library) if a.library else ident.index.db
    settings = IdentifySettings()
    t = time.time()
    rows = []
    for r in recs:
        inp = read_model_input(os.path.join(a.folder, r["file"]), ident.cfg.augment, None)
        lo, hi = inp.coverage
        w = ((ident.grid.centres >= lo) & (ident.grid.centres <= hi)).astype(np.float32)
        found = identify_profiles(ident, inp.profile[None], w[None], settings=settings, top=settings.fit.keep)[0]
        retrieved = {int(ident.index.db.space_group[i]) for i in found["_retrieved"]}
        fitted = [c["space_group"]["number"] for c in found["candidates"]]
        rows.append({"file": r["file"], "y": r["y"], "retrieved": r["y"] in retrieved, "fitted": r["y"] in fitted,
                     "best_fit_right": bool(fitted) and fitted[0] == r["y"],
                     "answer_right": found["symmetry"]["space_group"]["number"] == r["y"],
                     "coverage": best_of_group(db, r["y"], inp.profile.astype(np.float64), w.astype(np.float64),
                                               ident.grid, settings)})
    cov = [x["coverage"] for x in rows if x["coverage"] is not None]
    share = lambda k: round(float(np.mean([x[k] for x in rows])), 4) if rows else float("nan")  # noqa: E731
    summary = {"benchmark": "identify_coverage", "library": os.path.basename(a.library) if a.library else "model",
               "n": len(rows), "true_group_retrieved": share("retrieved"), "true_group_fitted": share("fitted"),
               "best_fit_right": share("best_fit_right"), "answer_right": share("answer_right"),
               "groups_without_entries": len(rows) - len(cov),
               "any_entry_passes": sum(c["passes"] > 0 for c in cov),
               "best_explained_median": round(float(np.median([c["explained"] for c in cov])), 4) if cov else None,
               "best_explained_max": round(float(np.max([c["explained"] for c in cov])), 4) if cov else None,
               "best_rwp_lines_median": round(float(np.median([c["rwp_lines"] for c in cov])), 4) if cov else None,
               "seconds": round(time.time() - t, 1)}
    if a.out:
        with open(a.out + ".tmp", "w") as fh:
            json.dump({"summary": summary, "records": rows}, fh, indent=1)
        os.replace(a.out + ".tmp", a.out)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

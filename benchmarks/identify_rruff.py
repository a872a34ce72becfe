"""``identify`` on a labelled folder of measured patterns (``labels.csv``: file, space_group): crystal system,
space group top-1 and top-5 of its symmetry answer, beside the network alone, the share answered "no match"
and the accuracy there. The folder is only scored (never used to fit anything).

    python benchmarks/identify_rruff.py ../shared/data/experimental/rruff_dev --out results/identify/rruff_dev.json

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import time

import numpy as np

# benchmarks/ is on sys.path when this runs as a script
from common import add_search_arguments, search_settings

from difcon_jax.crystal.symmetry import crystal_system_of
from difcon_jax.match.identify import identify
from difcon_jax.match.indexing import IndexSettings


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder")
    p.add_argument("--model", default=None)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--out", default=None)
    p.add_argument("--top", type=int, default=10, help="space groups kept per distribution in the records")
    p.add_argument("--half", choices=("even", "odd"), default=None,
                   help="score only the even- or odd-numbered rows (choose a recipe on one half, check on the other)")
    p.add_argument("--keep", type=int, default=None, help="candidates given the fine fit (default: the shipped "
                   "FitSettings.keep)")
    add_search_arguments(p)
    p.add_argument("--index", action=argparse.BooleanOptionalAction, default=True,
                   help="index the patterns nothing matches (identify's default; --no-index as identify --no-index)")
    p.add_argument("--trial-zeros", type=lambda v: tuple(float(x) for x in v.split(",")),
                   default=IndexSettings().trial_zeros, help="zero shifts (degrees, comma-separated) the indexing's "
                   "trial cells are made at (IndexSettings.trial_zeros)")
    p.add_argument("--candidates", action="store_true", help="keep every fitted candidate's space group and Rwp "
                   "in the records (for benchmarks/identify_vote_rules.py; with --top 230 the network's whole p(SG))")
    a = p.parse_args()
    rows = list(csv.DictReader(open(os.path.join(a.folder, "labels.csv"))))
    rows = rows[{"even": 0, "odd": 1}[a.half]::2] if a.half else rows
    rows = rows[:a.limit] if a.limit else rows
    label = {os.path.join(a.folder, r["file"]): int(r["space_group"]) for r in rows}
    t = time.time()
    settings = search_settings(a, index=IndexSettings(trial_zeros=a.trial_zeros) if a.index else None)
    if a.keep:
        settings = dataclasses.replace(settings, fit=dataclasses.replace(settings.fit, keep=a.keep))
    results, errors = identify(list(label), model=a.model, top=a.top, settings=settings)
    seconds = (time.time() - t) / max(len(results), 1)
    recs = []
    for r in results:
        y = label[r["file"]]
        sym = r["symmetry"]
        top5 = [v["number"] for v in sym["ranking"]][:5]
        net = r["network"]["space_group"][0]["number"]
        recs.append({"file": os.path.basename(r["file"]), "y": y, "answer": sym["space_group"]["number"], "top5": top5,
                     "match": r["match"], "network": net, "phase": r["phases"][0]["name"] if r["phases"] else None,
                     "rwp": r["rwp"],
                     # every phase found: name, space group, share of the fitted intensity (mixtures read offline)
                     "phases": [[q["name"], q["space_group"]["number"], q.get("intensity_fraction")]
                                for q in r["phases"]],
                     # a matched phase's cell metrically of a higher system (match/metric.py): the vote's answer,
                     # and the higher lattice's first edge (Å; a cubic one's in the answer's description)
                     "metric": ([sym["metric"]["system"], sym["metric"]["matched_group"]["number"],
                                 sym["metric"]["cell"][0]] if sym.get("metric") else None),
                     "indexed": (f"{r['indexing']['lattice']} {r['indexing']['centring']} M20 {r['indexing']['m20']:.0f}"
                                 if r.get("indexing") else None),
                     # the distributions behind the answer, for reading offline which one to trust where
                     "network_p": [[v["number"], v["p"]] for v in r["network"]["space_group"]],
                     "votes_p": [[v["number"], v["p"]] for v in sym.get("votes", sym.get("unverified_votes", []))]})
        if a.candidates:  # the fits behind the vote, best first (only the top ``--top`` of them are returned)
            recs[-1]["candidates"] = [[c["space_group"]["number"], c["rwp"]] for c in r["candidates"]]
    acc = lambda sel, f: float(np.mean([f(r) for r in sel])) if sel else float("nan")  # noqa: E731
    matched = [r for r in recs if r["match"]]
    unmatched = [r for r in recs if not r["match"]]
    summary = {"benchmark": "identify_rruff", "folder": os.path.basename(os.path.normpath(a.folder)),
               "half": a.half or "all", "fine_fits": settings.fit.keep, "fine_starts": list(settings.fit.fine_starts),
               "texture_axes": settings.fit.texture_axes,
               "containment": settings.containment, "n": len(recs),
               "errors": len(errors),
               "cs": round(acc(recs, lambda r: crystal_system_of(r["answer"]) == crystal_system_of(r["y"])), 4),
               "sg_top1": round(acc(recs, lambda r: r["answer"] == r["y"]), 4),
               "sg_top5": round(acc(recs, lambda r: r["y"] in r["top5"]), 4),
               "network_sg_top1": round(acc(recs, lambda r: r["network"] == r["y"]), 4),
               "no_match_fraction": round(len(unmatched) / max(len(recs), 1), 4),
               "no_match_sg_top1": round(acc(unmatched, lambda r: r["answer"] == r["y"]), 4),
               "matched_sg_top1": round(acc(matched, lambda r: r["answer"] == r["y"]), 4),
               # unmatched patterns given a cell by indexing (match/novel.py): how many, and their answers
               "indexed_fraction": round(len([r for r in unmatched if r["indexed"]]) / max(len(recs), 1), 4),
               "indexed_sg_top1": round(acc([r for r in unmatched if r["indexed"]], lambda r: r["answer"] == r["y"]), 4),
               "indexed_cs": round(acc([r for r in unmatched if r["indexed"]],
                                       lambda r: crystal_system_of(r["answer"]) == crystal_system_of(r["y"])), 4),
               # matched patterns whose phase's cell is metrically of a higher system (match/metric.py): how
               # many, and their answers with the higher lattice's groups and with the vote's group alone
               "metric_fraction": round(len([r for r in matched if r["metric"]]) / max(len(recs), 1), 4),
               "metric_sg_top1": round(acc([r for r in matched if r["metric"]], lambda r: r["answer"] == r["y"]), 4),
               "metric_vote_sg_top1": round(acc([r for r in matched if r["metric"]], lambda r: r["metric"][1] == r["y"]), 4),
               "metric_cs": round(acc([r for r in matched if r["metric"]],
                                      lambda r: crystal_system_of(r["answer"]) == crystal_system_of(r["y"])), 4),
               "metric_vote_cs": round(acc([r for r in matched if r["metric"]],
                                           lambda r: crystal_system_of(r["metric"][1]) == crystal_system_of(r["y"])), 4),
               "seconds_per_pattern": round(seconds, 3)}
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as fh:
            json.dump({"summary": summary, "records": recs}, fh, separators=(",", ":"))  # compact: committed
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

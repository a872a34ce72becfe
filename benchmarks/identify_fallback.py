"""Which answer to trust when identify says "no match": the network's, the failed fits' vote, or a blend.

Reads the records of ``benchmarks/identify_rruff.py`` (each with the network's top space groups and the fits'
vote) and scores, on the even- and odd-numbered halves apart, the space-group answer of the unmatched
patterns under each rule:

* ``network``: the network's top group (what identify answers now);
* ``vote``: the failed fits' vote (``unverified_votes``);
* ``blend w``: argmax of (1 − w)·p_network + w·p_vote, for w on a grid;
* ``shown list, k votes``: the five-group list identify shows (``top5``), its last k places given to the
  failed fits' most-voted groups not already in it (k = 0 is the list as shipped) — the top-5 answer only.

A rule is a recipe choice made on measured patterns: it is chosen on one half and reported on the other,
and written down where it is used. Prints one JSON line.

    python benchmarks/identify_fallback.py results/identify/rruff_dev.json
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def distribution(pairs) -> np.ndarray:
    """float[231] (index = space-group number) from [[number, p], …] (the top groups a record keeps)."""
    p = np.zeros(231)
    for n, v in pairs:
        p[int(n)] += float(v)
    return p


def score(records, w: float) -> tuple[float, float]:
    """(top-1, top-5) of argmax (1 − w)·p_network + w·p_vote over ``records``."""
    if not records:
        return float("nan"), float("nan")
    top1 = top5 = 0
    for r in records:
        p = (1 - w) * distribution(r["network_p"]) + w * distribution(r["votes_p"])
        order = np.argsort(-p, kind="stable")
        top1 += int(order[0] == r["y"])
        top5 += int(r["y"] in order[:5])
    return top1 / len(records), top5 / len(records)


def top5_with_votes(records, k: int) -> float:
    """Top-5 accuracy over ``records`` of the shown list ``top5`` with its last ``k`` places given to the fits'
    most-voted groups that are not in its first 5 − k (the list's own order fills any place left)."""
    if not records:
        return float("nan")
    hits = 0
    for r in records:
        head = [int(g) for g in r["top5"][:5 - k]]
        listed = head + [int(g) for g, _ in r["votes_p"] if int(g) not in head][:k]
        listed += [int(g) for g in r["top5"] if int(g) not in listed]
        hits += int(r["y"] in listed[:5])
    return hits / len(records)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("records", help="JSON written by benchmarks/identify_rruff.py --out")
    a = p.parse_args()
    recs = [r for r in json.load(open(a.records))["records"] if not r["match"]]
    if not recs or any(k not in recs[0] for k in ("network_p", "votes_p", "top5")):
        raise SystemExit(f"{a.records}: no unmatched records with network_p / votes_p / top5 (rerun identify_rruff.py)")
    halves = {"even": [r for k, r in enumerate(recs) if k % 2 == 0], "odd": [r for k, r in enumerate(recs) if k % 2]}
    grid = [round(float(w), 2) for w in np.linspace(0, 1, 11)]
    table = {str(w): {h: score(rs, w) for h, rs in halves.items()} for w in grid}
    for w in grid:
        print(f"w {w:4.2f}  " + "  ".join(f"{h} top-1 {t1:.3f} top-5 {t5:.3f}" for h, (t1, t5) in table[str(w)].items()))
    chosen = {h: max(grid, key=lambda w: (table[str(w)][h][0], table[str(w)][h][1])) for h in halves}
    out = {"benchmark": "identify_fallback", "unmatched": len(recs),
           "network": {h: table["0.0"][h] for h in halves}, "vote": {h: table["1.0"][h] for h in halves},
           "chosen_on_even": chosen["even"], "odd_at_that_w": table[str(chosen["even"])]["odd"],
           "chosen_on_odd": chosen["odd"], "even_at_that_w": table[str(chosen["odd"])]["even"],
           "shown_list_top5_with_k_votes": {str(k): {h: round(top5_with_votes(rs, k), 4) for h, rs in halves.items()}
                                            for k in range(4)}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""How a matched pattern's symmetry answer depends on the vote's rule: the shipped vote
(:func:`difcon_jax.match.decide.space_group_votes`) against its variants, on the same fits.

Reads records of ``benchmarks/identify_rruff.py --candidates --top 230`` (every fitted candidate's space group
and Rwp, best first, and the network's whole p(SG)) and re-scores the matched patterns, on the even- and
odd-numbered halves apart, under:

* ``shipped``: τ, β, γ of :class:`~difcon_jax.match.decide.VoteSettings`;
* τ, β, γ each halved and doubled (γ also 0);
* ``best per group``: each space group voted for by its best candidate only (groups with many near-duplicate
  entries — a mineral at several temperatures, a solid-solution series — no longer add up);
* ``first n``: the n best fits vote (n = 1 with β = γ = 0 is "phase 1's group").

A rule is a recipe choice made on measured patterns: chosen on one half, reported on the other. Prints one
JSON line (matched patterns per half and the answers right under each rule).

    python benchmarks/identify_rruff.py ../shared/data/experimental/rruff_dev --candidates --top 230 --out /tmp/c.json
    python benchmarks/identify_vote_rules.py /tmp/c.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np

from difcon_jax.crystal.symmetry import crystal_system_of
from difcon_jax.match.decide import VoteSettings, matched_ranking, space_group_votes


def network_p(pairs) -> np.ndarray:
    """float[230] (index = number − 1) from the record's [[number, p], …]."""
    p = np.zeros(230)
    for n, v in pairs:
        p[int(n) - 1] = float(v)
    return p


def best_per_group(cands: list[dict]) -> list[dict]:
    """The candidates (best first) with each space group's best fit only."""
    seen, out = set(), []
    for c in cands:
        if c["space_group"]["number"] not in seen:
            seen.add(c["space_group"]["number"])
            out.append(c)
    return out


def rules() -> dict:
    """name → (candidate filter, VoteSettings)."""
    s = VoteSettings()
    keep = lambda c: c  # noqa: E731
    out = {"shipped": (keep, s)}
    for f in (0.5, 2.0):
        out[f"tau x{f}"] = (keep, dataclasses.replace(s, tau=s.tau * f))
        out[f"beta x{f}"] = (keep, dataclasses.replace(s, network_weight=s.network_weight * f))
        out[f"gamma x{f}"] = (keep, dataclasses.replace(s, network_top_bonus=s.network_top_bonus * f))
    out["gamma 0"] = (keep, dataclasses.replace(s, network_top_bonus=0.0))
    out["best per group"] = (best_per_group, s)
    for n in (3, 5):
        out[f"first {n}"] = ((lambda c, n=n: c[:n]), s)
    out["phase 1's group"] = ((lambda c: c[:1]), dataclasses.replace(s, network_weight=0.0, network_top_bonus=0.0))
    return out


def score(records, select, settings: VoteSettings) -> dict:
    """Matched patterns' CS, SG top-1 and top-5 counts under one rule."""
    sg = cs = top5 = 0
    for r in records:
        p_net = network_p(r["network_p"])
        cands = [{"space_group": {"number": g}, "rwp": rwp} for g, rwp in r["candidates"]]
        ranking = matched_ranking(space_group_votes(select(cands), p_net, settings), p_net)
        answer = int(np.argmax(ranking)) + 1
        sg += answer == r["y"]
        cs += crystal_system_of(answer) == crystal_system_of(r["y"])
        top5 += r["y"] in list(np.argsort(-ranking, kind="stable")[:5] + 1)
    return {"sg": sg, "cs": cs, "top5": top5}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("records", help="identify_rruff.py --candidates --top 230 output")
    a = p.parse_args()
    recs = json.load(open(a.records))["records"]
    if not all("candidates" in r for r in recs):
        raise SystemExit(f"{a.records}: records without candidates (run identify_rruff.py with --candidates)")
    out = {"benchmark": "identify_vote_rules", "records": a.records}
    for half, name in ((0, "even"), (1, "odd")):
        matched = [r for i, r in enumerate(recs) if i % 2 == half and r["match"]]
        shipped_answers = sum(r["answer"] == r["y"] for r in matched)
        out[name] = {"matched": len(matched), "recorded_sg": shipped_answers,
                     **{k: score(matched, f, s) for k, (f, s) in rules().items()}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

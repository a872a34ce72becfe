"""Do the shipped lineage's snapshots help each other? Each continuation restarts a cosine schedule from the
previous shipped parameters — the recipe of snapshot ensembles (Huang et al. 2017) — so the network alone is
scored for every model given, for their probabilities averaged (arithmetic and geometric: an *ensemble*) and
for their parameters averaged (a *soup*, one network at the cost of one; the lineage shares one basin).

    git show c03cc99:difcon_jax/pretrained/difcon_cpu/params.npz > /tmp/I/params.npz   # + config.json, calibration.json
    python benchmarks/snapshot_ensemble.py --table runs/real_fill2 \\
        --experimental ../shared/data/experimental/rruff_dev J=difcon_jax/pretrained/difcon_cpu I=/tmp/I H=/tmp/H

Axes: equivariance, training split, cross-simulator and textbook (the evaluators ``evaluate`` runs, same rows,
each member's own temperature and prior) and each measured folder. Prints one line per axis and combination and
a final JSON line. A measured folder may choose between recipes, never set a threshold: the choice and its
numbers are written down in results/.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

HEADS = ("crystal_system", "extinction_group", "space_group")
AXES = ("equivariance", "training", "cross_simulator", "textbook")


def averaged(probs: list[dict], geometric: bool) -> dict:
    """The heads' probabilities float[B, C] averaged over members (geometric: renormalised mean log)."""
    out = {}
    for h in HEADS:
        a = np.stack([p[h] for p in probs])
        if geometric:
            g = np.exp(np.mean(np.log(np.maximum(a, 1e-12)), axis=0))
            out[h] = g / g.sum(-1, keepdims=True)
        else:
            out[h] = a.mean(0)
    return out


def soup(predictors: list, first):
    """One Predictor: the members' parameters averaged, shown with the first member's calibration."""
    import jax

    from difcon_jax.inference.predictor import Predictor

    params = jax.tree_util.tree_map(lambda *a: sum(a) / len(a), *[p.params for p in predictors])
    return Predictor.of(first.cfg, first.model, params, first.calibration, None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="NAME=MODEL_DIR, the first one's config renders the axes")
    ap.add_argument("--table", required=True, help="the peak table the models were trained on")
    ap.add_argument("--experimental", action="append", default=[])
    ap.add_argument("--out", default=None, help="also write the JSON line's result here (atomic)")
    args = ap.parse_args(argv)
    from difcon_jax.data.prepare import prepare_table
    from difcon_jax.evaluate.evaluators import measured_folders, simulated_axes
    from difcon_jax.evaluate.report import score
    from difcon_jax.inference.predictor import Predictor

    t0 = time.time()
    bad = [m for m in args.models if "=" not in m]
    if bad:
        ap.error(f"{bad[0]}: give each model as NAME=MODEL_DIR")
    names, dirs = zip(*(m.split("=", 1) for m in args.models))
    members = {n: Predictor.load(d) for n, d in zip(names, dirs)}
    first = members[names[0]]
    cfg = first.cfg
    cfg.data.table = args.table
    sets = simulated_axes(cfg, prepare_table(cfg, args.table), AXES)
    sets += [s for s in measured_folders(cfg, args.experimental)[0] if not s.blend]
    combos = [c for r in range(2, len(names) + 1) for c in itertools.combinations(names, r) if names[0] in c]
    soups = {c: soup([members[n] for n in c], first) for c in combos}  # averaged once, scored on every set
    result = {}
    for s in sets:
        probs = {n: p(s.profiles, blend=False, prior=s.prior) for n, p in members.items()}
        rows = {n: probs[n] for n in names}
        for c in combos:
            rows["+".join(c)] = averaged([probs[n] for n in c], geometric=False)
            rows["+".join(c) + " geometric"] = averaged([probs[n] for n in c], geometric=True)
            rows["soup " + "+".join(c)] = soups[c](s.profiles, blend=False, prior=s.prior)
        result[s.name] = {}
        for label, p in rows.items():
            r = score(p, s.space_group)
            v = result[s.name][label] = {k: round(r[k], 4) for k in ("acc_cs", "acc_eg", "acc_sg", "top5_sg")}
            print(f"{s.name:24s} {label:24s} CS {v['acc_cs']:.3f} EG {v['acc_eg']:.3f} SG {v['acc_sg']:.3f} "
                  f"top-5 {v['top5_sg']:.3f}", flush=True)
    line = {"benchmark": "snapshot_ensemble", "models": dict(zip(names, dirs)), "seconds": round(time.time() - t0, 1),
            **result}
    if args.out:
        from difcon_jax.files import atomic_write_text

        atomic_write_text(args.out, json.dumps(line, indent=1) + "\n")
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

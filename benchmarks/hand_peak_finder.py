"""Choose HAND's peak-finder settings on simulated validation patterns (no test set, no measurement).

HAND's trees are fitted on stick-pattern features of the training structures; on a profile the same
features come from a peak finder. This script renders fresh augmentation draws of *training* structures
with the training ranges and scores HAND for a grid of smoothing widths and prominences, so the detection
rule is the one that best reproduces what the trees were trained on.

    python benchmarks/hand_peak_finder.py --workdir runs/table2 [--config configs/quickstart.py] [--n 400]

Prints one row per setting and a final JSON line with the best one.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", required=True, help="a workdir whose data/ holds the peak table")
    ap.add_argument("--config", default=os.path.join(os.path.dirname(__file__), "..", "configs", "quickstart.py"))
    ap.add_argument("--n", type=int, default=400, help="validation structures")
    args = ap.parse_args()

    from difcon_jax.augment.render import render_set
    from difcon_jax.config import load_config
    from difcon_jax.data.prepare import prepare_table
    from difcon_jax.evaluate.hand import HandModel, profile_features, stick_features
    from difcon_jax.evaluate.report import score
    from difcon_jax.grid import Grid

    cfg = load_config(args.config, [f"data.table={os.path.join(args.workdir, 'data')!r}"])
    table = prepare_table(cfg, args.workdir)
    sg = np.asarray(table.space_group)
    train = np.flatnonzero(np.asarray(table.split) == 0)
    hand = HandModel().fit(stick_features(table, train), np.asarray(table.crystal_system)[train],
                           np.asarray(table.extinction_group)[train], sg[train])
    rows = np.sort(np.random.default_rng(7).permutation(train)[:args.n])
    profiles = render_set(table, rows, cfg.augment, seed=4321)  # a seed no evaluation set uses
    results = []
    for smooth in (0.0, 0.01, 0.02, 0.03, 0.05, 0.08):
        for prominence in (0.005, 0.01, 0.02, 0.04):
            feats = profile_features(profiles, Grid.of(cfg.augment), smooth, prominence)
            r = score(hand.predict(feats), sg[rows])
            results.append({"smooth_deg": smooth, "prominence": prominence, "acc_cs": round(r["acc_cs"], 4),
                            "acc_sg": round(r["acc_sg"], 4), "median_peaks": float(np.median(feats[:, -1]))})
            print(results[-1], flush=True)
    best = max(results, key=lambda r: (r["acc_sg"], r["acc_cs"]))
    print(json.dumps({"benchmark": "hand_peak_finder", "validation_structures": len(rows),
                      "stick_median_peaks": float(np.median(stick_features(table, rows)[:, -1])), "best": best}))


if __name__ == "__main__":
    main()

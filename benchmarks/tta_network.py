"""Does test-time augmentation help the network alone? Probabilities averaged over copies of each profile
shifted by a few bins (a zero-shift spread like the one the network was trained on), scored on measured
folders and on the textbook axis (independent of our renderer).

    python benchmarks/tta_network.py --experimental ../shared/data/experimental/rruff_dev [--model DIR]

Prints one line per shift set and a final JSON line. A measured folder may choose between recipes, never
set a threshold: the choice and its numbers are written down in results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

SHIFT_SETS = {"none": (0,), "±1": (-1, 0, 1), "±2": (-2, -1, 0, 1, 2), "±4 by 2": (-4, -2, 0, 2, 4)}


def shifted(x: np.ndarray, s: int) -> np.ndarray:
    """x float[B, n] moved by s bins (zeros enter: the profile's background is removed)."""
    out = np.zeros_like(x)
    if s > 0:
        out[:, s:] = x[:, :-s]
    elif s < 0:
        out[:, :s] = x[:, -s:]
    else:
        out[:] = x
    return out


def scores(predictor, x, sg):
    from difcon_jax.evaluate.report import score

    out = {}
    for name, shifts in SHIFT_SETS.items():
        probs = [predictor(shifted(x, s), blend=False) for s in shifts]
        mean = {k: np.mean([p[k] for p in probs], axis=0) for k in ("crystal_system", "extinction_group", "space_group")}
        r = score(mean, sg)
        out[name] = {k: round(r[k], 4) for k in ("acc_cs", "acc_eg", "acc_sg", "top5_sg")}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experimental", action="append", default=[])
    ap.add_argument("--model", default=None)
    args = ap.parse_args(argv)
    from difcon_jax.evaluate.evaluators import textbook_set
    from difcon_jax.inference.model_dir import PACKAGED_MODEL
    from difcon_jax.inference.predictor import Predictor
    from difcon_jax.patterns.labelled import load_labelled

    t0 = time.time()
    predictor = Predictor.load(args.model or PACKAGED_MODEL)
    sets = {}
    tb = textbook_set(predictor.cfg, 1234 + 3)
    sets["textbook"] = (tb.profiles, tb.space_group)
    for folder in args.experimental:
        x, sg, _ = load_labelled(folder, predictor.cfg.augment)
        sets[os.path.basename(os.path.normpath(folder))] = (x, sg)
    result = {name: scores(predictor, x, sg) for name, (x, sg) in sets.items()}
    for name, r in result.items():
        for shifts, v in r.items():
            print(f"{name:12s} {shifts:8s} CS {v['acc_cs']:.3f} EG {v['acc_eg']:.3f} SG {v['acc_sg']:.3f} "
                  f"top-5 {v['top5_sg']:.3f}")
    print(json.dumps({"benchmark": "tta_network", "grid_step_deg": predictor.grid.step,
                      "seconds": round(time.time() - t0, 1), **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

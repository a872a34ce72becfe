"""Is it the heads or the encoder that underfits? A model's frozen representation h of fresh training-split renders,
and a new head fitted to it: if a wider head on the same features answers better than the model's own heads, the
heads are short of capacity (``configs/difcon_heads.py`` trains such a head in place); if not, the encoder is.

    python benchmarks/head_probe.py --table runs/real_fill [--model DIR] [--passes 30] [--hidden 1024,1024] \
        [--draw natural|model] [--experimental FOLDER ...]

Training features: ``--passes`` × ``--per-pass`` training rows, each rendered once by the model's own augmentation,
drawn uniformly (``--draw natural``: the population the simulated axes are scored on) or as the model was trained
(``--draw model``: its ``data.sampling_power`` and ``data.source_weights``); the probe (LayerNorm, Dense → LayerNorm
→ GELU per hidden width, dropout 0.1, a flat 230-way softmax; AdamW, cosine from 2e-3) is scored beside the model's
own heads, each corrected to the population of the set as ``evaluate`` reports them (:mod:`difcon_jax.inference.prior`:
the natural frequencies for the equivariance, training and cross-simulator rows; the library's for the textbook
phases and each labelled ``--experimental`` folder, scored network alone) — the probe from its own draw's mass by
Bayes' rule in full, uncorrected beside it, and the geometric mean of the corrected probe and the model's heads
(``with_model``). ~6 min on the 2-core VM at the defaults. Prints a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from difcon_jax.crystal.symmetry import crystal_system_array, extinction_group_array
from difcon_jax.data.prepare import prepare_table
from difcon_jax.evaluate.evaluators import measured_folders, simulated_axes
from difcon_jax.evaluate.report import score
from difcon_jax.inference.model_dir import PACKAGED_MODEL
from difcon_jax.inference.predictor import Predictor
from difcon_jax.inference.prior import label_shift, prior_target
from difcon_jax.train.flat_head import (fit_flat_head, flat_head_probabilities, frozen_features, representations,
                                        training_draw)

AXES = ("equivariance", "training", "cross_simulator", "textbook")


def marginals(p_sg: np.ndarray) -> dict:
    """The probe's p(SG) float[M, 230] with the crystal-system and extinction-group probabilities it implies (sums
    over their space groups), as :func:`difcon_jax.evaluate.report.score` reads a model's heads."""
    def summed(group_of):
        out = np.zeros((len(p_sg), int(group_of[1:].max()) + 1))
        np.add.at(out.T, group_of[1:], p_sg.T)
        return out
    return {"space_group": p_sg, "crystal_system": summed(crystal_system_array()),
            "extinction_group": summed(extinction_group_array())}


def probe_probs(probe, predictor, x, prior: str, mass: np.ndarray) -> dict:
    """The probe's probabilities for profiles ``x`` as a set's population holds them: {'raw': from its draw,
    prior: corrected from the draw's ``mass`` float[230] to ``prior``'s frequencies (the model's calibration)}."""
    raw = marginals(probe(representations(predictor.model, predictor.params, x)))
    target = prior_target(dict(predictor.calibration, natural_prior_strength=1.0), predictor.library, prior)
    return {"raw": raw, prior: raw if target is None else label_shift(raw, target, mass)}


def geometric_mean(a: dict, b: dict) -> dict:
    """p(SG) ∝ √(a·b) of two heads' distributions over the same population (each corrected to it, so its prior
    enters once), with the marginals it implies."""
    p = np.sqrt(np.asarray(a["space_group"], np.float64) * np.asarray(b["space_group"], np.float64))
    return marginals(p / np.maximum(p.sum(1, keepdims=True), 1e-300))


def scores(probs: dict, sg: np.ndarray) -> dict:
    """CS / SG / SG top-5 by :func:`difcon_jax.evaluate.report.score` (what ``evaluate`` reports)."""
    s = score(probs, sg)
    return {"cs": round(s["acc_cs"], 4), "sg": round(s["acc_sg"], 4), "top5": round(s["top5_sg"], 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=PACKAGED_MODEL)
    ap.add_argument("--table", required=True, help="the peak table the model was trained on")
    ap.add_argument("--passes", type=int, default=30)
    ap.add_argument("--per-pass", type=int, default=8192)
    ap.add_argument("--hidden", default="1024,1024", help="the probe's hidden widths (comma-separated)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--draw", choices=("natural", "model"), default="natural",
                    help="training rows drawn uniformly, or as the model was trained (sampling power, source weights)")
    ap.add_argument("--experimental", nargs="*", default=[], help="labelled measured folders, scored network alone")
    args = ap.parse_args()
    t0 = time.time()
    predictor = Predictor.load(args.model)
    cfg = predictor.cfg
    cfg.data.table = args.table
    table = prepare_table(cfg, args.model)
    hidden = [int(v) for v in args.hidden.split(",") if v.strip()]
    natural = args.draw == "natural"
    x, y = frozen_features(cfg, predictor.model, predictor.params, table, args.passes, args.per_pass, natural)
    mass = training_draw(cfg, table, natural)[2]  # the probe learns p(SG | h) under this prior
    head = fit_flat_head(x, y, hidden, epochs=args.epochs)

    def probe(h):
        return flat_head_probabilities(hidden, head, h)

    out = {}
    sets = simulated_axes(cfg, table, names=AXES)
    sets += [s for s in measured_folders(cfg, args.experimental)[0] if not s.blend]
    for s in sets:
        shown = s.profiles if s.shown is None else s.shown
        mine = predictor(shown, blend=False, prior=s.prior)
        theirs = probe_probs(probe, predictor, shown, s.prior, mass)
        own = scores(mine, s.space_group)
        new = {k: scores(v, s.space_group) for k, v in theirs.items()}
        new["with_model"] = scores(geometric_mean(mine, theirs[s.prior]), s.space_group)
        out[s.name] = {"model": own, "probe": new, "prior": s.prior, "n": int(len(s.space_group))}
        print(f"{s.name:28s} n={len(s.space_group):5d}  model's heads {own}  probe {new}", flush=True)
    print(json.dumps({"benchmark": "head_probe", "model": args.model, "features": int(len(x)), "hidden": hidden,
                      "epochs": args.epochs, "draw": args.draw, "seconds": round(time.time() - t0, 1), **out}))


if __name__ == "__main__":
    main()

"""Scores for one evaluation set and the Markdown/JSON report (the project's Table 2)."""

from __future__ import annotations

import os

import numpy as np

from difcon_jax.crystal.reduced_cell import cell_volume
from difcon_jax.crystal.symmetry import CRYSTAL_SYSTEMS, crystal_system_array, extinction_group_array
from difcon_jax.evaluate.confusion import sparse_confusion
from difcon_jax.evaluate.isotypes import TOLERANCE
from difcon_jax.files import atomic_write_json, atomic_write_text


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """ECE of confidences float[N] against correctness bool[N] over ``bins`` equal-width bins."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges) - 1, 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def cell_errors(pred: np.ndarray, true: np.ndarray) -> dict:
    """How far the lattice head's reduced cells pred float[M, 6] are from the true ones float[M, 6] (a, b, c in
    Å, α, β, γ in degrees; rows with a NaN true cell left out): medians of the relative edge error
    |Δa|/a over the three edges and of |ΔV|/V, the share of patterns whose volume is within 5 % and whose
    three edges are all within 2 %, and the median angle error (degrees)."""
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    ok = np.isfinite(true).all(1)
    pred, true = pred[ok], true[ok]
    if not len(true):
        return {}
    edge = np.abs(pred[:, :3] - true[:, :3]) / true[:, :3]
    vol = np.abs(cell_volume(pred) - cell_volume(true)) / cell_volume(true)
    return {"cell_n": int(len(true)), "cell_edge_rel_err_median": float(np.median(edge)),
            "cell_volume_rel_err_median": float(np.median(vol)), "cell_volume_within_5pct": float(np.mean(vol < 0.05)),
            "cell_edges_within_2pct": float(np.mean((edge < 0.02).all(1))),
            "cell_angle_err_median_deg": float(np.median(np.abs(pred[:, 3:] - true[:, 3:])))}


def score(probs: dict, space_group: np.ndarray) -> dict:
    """Accuracies (top-1/top-5), per-crystal-system accuracy, ECE, SG/CS inconsistency, coverage curve and
    confusion matrices: crystal system dense 7×7, extinction and space group sparse ``[[true, pred, n], ...]``."""
    cs_of = crystal_system_array()
    space_group = np.asarray(space_group)
    cs_true = cs_of[space_group]
    eg_true = extinction_group_array()[space_group]
    sg_pred = probs["space_group"].argmax(1) + 1
    eg_pred = probs["extinction_group"].argmax(1)
    cs_pred = probs["crystal_system"].argmax(1)
    conf = probs["space_group"].max(1)
    correct = sg_pred == space_group
    top5 = np.argsort(-probs["space_group"], axis=1)[:, :5] + 1
    order = np.argsort(-conf)
    coverage = {}
    for frac in (1.0, 0.8, 0.5, 0.2):
        k = max(1, int(round(frac * len(conf))))
        coverage[f"{frac:.1f}"] = float(correct[order[:k]].mean())
    per_cs = {CRYSTAL_SYSTEMS[c]: {"n": int((cs_true == c).sum()), "acc_cs": float((cs_pred[cs_true == c] == c).mean()),
                                   "acc_sg": float(correct[cs_true == c].mean())}
              for c in range(7) if (cs_true == c).any()}
    return {
        "n": int(len(space_group)),
        "acc_cs": float(np.mean(cs_pred == cs_true)),
        "acc_eg": float(np.mean(eg_pred == eg_true)),
        "acc_sg": float(correct.mean()),
        "top5_sg": float((top5 == space_group[:, None]).any(1).mean()),
        "ece_sg": expected_calibration_error(conf, correct),
        "sg_inconsistent_with_cs": float(np.mean(cs_of[sg_pred] != cs_pred)),
        "sg_accuracy_at_coverage": coverage,
        "per_crystal_system": per_cs,
        "confusion_cs": np.bincount(cs_true * 7 + cs_pred, minlength=49).reshape(7, 7).tolist(),
        "confusion_eg": sparse_confusion(eg_true, eg_pred),
        "confusion_sg": sparse_confusion(space_group, sg_pred),
    }


def write_report(out_dir: str, results: dict) -> tuple[str, str]:
    """results: {model: {set name: score dict}} → report.json and report.md (atomic writes)."""
    os.makedirs(out_dir, exist_ok=True)
    jpath, mpath = os.path.join(out_dir, "report.json"), os.path.join(out_dir, "report.md")
    atomic_write_json(jpath, results)
    lines = ["| model | set | n | CS | EG | SG | SG top-5 | ECE | SG∉CS |", "|---|---|---|---|---|---|---|---|---|"]
    for model, sets in results.items():
        for name, r in sets.items():
            if not r.get("n") or "acc_cs" not in r:
                continue
            lines.append(f"| {model} | {name} | {r['n']} | {r['acc_cs']:.3f} | {r['acc_eg']:.3f} | {r['acc_sg']:.3f} | "
                         f"{r['top5_sg']:.3f} | {r.get('ece_sg', float('nan')):.3f} | "
                         f"{r.get('sg_inconsistent_with_cs', float('nan')):.3f} |")
            if "without_prior" in r:  # the heads as trained, before the population's prior
                w = r["without_prior"]
                lines.append(f"| {model} | {name} (without the {r['prior']} prior) | {r['n']} | {w['acc_cs']:.3f} | "
                             f"{w['acc_eg']:.3f} | {w['acc_sg']:.3f} | {w['top5_sg']:.3f} | | |")
    cells = [(m, name, r) for m, sets in results.items() for name, r in sets.items() if r.get("cell_n")]
    if cells:
        lines += ["", "Lattice head (Niggli-reduced primitive cell; medians over the set):", "",
                  "| model | set | n | edge error | volume error | volume within 5 % | all edges within 2 % | angle error (°) |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {m} | {name} | {r['cell_n']} | {r['cell_edge_rel_err_median']:.3f} | "
                  f"{r['cell_volume_rel_err_median']:.3f} | {r['cell_volume_within_5pct']:.3f} | "
                  f"{r['cell_edges_within_2pct']:.3f} | {r['cell_angle_err_median_deg']:.1f} |" for m, name, r in cells]
    iso = [(m, name, r["by_isotypes"]) for m, sets in results.items() for name, r in sets.items()
           if r.get("by_isotypes")]
    if iso:
        bins = list(iso[0][2])
        lines += ["", "By isotypes in the training split (rows of the same space group and atom fractions within "
                  f"{TOLERANCE}, `evaluate/isotypes.py`): SG accuracy (CS, patterns) — a network that reads symmetry "
                  "from the pattern scores alike across them:", "",
                  "| model | set | " + " | ".join(f"{b} isotypes" for b in bins) + " |",
                  "|---|---|" + "---|" * len(bins)]
        lines += [f"| {m} | {name} | " + " | ".join(
            f"{v[b]['acc_sg']:.3f} ({v[b]['acc_cs']:.3f}, {v[b]['n']})" if v[b].get("n") else "–" for b in bins)
            + " |" for m, name, v in iso]
    sims = [(m, s["similarity"]) for m, s in results.items() if "similarity" in s]
    if sims:
        lines += ["", "Representation similarity (Fig. 4; held-out structures × augmentations):", "",
                  "| model | within structure | between structures | nearest view is same structure |",
                  "|---|---|---|---|"]
        lines += [f"| {m} | {v['mean_within']:.3f} | {v['mean_between']:.3f} | {v['nearest_view_same_structure']:.3f} |"
                  for m, v in sims]
    atomic_write_text(mpath, "\n".join(lines) + "\n")
    return jpath, mpath


def write_summary(workdir: str, report: dict) -> str:
    """WORKDIR/eval_summary.json (atomic)."""
    return atomic_write_json(os.path.join(workdir, "eval_summary.json"), report)

"""Capacity per CPU-hour: training runs side by side — network, parameters, throughput, CPU minutes and what
the run's final evaluation (``eval_summary.json``) reached on the held-out structures, the held-out
augmentation ranges and its own training structures.

    python benchmarks/capacity_table.py same=runs/cont_G_same grown=runs/cont_G_grown

Each argument is LABEL=TRAINING_DIRECTORY (its ``config.json``, ``metrics.jsonl`` and ``eval_summary.json``).
Minutes are the training loop's own clock (the last ``metrics.jsonl`` line), not counting the final evaluation.
Prints a markdown table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os

import jax
import numpy as np

from difcon_jax.inference.model_dir import abstract_params, model_of, read_model_config


def describe(label: str, workdir: str) -> dict:
    cfg = read_model_config(workdir)
    params = int(sum(np.prod(x.shape) for x in jax.tree_util.tree_leaves(abstract_params(cfg, model_of(cfg)))))
    lines = [json.loads(s) for s in open(os.path.join(workdir, "metrics.jsonl")) if s.strip()]
    train = [m for m in lines if "steps_per_s" in m]
    summary = json.load(open(os.path.join(workdir, "eval_summary.json")))
    m = cfg.model
    row = {"label": label, "workdir": workdir,
           "network": f"widths {tuple(m.widths)} blocks {tuple(m.blocks)} attention {m.get('attention_layers', 0)}",
           "params": params, "steps": int(train[-1]["step"]), "minutes": round(train[-1]["time"] / 60, 1),
           # the median over the run's second half: compilation and the warm-up's first steps left out
           "steps_per_s": round(float(np.median([t["steps_per_s"] for t in train[len(train) // 2:]])), 3),
           "batch": int(cfg.batch_size)}
    row["samples_per_s"] = round(row["steps_per_s"] * row["batch"] * 2, 1)  # two augmented views per example
    for axis in ("equivariance", "invariance", "training"):
        if axis in summary:
            a = summary[axis]
            row[axis] = {"cs": round(a["acc_cs"], 4), "sg": round(a["acc_sg"], 4), "sg_top5": round(a["top5_sg"], 4),
                         "sg_as_trained": round(a.get("without_prior", {}).get("acc_sg", float("nan")), 4)}
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", help="LABEL=TRAINING_DIRECTORY")
    a = p.parse_args()
    rows = []
    for spec in a.runs:
        label, _, workdir = spec.partition("=")
        if not workdir:
            p.error(f"{spec!r}: expected LABEL=TRAINING_DIRECTORY")
        rows.append(describe(label, workdir))
    print("| run | network | params | steps | minutes | steps/s | samples/s | equivariance CS / SG / top-5 (SG as trained) "
          "| invariance SG | training-split SG (as trained) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e, i, t = (r.get(k, {}) for k in ("equivariance", "invariance", "training"))
        print(f"| {r['label']} | {r['network']} | {r['params']:,} | {r['steps']:,} | {r['minutes']} | {r['steps_per_s']} | "
              f"{r['samples_per_s']} | {e.get('cs')} / {e.get('sg')} / {e.get('sg_top5')} ({e.get('sg_as_trained')}) | "
              f"{i.get('sg')} | {t.get('sg')} ({t.get('sg_as_trained')}) |")
    print(json.dumps({"benchmark": "capacity_table", "runs": rows}))


if __name__ == "__main__":
    main()

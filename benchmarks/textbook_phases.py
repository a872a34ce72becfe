"""The textbook phases one by one: each rendered by the independent lab simulator with and without Kα2, the
network's top space group (and crystal system) beside the truth — which classic phases a model gets wrong.
Probabilities as ``predict`` shows them (the library's prior, :mod:`difcon_jax.inference.prior`); the JSON line
also scores the heads without it.

    python benchmarks/textbook_phases.py [--model DIR] [--out results/network_axes/textbook_phases.md]

Prints a Markdown table and one final JSON line (accuracies, network alone and as predict shows them).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from difcon_jax.crystal.symmetry import CRYSTAL_SYSTEMS, crystal_system_of, space_group_symbol
from difcon_jax.evaluate.evaluators import textbook_set
from difcon_jax.evaluate.textbook import PHASES
from difcon_jax.files import atomic_write_text
from difcon_jax.inference.model_dir import PACKAGED_MODEL
from difcon_jax.inference.predictor import Predictor


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=PACKAGED_MODEL)
    p.add_argument("--seed", type=int, default=1237)  # the evaluator's own seed (1234 + 3)
    p.add_argument("--out", default=None, help="write the Markdown table here too")
    args = p.parse_args()
    predictor = Predictor.load(args.model)
    s = textbook_set(predictor.cfg, args.seed)
    alone, shown = predictor(s.profiles, blend=False), predictor(s.profiles, blend=True)
    raw = predictor(s.profiles, blend=False, prior="none")
    n = len(PHASES)
    lines = ["| phase | truth (system) | with Kα2: top SG (system) | without Kα2 |", "|---|---|---|---|"]
    for i, (name, _, sg, *_rest) in enumerate(PHASES):
        cells = []
        for j in (i, i + n):
            top = int(np.argmax(alone["space_group"][j])) + 1
            cs = int(np.argmax(alone["crystal_system"][j]))
            mark = "✓" if top == sg else ("CS ✓" if cs == crystal_system_of(sg) else "✗")
            cells.append(f"{space_group_symbol(top)} ({CRYSTAL_SYSTEMS[cs]}) {mark}")
        lines.append(f"| {name} | {space_group_symbol(sg)} ({CRYSTAL_SYSTEMS[crystal_system_of(sg)]}) | {cells[0]} | {cells[1]} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        atomic_write_text(args.out, table)

    def acc(pr):
        sg_pred = pr["space_group"].argmax(1) + 1
        cs_true = np.array([crystal_system_of(int(g)) for g in s.space_group])
        return {"cs": round(float(np.mean(pr["crystal_system"].argmax(1) == cs_true)), 4),
                "sg": round(float(np.mean(sg_pred == s.space_group)), 4)}
    print(json.dumps({"benchmark": "textbook_phases", "model": args.model, "patterns": int(len(s.space_group)),
                      "network_alone": acc(alone), "as_predict_shows": acc(shown),
                      "network_alone_without_prior": acc(raw)}))


if __name__ == "__main__":
    main()

"""The textbook phases one by one: each rendered by the independent lab simulator with and without Kα2, the
network's top space group (and crystal system) beside the truth — which classic phases a model gets wrong.
Probabilities under the library's prior (:mod:`difcon_jax.inference.prior`); the JSON line also scores the heads
without it, and as ``predict``'s network lines show them (``as_predict_shows``: with the library's kNN vote; the
key kept so the line compares across commits); ``--answer`` scores ``predict``'s answer too (identify's decision:
the fitted library phases' vote, else the network's answer for a phase outside the library), ~1–2 s a pattern.

    python benchmarks/textbook_phases.py [--model DIR] [--renders N] [--own-renderer] [--answer] [--out FILE.md]

One rendering (the evaluator's, ``--renders 1``) is 88 patterns, one standard error ~0.05; ``--renders N`` draws
the lab simulator's settings N times (seeds ``seed`` … ``seed + N − 1``) and reports each phase's share of right
answers, the mean and the spread over renderings. ``--own-renderer`` renders the same structures N times by the
training augmentation (``cfg.augment``, through a peak table built from them here) beside it: whether a phase is
missed for the renderer's style or for what the network has learned.

Prints a Markdown table and one final JSON line (accuracies: network alone, with the library's vote, the answer).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import Counter

import numpy as np

# benchmarks/ is on sys.path when this runs as a script
from common import add_search_arguments, search_settings

from difcon_jax.augment.render import render_set
from difcon_jax.crystal.cif_writer import cif_text
from difcon_jax.crystal.symmetry import CRYSTAL_SYSTEMS, crystal_system_of, space_group_symbol
from difcon_jax.data.build import BuildOptions, build_from_cifs
from difcon_jax.data.peak_table import load_peak_table
from difcon_jax.evaluate.evaluators import textbook_set
from difcon_jax.evaluate.textbook import PHASES
from difcon_jax.files import atomic_write_text
from difcon_jax.inference.model_dir import PACKAGED_MODEL
from difcon_jax.inference.predictor import Predictor


def own_renderings(predictor: Predictor, renders: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(profiles float[renders·n, n_bins], phase index int[renders·n]): every textbook phase rendered ``renders``
    times by the training augmentation (seeds ``seed`` …), from a peak table of the phases built in a temporary
    folder."""
    with tempfile.TemporaryDirectory() as d:
        for i, (name, setting, _, cell, sites, _) in enumerate(PHASES):
            with open(os.path.join(d, f"phase_{i:03d}.cif"), "w") as fh:
                fh.write(cif_text(name.replace(" ", "_"), setting, cell, sites))
        build_from_cifs(d, os.path.join(d, "table"), options=BuildOptions(
            max_peaks=int(predictor.cfg.data.max_peaks), test_fraction=0.0, validation_fraction=0.0))
        t = load_peak_table(os.path.join(d, "table"))
        rows = np.arange(len(t.space_group))
        x = np.concatenate([render_set(t, rows, predictor.cfg.augment, seed=seed + r) for r in range(renders)])
        phase_of_row = np.array([int(os.path.basename(str(f))[6:9]) for f in t.source_id])  # phase_NNN.cif
    if sorted(phase_of_row.tolist()) != list(range(len(PHASES))):
        raise SystemExit(f"the textbook phases built {len(phase_of_row)} table rows for {len(PHASES)} phases")
    return x, np.tile(phase_of_row, renders)


def answer_scores(predictor: Predictor, model: str, x: np.ndarray, truth: np.ndarray, settings=None) -> dict:
    """CS / SG / SG top-5 of ``predict``'s answer (:func:`difcon_jax.match.identify.identify_profiles`, identify's
    settings) for profiles x float[B, n_bins]; each profile measured from its first to its last non-zero bin (the
    lab simulator's range; zero outside it, as a measured file's profile is); ``settings``: IdentifySettings (None:
    as shipped)."""
    from difcon_jax.match.identify import Identifier, identify_profiles

    ident = Identifier.load(model, predictor=predictor)
    weights = np.zeros_like(x)
    for i, row in enumerate(x):
        nz = np.flatnonzero(row)
        weights[i, nz.min():nz.max() + 1] = 1.0
    found = identify_profiles(ident, x, weights, settings=settings)
    answer = np.array([f["symmetry"]["space_group"]["number"] for f in found])
    top5 = [[v["number"] for v in f["symmetry"]["ranking"]][:5] for f in found]
    cs_true = np.array([crystal_system_of(int(g)) for g in truth])
    return {"cs": round(float(np.mean([crystal_system_of(int(g)) for g in answer] == cs_true)), 4),
            "sg": round(float(np.mean(answer == truth)), 4),
            "sg_top5": round(float(np.mean([t in r for t, r in zip(truth, top5)])), 4),
            "matched": round(float(np.mean([f["match"] for f in found])), 4)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=PACKAGED_MODEL)
    p.add_argument("--seed", type=int, default=1237)  # the evaluator's own seed (1234 + 3)
    p.add_argument("--renders", type=int, default=1, help="renderings of each phase (seeds seed, seed + 1, …)")
    p.add_argument("--own-renderer", action="store_true", help="also render the phases by the training augmentation")
    p.add_argument("--answer", action="store_true", help="also score predict's answer (identify's decision)")
    p.add_argument("--out", default=None, help="write the Markdown table here too")
    add_search_arguments(p)
    args = p.parse_args()
    predictor = Predictor.load(args.model)
    n = len(PHASES)
    sets = [textbook_set(predictor.cfg, args.seed + r) for r in range(args.renders)]
    x = np.concatenate([s.profiles for s in sets])
    xn = np.concatenate([s.shown for s in sets])  # as predict shows them to the network (single lines + Kα2)
    truth = np.concatenate([s.space_group for s in sets])
    alone, shown = predictor(xn, blend=False), predictor(xn, blend=True)
    raw = predictor(xn, blend=False, prior="none")
    top = alone["space_group"].argmax(1).reshape(args.renders, 2 * n) + 1
    cs = alone["crystal_system"].argmax(1).reshape(args.renders, 2 * n)
    own = None
    if args.own_renderer:
        xo, phase = own_renderings(predictor, args.renders, args.seed)
        own = (predictor(xo, blend=False)["space_group"].argmax(1) + 1, phase)

    def cell(j, sg):
        if args.renders == 1:
            mark = "✓" if top[0, j] == sg else ("CS ✓" if cs[0, j] == crystal_system_of(sg) else "✗")
            return f"{space_group_symbol(int(top[0, j]))} ({CRYSTAL_SYSTEMS[cs[0, j]]}) {mark}"
        most = ", ".join(f"{space_group_symbol(int(g))} {c}" for g, c in Counter(top[:, j].tolist()).most_common(2))
        return f"{int(np.sum(top[:, j] == sg))}/{args.renders} ({most})"

    head = "| phase | truth (system) | with Kα2: top SG (system) | without Kα2 |"
    if args.renders > 1:
        head = f"| phase | truth (system) | with Kα2: right of {args.renders} (most answered) | without Kα2 |"
    head += " own renderer |" if own else ""
    lines = [head, "|---" * (5 if own else 4) + "|"]
    for i, (name, _, sg, *_rest) in enumerate(PHASES):
        truth_cell = f"{space_group_symbol(sg)} ({CRYSTAL_SYSTEMS[crystal_system_of(sg)]})"
        row = f"| {name} | {truth_cell} | {cell(i, sg)} | {cell(i + n, sg)} |"
        if own:
            mine = own[0][own[1] == i]
            row += f" {int(np.sum(mine == sg))}/{len(mine)} |"
        lines.append(row)
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        atomic_write_text(args.out, table)

    def acc(pr):
        sg_pred = pr["space_group"].argmax(1) + 1
        cs_true = np.array([crystal_system_of(int(g)) for g in truth])
        per = (sg_pred == truth).reshape(args.renders, -1).mean(1)
        return {"cs": round(float(np.mean(pr["crystal_system"].argmax(1) == cs_true)), 4),
                "sg": round(float(np.mean(sg_pred == truth)), 4),
                "sg_spread": [round(float(per.min()), 4), round(float(per.max()), 4)]}
    out = {"benchmark": "textbook_phases", "model": args.model, "patterns": int(len(truth)), "renders": args.renders,
           "network_alone": acc(alone), "as_predict_shows": acc(shown), "network_alone_without_prior": acc(raw)}
    if args.answer:
        out["predict_answer"] = answer_scores(predictor, args.model, x, truth, search_settings(args))
    if own:
        own_truth = np.array([PHASES[k][2] for k in own[1]])
        out["own_renderer_network_alone_sg"] = round(float(np.mean(own[0] == own_truth)), 4)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

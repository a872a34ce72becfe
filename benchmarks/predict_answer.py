"""What ``difcon-jax predict`` answers on a labelled folder of measured patterns: its ``answer`` (identify's
symmetry decision: the fitted library phases' vote, or the network's answer for a phase outside the library)
next to the network's own top group (the lists ``predict`` keeps visible: heads + the library's kNN vote).

    python benchmarks/predict_answer.py ../shared/data/experimental/rruff_dev [--half even|odd] [--model DIR]

A measured folder may choose between recipes, never set a threshold (the choices are written down in results/).
Prints a summary and a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--model", default=None)
    ap.add_argument("--half", choices=("even", "odd"), default=None, help="every second labelled file")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--out", default=None, help="per-file records (JSON)")
    args = ap.parse_args(argv)
    from difcon_jax.crystal.symmetry import crystal_system_of
    from difcon_jax.inference.model_dir import PACKAGED_MODEL
    from difcon_jax.inference.predict_files import predict_files
    from difcon_jax.inference.predictor import Predictor
    from difcon_jax.match.identify import verify_predictions
    from difcon_jax.patterns.labelled import read_labels

    labels, _ = read_labels(args.folder)
    labels = labels[{"even": 0, "odd": 1}[args.half]::2] if args.half else labels
    labels = labels[:args.limit] if args.limit else labels
    truth = dict(labels)
    t0 = time.time()
    predictor = Predictor.load(args.model or PACKAGED_MODEL)
    results, profiles, errors = predict_files(list(truth), args.model, None, 5, predictor)
    results = verify_predictions(results, profiles, args.model, predictor)
    seconds = (time.time() - t0) / max(len(results), 1)
    recs = [{"file": os.path.basename(r["file"]), "y": truth[r["file"]], "answer": r["answer"]["space_group"]["number"],
             "top5": [v["number"] for v in r["answer"]["ranking"]][:5], "verified": r["answer"]["verified"],
             "network": r["space_group"][0]["number"], "network_top5": [v["number"] for v in r["space_group"]]}
            for r in results]

    def acc(f, sel=None):
        sel = recs if sel is None else sel
        return round(float(np.mean([f(r) for r in sel])), 4) if sel else float("nan")

    def same_system(a, b):
        return crystal_system_of(a) == crystal_system_of(b)

    verified = [r for r in recs if r["verified"]]
    summary = {"benchmark": "predict_answer", "folder": os.path.basename(os.path.normpath(args.folder)),
               "half": args.half or "all", "n": len(recs), "errors": len(errors),
               "answer": {"cs": acc(lambda r: same_system(r["answer"], r["y"])),
                          "sg_top1": acc(lambda r: r["answer"] == r["y"]), "sg_top5": acc(lambda r: r["y"] in r["top5"])},
               "network": {"cs_of_top_group": acc(lambda r: same_system(r["network"], r["y"])),
                           "sg_top1": acc(lambda r: r["network"] == r["y"]),
                           "sg_top5": acc(lambda r: r["y"] in r["network_top5"])},
               "verified_fraction": round(len(verified) / max(len(recs), 1), 4),
               "verified_sg_top1": acc(lambda r: r["answer"] == r["y"], verified),
               "seconds_per_pattern": round(seconds, 3)}
    if args.out:
        from difcon_jax.files import atomic_write_text

        atomic_write_text(args.out, json.dumps({"summary": summary, "records": recs}, indent=1))
    for _, reason in errors:
        print(f"skipped: {reason}", file=sys.stderr)  # the reason names the file
    a, n = summary["answer"], summary["network"]
    print(f"{summary['folder']} ({summary['n']} patterns): answer CS {a['cs']:.3f} SG {a['sg_top1']:.3f} top-5 "
          f"{a['sg_top5']:.3f}; network's top group CS {n['cs_of_top_group']:.3f} SG {n['sg_top1']:.3f} top-5 "
          f"{n['sg_top5']:.3f}; verified {summary['verified_fraction']:.3f} (right {summary['verified_sg_top1']:.3f})")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

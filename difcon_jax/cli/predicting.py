"""``difcon-jax predict`` (measured files → crystal system, extinction group, space group) and ``evaluate``
(test axes and labelled folders of measured patterns)."""

from __future__ import annotations

import os
import sys

from difcon_jax.cli.common import check_plot_folder, report_file_errors, strict_json
from difcon_jax.cli.matching import indexing_lines
from difcon_jax.data.prepare import prepare_table
from difcon_jax.errors import InputError
from difcon_jax.evaluate.confusion import write_confusions
from difcon_jax.evaluate.evaluators import (
    INDEPENDENT_AXES,
    measured_folders,
    run_evaluators,
    similarity_evaluator,
    simulated_axes,
)
from difcon_jax.evaluate.report import write_report
from difcon_jax.evaluate.similarity import similarity_png
from difcon_jax.inference.model_dir import PACKAGED_MODEL
from difcon_jax.inference.predict_files import plot_predictions, predict_files
from difcon_jax.inference.predictor import Predictor
from difcon_jax.inference.prior import PRIORS
from difcon_jax.match.identify import network_answer, verify_predictions
from difcon_jax.match.orders import describe_one_spacing
from difcon_jax.patterns.doublet import SHOWN_WITH_KA2
from difcon_jax.patterns.labelled import read_labels


def _print_prediction(r: dict, verify: bool) -> None:
    a = r["answer"]
    print(f"{r['file']}\n  answer: {a['crystal_system']}, {a['space_group']['symbol']} "
          f"(#{a['space_group']['number']}) — {a['source']}")
    v = r.get("verified")
    if v:
        print(f"  verified phase: {v['name']} [{v['code']}] {v['formula']}, {v['space_group']['symbol']} "
              f"(#{v['space_group']['number']}), Rwp {v['rwp']:.3f} (difcon-jax identify shows the fit)")
        if v.get("one_spacing"):
            print(f"  note: {describe_one_spacing(v['one_spacing'])}")
    elif verify:
        print("  verified phase: none in the library fits")
        for line in indexing_lines(r.get("indexing")):  # a cell of its own instead: the evidence identify draws
            print(f"  {line}")
    sg = ", ".join(f"{s['symbol']} (#{s['number']}) {s['p']:.3f}" for s in r["space_group"])
    cs = ", ".join(f"{c['label']} {c['p']:.3f}" for c in r["crystal_system"])
    eg = ", ".join(f"[{e['symbol']}] {e['p']:.3f}" for e in r["extinction_group"])
    # the network's own answer stays visible, whatever the fits decided
    if r.get("ka2_added"):
        print(f"  network input: {SHOWN_WITH_KA2}")
    print(f"  network{' (uncertain)' if r['uncertain'] else ''}: crystal system {cs}\n"
          f"           extinction group {eg}\n           space group {sg}")
    if "lattice_estimate" in r:
        c = r["lattice_estimate"]
        print(f"  lattice estimate (reduced primitive cell, network): a {c['a']:.2f} b {c['b']:.2f} c {c['c']:.2f} Å, "
              f"α {c['alpha']:.1f} β {c['beta']:.1f} γ {c['gamma']:.1f}°, V {c['volume']:.0f} Å³")


def cmd_predict(args) -> int:
    if args.top_k < 1:
        raise InputError(f"--top-k {args.top_k}", "must be at least 1")
    if args.wavelength is not None and not 0.05 <= args.wavelength <= 5.0:
        raise InputError(f"--wavelength {args.wavelength}", "outside 0.05–5 Å (X-ray wavelengths in Å)")
    check_plot_folder(args.plot)
    predictor = Predictor.load(args.model or PACKAGED_MODEL)  # read once: predict_files and the verification share it
    results, profiles, errors = predict_files(args.files, args.model, args.wavelength, args.top_k, predictor,
                                              args.prior)
    report_file_errors(errors)
    if args.verify:
        results = verify_predictions(results, profiles, args.model, predictor)
    else:
        results = [dict(r, answer=network_answer(r, "network (--no-verify: not checked against the library)"))
                   for r in results]
    if args.json:
        print(strict_json(results))
    else:
        for r in results:
            _print_prediction(r, args.verify)
    if args.plot and results:
        print(f"wrote {plot_predictions(results, profiles, args.plot)}", file=sys.stderr)
    return 1 if errors else 0


def default_report_folder(workdir: str) -> str:
    """Where ``evaluate`` writes without ``--out``: WORKDIR/evaluation — but never into the packaged model's folder,
    which is part of the installed package (read-only where it was installed for every user; tracked files in a
    checkout): its reports go to ``evaluation_difcon_cpu`` in the working directory."""
    if os.path.realpath(workdir) == os.path.realpath(PACKAGED_MODEL):
        return os.path.abspath(f"evaluation_{os.path.basename(PACKAGED_MODEL)}")
    return os.path.join(workdir, "evaluation")


def cmd_evaluate(args) -> int:
    if args.experimental_only and not args.experimental:
        raise InputError("--experimental-only", "needs at least one --experimental folder")
    for folder in args.experimental:  # bad labels fail now, not after minutes of evaluation
        read_labels(folder)
    predictor = Predictor.load(args.workdir)
    out = args.out or default_report_folder(args.workdir)
    try:  # an unusable report folder fails now, not after the evaluation
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise InputError(out, f"cannot make the report folder ({e.strerror}; choose another with --out)") from None
    cfg = predictor.cfg
    evaluators, failed = measured_folders(cfg, args.experimental, args.wavelength,
                                          network_only=predictor.library is not None)
    for f, reason in failed:
        print(f"difcon-jax: skipped {reason}", file=sys.stderr)
    similarity = None
    if not args.experimental_only:
        if args.table:  # another table's held-out structures (the split is a hash of formula|SG: held out here too)
            cfg.data.table = args.table
        table = prepare_table(cfg, args.workdir)
        similarity = similarity_evaluator(cfg, table)
        axes = tuple(cfg.eval.axes) + tuple(a for a in INDEPENDENT_AXES if a not in cfg.eval.axes)
        evaluators = simulated_axes(cfg, table, axes) + evaluators + [similarity]
    sets = run_evaluators(evaluators, predictor)
    for name, r in sets.items():
        if name != "similarity":
            write_confusions(r, f"{cfg.mode}: {name} (n={r.get('n')})",
                             os.path.join(out, f"confusion_{{level}}_{name}.png"))
    if similarity is not None:
        similarity_png(similarity.matrix, sets["similarity"], f"{cfg.mode}: cosine similarity of representations",
                       os.path.join(out, "similarity.png"))
        print(f"representation similarity: {sets['similarity']}")
    jpath, mpath = write_report(out, {cfg.mode: sets})
    print(open(mpath).read())
    print(f"wrote {jpath} and {mpath}")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("predict", help="crystal system / extinction group / space group of measured patterns")
    p.add_argument("files", nargs="+")
    p.add_argument("--model", default=None,
                   help="a training directory or model folder (default: the packaged DIFCON model of results/real_cpu)")
    p.add_argument("--wavelength", type=float, default=None, help="Å, for files without wavelength metadata")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--plot", default=None, metavar="PNG")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="skip the whole-pattern check against the model's reference database")
    p.add_argument("--prior", choices=PRIORS, default="library",
                   help="space-group frequencies the answer is for: the reference library's (minerals, default), "
                        "the training structures' (natural), or none (the heads as trained)")
    p.set_defaults(func=cmd_predict)

    e = sub.add_parser("evaluate", help="test axes (equivariance, invariance) and measured-pattern folders")
    e.add_argument("--workdir", required=True, help="a training directory, or a model folder with --experimental-only")
    e.add_argument("--experimental", action="append", default=[], metavar="DIR",
                   help="folder of measured patterns with labels.csv (file,space_group)")
    e.add_argument("--experimental-only", action="store_true",
                   help="score only the --experimental folders (any model folder, e.g. the packaged one; no test axes)")
    e.add_argument("--wavelength", type=float, default=None)
    e.add_argument("--table", default=None, metavar="DIR",
                   help="peak table for the simulated axes instead of the model's own (e.g. for a packaged model)")
    e.add_argument("--out", default=None, help="report folder (default WORKDIR/evaluation; for the packaged model "
                   "./evaluation_difcon_cpu, never inside the installed package)")
    e.set_defaults(func=cmd_evaluate)

"""``difcon-jax predict`` (measured files → crystal system, extinction group, space group) and ``evaluate``
(test axes and labelled folders of measured patterns)."""

from __future__ import annotations

import os
import sys

from difcon_jax.cli.common import check_plot_folder, report_file_errors


def cmd_predict(args) -> int:
    import json

    from difcon_jax.evaluate.predict_files import plot_predictions, predict_files
    from difcon_jax.train.checkpoint import CheckpointError

    if args.top_k < 1:
        raise ValueError(f"--top-k {args.top_k}: must be at least 1")
    if args.wavelength is not None and not 0.05 <= args.wavelength <= 5.0:
        raise ValueError(f"--wavelength {args.wavelength}: outside 0.05–5 Å (X-ray wavelengths in Å)")
    check_plot_folder(args.plot)
    try:
        results, profiles, errors = predict_files(args.files, args.model, args.wavelength, args.top_k)
    except CheckpointError as e:
        print(f"difcon-jax: {e}", file=sys.stderr)
        return 2
    report_file_errors(errors)
    if args.verify:
        from difcon_jax.match.identify import verify_predictions

        results = verify_predictions(results, profiles, args.model)
    if args.json:
        print(json.dumps(results))
    else:
        for r in results:
            sg = ", ".join(f"{s['symbol']} (#{s['number']}) {s['p']:.3f}" for s in r["space_group"])
            cs = ", ".join(f"{c['label']} {c['p']:.3f}" for c in r["crystal_system"])
            eg = ", ".join(f"[{e['symbol']}] {e['p']:.3f}" for e in r["extinction_group"])
            print(f"{r['file']}{'  (uncertain)' if r['uncertain'] else ''}\n  crystal system: {cs}\n"
                  f"  extinction group: {eg}\n  space group: {sg}")
            v = r.get("verified")
            if v:
                print(f"  verified phase: {v['name']} [{v['code']}] {v['formula']}, {v['space_group']['symbol']} "
                      f"(#{v['space_group']['number']}), Rwp {v['rwp']:.3f} (difcon-jax identify shows the fit)")
            elif args.verify:
                print("  verified phase: none in the library fits (the answer above is the network's)")
    if args.plot and results:
        print(f"wrote {plot_predictions(results, profiles, args.plot)}", file=sys.stderr)
    return 1 if errors else 0


def cmd_evaluate(args) -> int:
    from difcon_jax.evaluate.axes import evaluate_axes, evaluate_experimental, read_labels
    from difcon_jax.evaluate.calibration import read_calibration
    from difcon_jax.evaluate.confusion import write_confusions
    from difcon_jax.evaluate.report import write_report
    from difcon_jax.evaluate.library import read_library
    from difcon_jax.train.loop import load_trained, prepare_table

    if args.experimental_only and not args.experimental:
        raise ValueError("--experimental-only needs at least one --experimental folder")
    for folder in args.experimental:  # bad labels fail now, not after minutes of evaluation
        read_labels(folder)
    cfg, model, params = load_trained(args.workdir)
    t = float(read_calibration(args.workdir)["temperature"])
    library = read_library(args.workdir)
    sets = {} if args.experimental_only else evaluate_axes(cfg, model, params, prepare_table(cfg, args.workdir),
                                                           temperature=t)
    for folder in args.experimental:
        name = os.path.basename(os.path.normpath(folder))
        sets[name], failed = evaluate_experimental(cfg, model, params, folder, t, args.wavelength, library)
        if library is not None:  # what the network alone does, beside what predict shows
            sets[name + "_network_only"], _ = evaluate_experimental(cfg, model, params, folder, t, args.wavelength)
        for f, reason in failed:
            print(f"difcon-jax: skipped {reason}", file=sys.stderr)
    out = args.out or os.path.join(args.workdir, "evaluation")
    os.makedirs(out, exist_ok=True)
    for name, r in sets.items():
        write_confusions(r, f"{cfg.mode}: {name} (n={r.get('n')})", os.path.join(out, f"confusion_{{level}}_{name}.png"))
    if not args.experimental_only:
        from difcon_jax.evaluate.similarity import similarity_matrix, similarity_png

        sim, sim_summary = similarity_matrix(cfg, model, params, prepare_table(cfg, args.workdir))
        similarity_png(sim, sim_summary, f"{cfg.mode}: cosine similarity of representations",
                       os.path.join(out, "similarity.png"))
        print(f"representation similarity: {sim_summary}")
        sets["similarity"] = sim_summary
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
    p.set_defaults(func=cmd_predict)

    e = sub.add_parser("evaluate", help="test axes (equivariance, invariance) and measured-pattern folders")
    e.add_argument("--workdir", required=True, help="a training directory, or a model folder with --experimental-only")
    e.add_argument("--experimental", action="append", default=[], metavar="DIR",
                   help="folder of measured patterns with labels.csv (file,space_group)")
    e.add_argument("--experimental-only", action="store_true",
                   help="score only the --experimental folders (any model folder, e.g. the packaged one; no test axes)")
    e.add_argument("--wavelength", type=float, default=None)
    e.add_argument("--out", default=None, help="report folder (default WORKDIR/evaluation)")
    e.set_defaults(func=cmd_evaluate)

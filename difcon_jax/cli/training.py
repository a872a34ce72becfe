"""``difcon-jax train`` (config by name or path, resumes), ``export``, ``flat-head`` (a flat space-group head fitted
on a model's frozen representation), ``calibrate`` (a model folder's calibration fitted again), ``curve``,
``experiment`` (the project's Table 2) and ``augment figure`` (the paper's Fig. 2)."""

from __future__ import annotations

import os
import sys

import jax

from difcon_jax.augment.figure import augmentation_figure
from difcon_jax.config import default_config_path, load_config
from difcon_jax.data.prepare import prepare_table
from difcon_jax.errors import CheckpointError, ConfigError
from difcon_jax.evaluate.calibration import refit_uncertain, write_calibration
from difcon_jax.evaluate.evaluators import SIMULATED_AXES
from difcon_jax.inference.model_dir import PACKAGED_MODEL, export_model
from difcon_jax.inference.predictor import Predictor, add_member
from difcon_jax.jobs.experiment import run_experiment
from difcon_jax.jobs.calibrate import calibrate_model
from difcon_jax.jobs.flat_head import add_flat_head
from difcon_jax.jobs.learning_curve import learning_curve, write_learning_curve
from difcon_jax.jobs.run import train_and_evaluate
from difcon_jax.train import parallel


def cmd_augment_figure(args) -> int:
    cfg = load_config(args.config, args.overrides)
    print(f"wrote {augmentation_figure(args.file, args.out, cfg, k=args.k, seed=args.seed)}")
    return 0


def cmd_train(args) -> int:
    parallel.initialize_distributed()
    cfg = load_config(args.config, args.overrides)
    try:
        report = train_and_evaluate(cfg, args.workdir, evaluate=not args.skip_eval)
    except CheckpointError as e:  # a run that cannot resume has stopped, like one stopped by a NaN loss
        e.exit_code = 3
        raise
    if "summary_path" in report and jax.process_index() == 0:
        for axis in SIMULATED_AXES:
            r = report.get(axis, {})
            if r.get("n"):
                print(f"{axis:12s} n={r['n']:5d}  CS {r['acc_cs']:.3f}  EG {r['acc_eg']:.3f}  SG {r['acc_sg']:.3f}"
                      f"  SG top-5 {r['top5_sg']:.3f}"
                      + (f"  cell edge error {r['cell_edge_rel_err_median']:.3f}" if "cell_n" in r else ""))
        print(f"wrote {report['summary_path']}")
    return 0


def cmd_experiment(args) -> int:
    overrides = list(args.overrides)
    if args.synth_count:
        overrides.append(f"data.synth_count={args.synth_count}")
    if args.steps:
        overrides.append(f"num_steps={args.steps}")
    if args.eval_structures:
        overrides.append(f"eval.num_structures={args.eval_structures}")
    command = "difcon-jax " + " ".join(sys.argv[1:])
    run_experiment(args.workdir, args.config, overrides, args.modes.split(","), args.experimental, args.wavelength,
                   command)
    print(open(os.path.join(args.workdir, "report.md")).read())
    return 0


def _training_directory(workdir: str) -> None:
    if not os.path.isdir(os.path.join(workdir, "checkpoints")):
        raise CheckpointError(f"{workdir}: no checkpoints folder (not a training directory)")


def cmd_curve(args) -> int:
    _training_directory(args.workdir)
    curve = learning_curve(args.workdir, args.experimental, args.wavelength)
    out = args.out or os.path.join(args.workdir, "learning_curve")
    jpath, ppath = write_learning_curve(curve, out, f"{os.path.basename(os.path.normpath(args.workdir))}")
    print(f"wrote {jpath} and {ppath}")
    return 0


def cmd_export(args) -> int:
    _training_directory(args.workdir)
    if args.table and not args.member_of:
        raise ConfigError("--table fits a folder's threshold again after --member-of adds a network; give both")
    if args.member_of:
        name = os.path.relpath(os.path.abspath(args.out), os.path.abspath(args.member_of))
        if name in (".", "") or os.sep in name or name.startswith(".."):
            raise ConfigError(f"--out {args.out}: a member is written as a direct sub-folder of --member-of "
                              f"{args.member_of}")
    print(f"wrote {export_model(args.workdir, args.out, float16=args.float16)}")
    if args.member_of:
        print(f"wrote {add_member(args.member_of, name)}: its networks' heads are averaged")
    if args.table:
        folder = Predictor.load(args.member_of)
        folder.cfg.data.table = args.table
        calib = refit_uncertain(folder, prepare_table(folder.cfg, args.member_of), n=int(folder.cfg.eval.num_structures))
        print(f"wrote {write_calibration(args.member_of, calib)}: uncertain below p = {calib['uncertain_below']:.2f} "
              f"({calib['uncertain_fitted_on']})")
    return 0


def cmd_flat_head(args) -> int:
    try:
        dims = tuple(int(v) for v in args.hidden.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"--hidden {args.hidden!r}: comma-separated widths, e.g. 1024,1024") from None
    for name in ("passes", "per_pass", "epochs"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} {getattr(args, name)}: at least 1")
    r = add_flat_head(args.model, args.table, args.out, dims, args.passes, args.per_pass, args.epochs,
                      natural=args.natural_draw, seed=args.seed)
    print(f"wrote {args.out}: flat head {','.join(map(str, dims))} fitted on {r['features']} features in "
          f"{r['seconds']:.0f} s; temperature {r['temperature']:.2f}, natural prior's strength "
          f"{r['natural_prior_strength']}, uncertain below p = {r['uncertain_below']:.2f}")
    return 0


def cmd_calibrate(args) -> int:
    c = calibrate_model(args.model, args.table)
    print(f"wrote {os.path.join(args.model, 'calibration.json')}: temperature {c['temperature']:.2f}, natural prior's "
          f"strength {c.get('natural_prior_strength')}, uncertain below p = {c['uncertain_below']:.2f} "
          f"({c.get('uncertain_fitted_on', c.get('fitted_on'))})")
    return 0


def add_parsers(sub) -> None:
    a = sub.add_parser("augment", help="augmentation tools")
    asub = a.add_subparsers(dest="augment_cmd", required=True)
    f = asub.add_parser("figure", help="one structure, clean and under K random augmentations (paper Fig. 2)")
    f.add_argument("file", help="a CIF file")
    f.add_argument("--out", required=True, help="PNG path")
    f.add_argument("-k", type=int, default=8)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--config", default=default_config_path("augment_table1"),
                   help="augmentation config: a name (augment_invariance for the held-out ranges) or a .py path; "
                        "change fields with --config.a.b=value")
    f.set_defaults(func=cmd_augment_figure)

    t = sub.add_parser("train", help="train a model from a config file (resumes from WORKDIR)")
    t.add_argument("--config", default=default_config_path("quickstart"),
                   help="config: a packaged name (quickstart, difcon, difcon_cpu, augment_real …) or a path to a .py file with get_config(); default quickstart")
    t.add_argument("--workdir", required=True)
    t.add_argument("--skip-eval", action="store_true", help="no evaluation summary at the end")
    t.set_defaults(func=cmd_train)

    c = sub.add_parser("curve", help="learning curve: every kept checkpoint on the equivariance axis (eval.num_structures) and measured folders")
    c.add_argument("--workdir", required=True)
    c.add_argument("--experimental", action="append", default=[], metavar="DIR")
    c.add_argument("--wavelength", type=float, default=None)
    c.add_argument("--out", default=None, help="output stem (default WORKDIR/learning_curve)")
    c.set_defaults(func=cmd_curve)

    o = sub.add_parser("export", help="a training directory's latest parameters as a model folder for predict")
    o.add_argument("--workdir", required=True)
    o.add_argument("--out", required=True)
    o.add_argument("--float16", action="store_true", help="store parameters as float16 (half the size)")
    o.add_argument("--member-of", default=None, metavar="MODEL_DIR",
                   help="--out is a sub-folder of this model folder: add it to MODEL_DIR/members.json (the "
                        "networks' heads are averaged)")
    o.add_argument("--table", default=None, help="with --member-of: the peak table the networks were trained on; "
                   "the folder's 'uncertain' threshold is fitted again on its simulated validation patterns")
    o.set_defaults(func=cmd_export)

    h = sub.add_parser("flat-head", help="a model folder grown by a flat space-group head fitted on the model's "
                       "frozen representation (results/network_axes/README.md)")
    h.add_argument("--model", default=PACKAGED_MODEL, help="model folder or training directory (default: packaged)")
    h.add_argument("--table", required=True, help="the peak table the model was trained on")
    h.add_argument("--out", required=True, help="the new model folder")
    h.add_argument("--hidden", default="1024,1024", help="the head's hidden widths (comma-separated)")
    h.add_argument("--passes", type=int, default=30, help="renders of each drawn batch of training rows")
    h.add_argument("--per-pass", type=int, default=8192, help="training rows drawn per pass")
    h.add_argument("--epochs", type=int, default=8)
    h.add_argument("--natural-draw", action="store_true",
                   help="draw every training structure equally often (default: as the model was trained)")
    h.add_argument("--seed", type=int, default=100)
    h.set_defaults(func=cmd_flat_head)

    k = sub.add_parser("calibrate", help="a model folder's calibration fitted again on simulated validation patterns "
                       "(after its network changed: parameters brought back from an accelerator, say)")
    k.add_argument("--model", required=True, help="the model folder (its calibration.json is rewritten)")
    k.add_argument("--table", required=True, help="the peak table the model was trained on")
    k.set_defaults(func=cmd_calibrate)

    x = sub.add_parser("experiment", help="train and evaluate HAND, CNNstatic, CNNaug, DIFCON: the project's Table 2")
    x.add_argument("--workdir", required=True)
    x.add_argument("--config", default=default_config_path("quickstart"), help="base config (scale)")
    x.add_argument("--modes", default="cnn_static,cnn_aug,difcon")
    x.add_argument("--synth-count", type=int, default=0)
    x.add_argument("--steps", type=int, default=0)
    x.add_argument("--eval-structures", type=int, default=0)
    x.add_argument("--experimental", action="append", default=[], metavar="DIR")
    x.add_argument("--wavelength", type=float, default=None)
    x.set_defaults(func=cmd_experiment)

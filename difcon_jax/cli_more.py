"""Sub-commands of the later parts of the system (augmentation pictures, training, evaluation)."""

from __future__ import annotations

import os
import sys


def cmd_augment_figure(args) -> int:
    from difcon_jax.augment.figure import augmentation_figure
    from difcon_jax.config import load_config
    from difcon_jax.errors import InputError

    cfg = load_config(args.config, args.override)
    try:
        out = augmentation_figure(args.file, args.out, cfg, k=args.k, seed=args.seed)
    except InputError as e:
        print(f"difcon-jax: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


def cmd_train(args) -> int:
    from difcon_jax.config import load_config
    from difcon_jax.train import parallel

    parallel.initialize_distributed()
    import jax

    from difcon_jax.train.checkpoint import CheckpointError
    from difcon_jax.train.loop import NonFiniteLoss, train

    overrides = [o for o in args.overrides]
    cfg = load_config(args.config, overrides)
    try:
        last = train(cfg, args.workdir)
    except (NonFiniteLoss, CheckpointError) as e:
        print(f"difcon-jax: {e}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        # A failed Orbax restore leaves asyncio/tensorstore threads that print tracebacks while the
        # interpreter shuts down; the user gets the one line above and nothing else.
        os._exit(3)
    if not args.skip_eval and jax.process_index() == 0:
        from difcon_jax.evaluate.axes import evaluate_axes, write_summary
        from difcon_jax.train.loop import load_trained, prepare_table

        cfg2, model, params = load_trained(args.workdir)
        report = {"mode": cfg.mode, "steps": int(cfg.num_steps), "train_metrics": last,
                  **evaluate_axes(cfg2, model, params, prepare_table(cfg2, args.workdir))}
        path = write_summary(args.workdir, report)
        for axis in ("equivariance", "invariance"):
            r = report[axis]
            if r.get("n"):
                print(f"{axis:12s} n={r['n']:5d}  CS {r['acc_cs']:.3f}  EG {r['acc_eg']:.3f}  SG {r['acc_sg']:.3f}"
                      f"  SG top-5 {r['top5_sg']:.3f}")
        print(f"wrote {path}")
    return 0


def add_commands(sub) -> None:
    from difcon_jax.config import default_config_path

    a = sub.add_parser("augment", help="augmentation tools")
    asub = a.add_subparsers(dest="augment_cmd", required=True)
    f = asub.add_parser("figure", help="one structure, clean and under K random augmentations (paper Fig. 2)")
    f.add_argument("file", help="a CIF file")
    f.add_argument("--out", required=True, help="PNG path")
    f.add_argument("-k", type=int, default=8)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--config", default=default_config_path("augment_table1"),
                   help="augmentation config (configs/augment_invariance.py for the held-out ranges)")
    f.add_argument("--override", action="append", default=[], metavar="KEY=VALUE")
    f.set_defaults(func=cmd_augment_figure)

    t = sub.add_parser("train", help="train a model from a config file (resumes from WORKDIR)")
    t.add_argument("--config", default=default_config_path("quickstart"))
    t.add_argument("--workdir", required=True)
    t.add_argument("--skip-eval", action="store_true", help="no evaluation summary at the end")
    t.set_defaults(func=cmd_train)

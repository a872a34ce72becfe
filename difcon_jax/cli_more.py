"""Sub-commands of the later parts of the system (augmentation pictures, training, evaluation)."""

from __future__ import annotations

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

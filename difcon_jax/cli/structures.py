"""``difcon-jax simulate`` (one CIF: labels and stick pattern) and ``difcon-jax dataset build|synth|pack|unpack``
(peak tables from CIF sources or pyxtal crystals; a table packed into one file to carry, and unpacked)."""

from __future__ import annotations

import json
import os
import sys

from difcon_jax.cli.common import err as _err
from difcon_jax.crystal import read_cif, stick_pattern
from difcon_jax.crystal.radiation import resolve_radiation
from difcon_jax.crystal.stick import pattern_summary
from difcon_jax.crystal.synthetic import SynthOptions
from difcon_jax.data.build import BuildOptions, build_from_cifs, build_synthetic, fill_thin_groups
from difcon_jax.data.pack import pack_table, unpack_table
from difcon_jax.errors import InputError


def _build_options(args):

    return BuildOptions(wavelength=args.wavelength, two_theta_max=args.two_theta_max, max_peaks=args.max_peaks,
                        test_fraction=args.test_fraction, validation_fraction=args.validation_fraction)


def cmd_pack(args) -> int:
    """``dataset pack TABLE --out FILE`` / ``dataset unpack FILE --out TABLE``."""
    try:
        if args.dataset_cmd == "pack":
            if args.max_peaks is not None and args.max_peaks < 1:
                return _err("--max-peaks must be at least 1")
            s = pack_table(args.table, args.out, args.max_peaks)
            print(f"{args.out}: {s['rows']} structures, {s['max_peaks']} peaks each, {s['bytes'] / 2**20:.1f} MiB; "
                  f"2θ within {s['max_tt_error']:.4f}°, intensities within "
                  f"{100 * s['max_relative_intensity_error']:.2f} %")
        else:
            t = unpack_table(args.file, args.out)
            print(f"{args.out}: {len(t)} structures, {t.max_peaks} peaks each (from {args.file})")
    except ValueError as e:  # the table's own one-line refusals (not a peak table, unreadable arrays, …)
        return _err(" ".join(str(e).split()))
    return 0


def cmd_dataset(args) -> int:

    if args.dataset_cmd == "build":
        missing = [d for d in args.cif_dir if not os.path.exists(d)]
        if missing:
            return _err(f"{missing[0]}: no such file or directory")
        result = build_from_cifs(args.cif_dir, args.out, args.workers, _build_options(args))
    else:
        if args.add_per_group and not args.fill_from:
            return _err("--add-per-group adds to a table: give it --fill-from TABLE")
        if args.fill_from:
            result = fill_thin_groups(args.fill_from, args.out, args.min_per_group, args.seed, args.workers,
                                      synth_options=SynthOptions(max_atoms=args.max_atoms),
                                      add_per_group=args.add_per_group)
            print(f"{result.stats['thin_groups']} space groups had fewer than {args.min_per_group} training structures"
                  + (f"; {args.add_per_group} more crystals asked of every group" if args.add_per_group else ""))
            print(result.summary + f"; merged with {args.fill_from} into {args.out}")
            return 0
        if args.count is None or args.count < 1:
            return _err("--count must be at least 1")
        result = build_synthetic(args.count, args.out, args.seed, args.workers, _build_options(args),
                                 SynthOptions(prior=args.prior, max_atoms=args.max_atoms))
    print(result.summary)
    return 0 if result.built > 0 else 1


def cmd_simulate(args) -> int:

    try:
        resolve_radiation(args.wavelength)
    except ValueError as e:
        return _err(str(e))
    if not 0.0 < args.two_theta_max <= 180.0:  # also catches nan
        return _err(f"--two-theta-max {args.two_theta_max}: must be in (0, 180] degrees")
    if args.b_iso is not None and not args.b_iso >= 0.0:
        return _err(f"--b-iso {args.b_iso}: a displacement parameter B must be ≥ 0 Å²")
    try:
        st = read_cif(args.file)
        pat = stick_pattern(st, args.wavelength, args.two_theta_max, b_iso=args.b_iso)
    except InputError as e:
        return _err(str(e))
    except ValueError as e:  # our own refusals from the physics (e.g. the reflection-count bound)
        return _err(f"{args.file}: {' '.join(str(e).split())}")
    except Exception as e:  # physics on a bad-but-parsable file: still one line
        return _err(f"{args.file}: {type(e).__name__}: {' '.join(str(e).split())}")
    for note in st.notes:  # corrections made while reading (labels mapped, occupancies clipped, sites merged)
        print(f"difcon-jax: note: {args.file}: {note}", file=sys.stderr)
    summary = pattern_summary(st, pat)
    if args.json:
        print(json.dumps(summary))
        return 0
    eg = summary["extinction_group"]
    print(f"{args.file}: {summary['formula']}  space group {summary['space_group']} ({summary['space_group_symbol']})"
          f"  {summary['crystal_system']}  extinction group {eg['id']} [{eg['symbol']}]")
    print(f"{'2theta':>10} {'d/Å':>9} {'I':>8} {'m':>4}  hkl")
    for p in summary["peaks"]:
        hkl = " ".join("".join(str(x) for x in h) if all(abs(x) < 10 for x in h) else ",".join(map(str, h))
                       for h in p["hkl"])
        print(f"{p['two_theta']:10.4f} {p['d']:9.5f} {p['intensity']:8.3f} {p['multiplicity']:4d}  {hkl}")
    return 0


def add_parsers(sub) -> None:
    ds = sub.add_parser("dataset", help="build peak-table datasets")
    dsub = ds.add_subparsers(dest="dataset_cmd", required=True)
    for name, helptext in (("build", "from a folder of CIF files"), ("synth", "from random pyxtal crystals")):
        q = dsub.add_parser(name, help=helptext)
        if name == "build":
            q.add_argument("--cif-dir", required=True, action="append",
                           help="a folder (recursive), a .tar.gz/.tgz/.zip archive or a CIF; repeat for several")
        else:
            q.add_argument("--count", type=int, default=None, help="number of crystals (not with --fill-from)")
            q.add_argument("--fill-from", default=None, metavar="TABLE",
                           help="add crystals only for the space groups TABLE has fewer than --min-per-group "
                                "training structures of; --out gets TABLE plus them")
            q.add_argument("--min-per-group", type=int, default=20)
            q.add_argument("--add-per-group", type=int, default=0,
                           help="with --fill-from: this many more crystals of every space group (many structure "
                                "types per group, so none stands for its group)")
            q.add_argument("--seed", type=int, default=0)
            q.add_argument("--prior", choices=("mp", "uniform"), default="mp",
                           help="space-group prior: Materials Project frequencies (default) or uniform")
            q.add_argument("--max-atoms", type=int, default=64, help="atoms per conventional cell (default 64)")
        q.add_argument("--out", required=True, help="output peak-table directory")
        q.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 1)))
        q.add_argument("--wavelength", default="CuKa", help="Å or source name (default CuKa = 1.5418 Å)")
        q.add_argument("--two-theta-max", type=float, default=120.0)
        q.add_argument("--max-peaks", type=int, default=256)
        q.add_argument("--test-fraction", type=float, default=0.1, help="held-out structures: equivariance test")
        q.add_argument("--validation-fraction", type=float, default=0.1,
                       help="held-out structures for calibration (temperature, uncertain threshold)")
        q.set_defaults(func=cmd_dataset)
    q = dsub.add_parser("pack", help="a peak table in one compact file (to carry to an accelerator)")
    q.add_argument("table", help="a peak-table directory")
    q.add_argument("--out", required=True, help="the packed file (.npz)")
    q.add_argument("--max-peaks", type=int, default=None, help="strongest peaks kept per structure (default: all)")
    q.set_defaults(func=cmd_pack)
    q = dsub.add_parser("unpack", help="a packed table back into a peak-table directory")
    q.add_argument("file", help="a file written by 'dataset pack'")
    q.add_argument("--out", required=True, help="output peak-table directory")
    q.set_defaults(func=cmd_pack)

    s = sub.add_parser("simulate", help="labels and stick pattern of one CIF")
    s.add_argument("file")
    s.add_argument("--wavelength", default="CuKa", help="Å or source name (CuKa, MoKa, CuKa12, ...)")
    s.add_argument("--two-theta-max", type=float, default=120.0)
    s.add_argument("--b-iso", type=float, default=None, help="override every atom's B (Å²; 0 = static)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_simulate)

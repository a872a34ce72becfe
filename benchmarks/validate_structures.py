"""Validate the stick-pattern code over every CIF in ../shared/data/structures.

Prints how many files parsed, how many were skipped and why, and the worst deviation from pymatgen's
XRDCalculator (B = 0, λ = 1.54184 Å, 2θ ≤ 120°). Last line: JSON.

    python benchmarks/validate_structures.py [--root ../shared/data/structures] [--workers 2] [--limit N]
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _one(path):
    from difcon_jax.crystal import read_cif
    from difcon_jax.crystal.reference import compare_with_pymatgen
    from difcon_jax.errors import InputError

    try:
        st = read_cif(path)
    except InputError as e:
        return path, "skip", e.problem, None
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
        a = compare_with_pymatgen(st, text)
    except Exception as e:  # pymatgen refuses some files we read: not our deviation
        return path, "noref", f"pymatgen: {type(e).__name__}", None
    return path, "ok", "", (a.position_error, a.intensity_error, sorted(set(st.elements)))


def reason_class(problem: str) -> str:
    """Collapse numbers and names so that reasons group: 'exceed the cap', 'unknown element', ..."""
    p = re.sub(r"'[^']*'|\"[^\"]*\"|\([^)]*\)", "…", problem)
    return re.sub(r"[-+]?\d[\d.eE+-]*", "N", p)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(HERE, "..", "..", "shared", "data", "structures"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    from difcon_jax.data.build import find_cifs

    files = find_cifs(args.root)
    if args.limit:
        files = files[:: max(1, len(files) // args.limit)]
    if not files:
        sys.exit(f"no CIF files under {args.root}")
    t0 = time.time()
    with mp.get_context("spawn").Pool(args.workers) as pool:
        results = pool.map(_one, files, chunksize=8)
    skips = collections.Counter(reason_class(r[2]) for r in results if r[1] == "skip")
    noref = collections.Counter(r[2] for r in results if r[1] == "noref")
    ok = [r for r in results if r[1] == "ok"]
    worst_pos = max(ok, key=lambda r: r[3][0])
    worst_int = max(ok, key=lambda r: r[3][1])
    over = [r for r in ok if r[3][1] >= 1.5]
    elems = collections.Counter(e for r in over for e in r[3][2])
    print(f"files {len(files)}: parsed {len(files) - sum(skips.values())}, skipped {sum(skips.values())}")
    for reason, n in skips.most_common():
        print(f"  skipped {n:4d}  {reason}")
    print(f"compared with pymatgen: {len(ok)} (pymatgen could not read {sum(noref.values())}: {dict(noref)})")
    print(f"worst position deviation {worst_pos[3][0]:.2e}° ({os.path.relpath(worst_pos[0], args.root)})")
    print(f"worst intensity deviation {worst_int[3][1]:.2f} % of max ({os.path.relpath(worst_int[0], args.root)})")
    print(f"files with intensity deviation ≥ 1.5 %: {len(over)}; elements most often in them: {elems.most_common(8)}")
    print(json.dumps({
        "files": len(files), "parsed": len(files) - sum(skips.values()), "skipped": sum(skips.values()),
        "skip_reasons": dict(skips), "compared": len(ok), "pymatgen_unreadable": sum(noref.values()),
        "worst_position_deg": worst_pos[3][0], "worst_intensity_pct": worst_int[3][1],
        "median_intensity_pct": sorted(r[3][1] for r in ok)[len(ok) // 2],
        "over_1p5_pct": len(over), "within_1p5_pct_share": 1 - len(over) / len(ok), "seconds": time.time() - t0,
    }))


if __name__ == "__main__":
    main()

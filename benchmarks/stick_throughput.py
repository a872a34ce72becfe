"""Stick-pattern throughput against pymatgen, and dataset build rates.

Same CIFs, same machine, one run. ``ours`` and ``pymatgen`` time only the pattern computation from an
already-parsed structure (each with its own parser outside the timer), 2θ ≤ 120°, λ = 1.54184 Å.
Build rates: ``dataset build`` and ``dataset synth`` on 2 processes, extrapolated linearly to 200 k
structures on 16 cores. Last line: JSON.

    python benchmarks/stick_throughput.py [--n 200] [--synth 120]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "shared", "data", "structures")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200, help="CIFs sampled for the pattern timing")
    ap.add_argument("--synth", type=int, default=120, help="structures for the synth build rate")
    ap.add_argument("--root", default=ROOT)
    args = ap.parse_args()

    from pymatgen.analysis.diffraction.xrd import XRDCalculator
    from pymatgen.io.cif import CifParser

    from difcon_jax.crystal import read_cif, stick_pattern
    from difcon_jax.data.build import build_from_cifs, build_synthetic, find_cifs
    from difcon_jax.errors import InputError

    files = find_cifs(args.root)
    sample = files[:: max(1, len(files) // args.n)][: args.n]
    ours_t = pmg_t = 0.0
    n = 0
    calc = XRDCalculator(wavelength=1.54184)
    for f in sample:
        try:
            st = read_cif(f)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ps = CifParser(f).parse_structures(primitive=False)[0]
        except (InputError, Exception):
            continue
        t = time.perf_counter()
        try:
            stick_pattern(st, 1.54184, 120.0)
        except ValueError:  # e.g. an element without IT92 form factors: skipped on both sides
            continue
        ours_t += time.perf_counter() - t
        t = time.perf_counter()
        calc.get_pattern(ps, two_theta_range=(0, 120))
        pmg_t += time.perf_counter() - t
        n += 1
    ours_ms, pmg_ms = 1e3 * ours_t / n, 1e3 * pmg_t / n
    print(f"stick pattern over {n} shared CIFs: ours {ours_ms:.2f} ms, pymatgen {pmg_ms:.2f} ms per structure, "
          f"ratio {pmg_ms / ours_ms:.1f}x")

    tmp = tempfile.mkdtemp()
    try:
        sub = os.path.join(tmp, "cifs")
        os.makedirs(sub)
        for i, f in enumerate(files[:: max(1, len(files) // 600)][:600]):
            shutil.copy(f, os.path.join(sub, f"{i}.cif"))  # a temporary sample, deleted below
        r = build_from_cifs(sub, os.path.join(tmp, "b"), workers=2)
        build_rate = (r.built + len(r.skipped)) / r.seconds
        r2 = build_synthetic(args.synth, os.path.join(tmp, "s"), seed=0, workers=2)
        synth_rate = (r2.built + len(r2.skipped)) / r2.seconds
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # 2 processes -> 16 cores: ×8, linear (workers share nothing).
    print(f"dataset build: {build_rate:.1f} structures/s on 2 processes "
          f"(200k on 16 cores ≈ {200000 / (8 * build_rate) / 60:.1f} min)")
    print(f"dataset synth: {synth_rate:.1f} structures/s on 2 processes "
          f"(200k on 16 cores ≈ {200000 / (8 * synth_rate) / 60:.1f} min)")
    print(json.dumps({
        "benchmark": "stick_throughput", "structures": n, "ours_ms_per_structure": round(ours_ms, 3),
        "pymatgen_ms_per_structure": round(pmg_ms, 3), "ratio_vs_pymatgen": round(pmg_ms / ours_ms, 2),
        "build_structures_per_s_2proc": round(build_rate, 2), "synth_structures_per_s_2proc": round(synth_rate, 2),
        "build_200k_16core_min": round(200000 / (8 * build_rate) / 60, 2),
        "synth_200k_16core_min": round(200000 / (8 * synth_rate) / 60, 2),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
    }))


if __name__ == "__main__":
    main()

"""Helpers shared by the benchmarks: a small real peak table and a timer."""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_COD = os.path.join(HERE, "..", "..", "shared", "data", "structures", "cod_one_per_space_group")


def small_table(max_peaks: int = 128):
    """A peak table from the shared COD CIFs (or 64 pyxtal crystals when ../shared is absent)."""
    from difcon_jax.data import load_peak_table
    from difcon_jax.data.build import BuildOptions, build_from_cifs, build_synthetic

    out = os.path.join(tempfile.mkdtemp(), "table")
    opts = BuildOptions(max_peaks=max_peaks)
    if os.path.isdir(SHARED_COD):
        build_from_cifs(SHARED_COD, out, workers=2, options=opts)
    else:
        build_synthetic(64, out, workers=2, options=opts)
    return load_peak_table(out, mmap=False)


def median_time(fn, repeats: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))

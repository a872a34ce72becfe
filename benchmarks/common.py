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


def random_table(n: int = 512, max_peaks: int = 128, seed: int = 0):
    """An in-memory peak table of ``n`` random stick patterns (for machines without ../shared or pyxtal, e.g.
    a lent accelerator): 40–``max_peaks`` live peaks at uniform 2θ in 5–115°, intensities log-uniform over
    four decades, random texture terms, labels of random space groups. Throughput does not depend on the
    crystallography, only on the shapes, so the numbers compare with the shared-CIF table's."""
    from difcon_jax.crystal.symmetry import labels_for_number
    from difcon_jax.data.peak_table import PeakTable

    rng = np.random.default_rng(seed)
    live = rng.integers(40, max_peaks + 1, n)
    mask = np.arange(max_peaks)[None] < live[:, None]
    tt = np.where(mask, np.sort(rng.uniform(5, 115, (n, max_peaks)), axis=1), 0).astype(np.float32)
    inten = np.where(mask, 10 ** rng.uniform(-2, 2, (n, max_peaks)), 0).astype(np.float32)
    c2 = rng.uniform(0, 1, (n, max_peaks, 4)).astype(np.float32)
    w = rng.dirichlet(np.ones(4), (n, max_peaks)).astype(np.float32)
    sg = rng.integers(1, 231, n).astype(np.int32)
    labels = [labels_for_number(int(g)) for g in sg]
    return PeakTable(two_theta=tt, intensity=inten, mask=mask, po_cos2=c2, po_weight=w, space_group=sg,
                     crystal_system=np.array([lab.crystal_system for lab in labels], np.int32),
                     extinction_group=np.array([lab.extinction_group for lab in labels], np.int32),
                     split=np.zeros(n, np.int8), dropped_fraction=np.zeros(n, np.float32),
                     source_id=np.zeros(n, np.int32), formula=np.array(["random"] * n), meta={"builder": "random"})


def table_from_args(args, max_peaks: int = 128):
    """The benchmark's table: ``--table DIR`` (truncated to ``max_peaks``), ``--random-table``, or the
    shared COD CIFs (pyxtal crystals without ../shared)."""
    if getattr(args, "random_table", False):
        return random_table(max_peaks=max_peaks)
    if getattr(args, "table", None):
        from difcon_jax.data import load_peak_table
        from difcon_jax.data.prepare import strongest_peaks

        table = load_peak_table(args.table, mmap=False)
        return strongest_peaks(table, max_peaks) if table.max_peaks > max_peaks else table
    return small_table(max_peaks)


def default_chunk(cfg) -> int:
    """The augmentation's render grouping for this backend: the config's, "auto" resolved (8 on a CPU, one
    wide vmap on an accelerator; difcon_jax.augment.pipeline.render_chunk)."""
    from difcon_jax.augment.pipeline import render_chunk

    return render_chunk(cfg)


def use_cpu_devices(n: int) -> None:
    """Expose the host CPU as ``n`` XLA devices (call before JAX starts; n ≤ 1 leaves the default)."""
    if n > 1:
        os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={n} " + os.environ.get("XLA_FLAGS", "")


def shard_batch(tree):
    """Every leaf's leading (batch) axis sharded over a ('data',) mesh of all devices (identity on one)."""
    import jax

    if jax.device_count() == 1:
        return tree
    from difcon_jax.train import parallel

    _, sharded = parallel.shardings(parallel.make_mesh())
    return jax.device_put(tree, sharded)


def add_search_arguments(p) -> None:
    """The search settings the identify benchmarks take (``IdentifySettings`` fields; defaults as shipped)."""
    from difcon_jax.match.search import IdentifySettings as S
    p.add_argument("--first-phase-tries", type=int, default=S.first_phase_tries,
                   help="first phases tried in turn when a mixture explains too little (1: the best only)")
    p.add_argument("--containment", type=int, default=S.containment,
                   help="candidates retrieved by containment (0: representation and fingerprint only, as before)")
    p.add_argument("--min-gain", type=float, default=S.min_gain,
                   help="a further phase must lower the total Rwp by this fraction")
    p.add_argument("--no-refine-together", action="store_true",
                   help="judge a further phase with the phases before it as fitted alone (not refitted with it)")
    p.add_argument("--fine-starts", default=",".join(S.fit.fine_starts),
                   help="where the fine fit starts, the better kept (FitSettings.fine_starts): coarse, profile_reset")
    p.add_argument("--no-texture-axes", action="store_true",
                   help="hold the March–Dollase direction to c* (FitSettings.texture_axes off, as before)")


def search_settings(a, **fields):
    """The ``IdentifySettings`` of :func:`add_search_arguments`' options, with ``fields`` set too."""
    import dataclasses

    from difcon_jax.match.search import IdentifySettings
    fit = dataclasses.replace(fields.pop("fit", IdentifySettings.fit), fine_starts=tuple(a.fine_starts.split(",")),
                              texture_axes=not a.no_texture_axes)
    return IdentifySettings(first_phase_tries=a.first_phase_tries, containment=a.containment, min_gain=a.min_gain,
                            refine_together=not a.no_refine_together, fit=fit, **fields)

"""Dataset builders: ``dataset build`` (a folder of CIFs) and ``dataset synth`` (pyxtal crystals).

Work is spread over processes (spawn: safe even when the parent has imported JAX). Each item becomes a
row of the peak table or a line in the report; the build keeps every good structure and fails only when
nothing could be built.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import sys
import time
from typing import Callable, Iterable

import numpy as np

from difcon_jax.crystal.stick import stick_pattern
from difcon_jax.crystal.structure import Structure, StructureLimits
from difcon_jax.crystal.symmetry import crystal_system_of, extinction_group_of, num_extinction_groups
from difcon_jax.data.peak_table import pad_peaks, write_peak_table
from difcon_jax.data.split import split_key, split_of
from difcon_jax.io_util import atomic_write_text


@dataclasses.dataclass(frozen=True)
class BuildOptions:
    wavelength: str | float = "CuKa"
    two_theta_min: float = 0.0
    two_theta_max: float = 120.0
    max_peaks: int = 256
    test_fraction: float = 0.1
    validation_fraction: float = 0.1
    limits: StructureLimits = StructureLimits()


@dataclasses.dataclass
class BuildResult:
    built: int
    skipped: list[tuple[str, str]]  # (item, reason)
    out: str
    report: str
    seconds: float

    @property
    def summary(self) -> str:
        return f"built {self.built} structures, skipped {len(self.skipped)} (see {self.report})"


def structure_record(st: Structure, options: BuildOptions) -> dict:
    """One peak-table row for a structure (host-side NumPy)."""
    sp = stick_pattern(st, options.wavelength, options.two_theta_max, options.two_theta_min)
    if len(sp) == 0:
        raise ValueError(f"no reflections between {options.two_theta_min}° and {options.two_theta_max}° 2θ")
    tt, inten, mask, dropped, c2, w = pad_peaks(sp.two_theta, sp.intensity, options.max_peaks, sp.po_cos2,
                                                sp.po_weight)
    return {"two_theta": tt, "intensity": inten, "mask": mask, "po_cos2": c2, "po_weight": w, "space_group": st.space_group,
            "crystal_system": crystal_system_of(st.space_group), "extinction_group": extinction_group_of(st.space_group),
            "split": split_of(split_key(st.reduced_formula, st.space_group), options.test_fraction,
                              options.validation_fraction),
            "dropped_fraction": dropped, "source_id": st.source, "formula": st.formula}


def _cif_task(args):
    path, options = args
    from difcon_jax.crystal.structure import read_cif
    from difcon_jax.errors import InputError

    try:
        return path, structure_record(read_cif(path, limits=options.limits), options), None
    except InputError as e:
        return path, None, e.problem
    except Exception as e:  # a real-life file can break anything: report it, keep going
        return path, None, f"{type(e).__name__}: {' '.join(str(e).split())}"


def _synth_task(args):
    seed, index, options, synth_options = args
    from difcon_jax.crystal.synthetic import random_structure

    item = f"synth:{seed}:{index}"
    try:
        st, _ = random_structure(seed, index, synth_options)
        return item, structure_record(st, options), None
    except Exception as e:
        return item, None, " ".join(str(e).split())


def _run(tasks: list, fn: Callable, workers: int, desc: str) -> Iterable:
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), desc=desc, unit="structure", file=sys.stderr, disable=None, smoothing=0.05)
    if workers <= 1:
        for t in tasks:
            yield fn(t)
            bar.update()
    else:
        ctx = mp.get_context("spawn")
        chunk = max(1, min(64, len(tasks) // (workers * 8)))
        with ctx.Pool(workers) as pool:
            for r in pool.imap(fn, tasks, chunksize=chunk):  # imap keeps the input order: deterministic output
                yield r
                bar.update()
    bar.close()


def _write_report(path: str, skipped: list[tuple[str, str]]) -> None:
    atomic_write_text(path, "item\treason\n" + "".join(f"{item}\t{reason}\n" for item, reason in skipped))


def _finish(results: Iterable, out: str, options: BuildOptions, meta: dict, t0: float) -> BuildResult:
    rows, skipped = [], []
    for item, rec, reason in results:
        if rec is None:
            skipped.append((item, reason))
        else:
            rows.append(rec)
    report = os.fspath(out).rstrip("/") + ".report.tsv"
    _write_report(report, skipped)
    if rows:
        arrays = {k: np.stack([r[k] for r in rows]) for k in ("two_theta", "intensity", "mask", "po_cos2", "po_weight")}
        arrays.update({
            "space_group": np.array([r["space_group"] for r in rows], np.int16),
            "crystal_system": np.array([r["crystal_system"] for r in rows], np.int8),
            "extinction_group": np.array([r["extinction_group"] for r in rows], np.int16),
            "split": np.array([r["split"] for r in rows], np.int8),
            "dropped_fraction": np.array([r["dropped_fraction"] for r in rows], np.float32),
            "source_id": np.array([r["source_id"] for r in rows], dtype=str),
            "formula": np.array([r["formula"] for r in rows], dtype=str),
        })
        write_peak_table(out, arrays, {
            "wavelength": options.wavelength, "two_theta_min": options.two_theta_min,
            "two_theta_max": options.two_theta_max, "test_fraction": options.test_fraction,
            "validation_fraction": options.validation_fraction,
            "num_extinction_groups": num_extinction_groups(), "skipped": len(skipped), **meta})
    return BuildResult(len(rows), skipped, os.fspath(out), report, time.time() - t0)


def find_cifs(cif_dir: str) -> list[str]:
    out = []
    for root, _, files in os.walk(cif_dir):
        out += [os.path.join(root, f) for f in files if f.lower().endswith(".cif")]
    return sorted(out)


def build_from_cifs(cif_dir: str, out: str, workers: int = 1, options: BuildOptions | None = None) -> BuildResult:
    """Peak table from every ``*.cif`` under ``cif_dir`` (recursively)."""
    options = options or BuildOptions()
    if not os.path.isdir(cif_dir):
        raise FileNotFoundError(f"{cif_dir}: no such directory")
    files = find_cifs(cif_dir)
    t0 = time.time()
    results = _run([(f, options) for f in files], _cif_task, workers, "dataset build")
    return _finish(results, out, options, {"builder": "build", "cif_dir": os.path.abspath(cif_dir)}, t0)


def build_synthetic(count: int, out: str, seed: int = 0, workers: int = 1, options: BuildOptions | None = None,
                    synth_options=None) -> BuildResult:
    """Peak table of ``count`` random pyxtal crystals, reproducible from ``seed``."""
    from difcon_jax.crystal.synthetic import SynthOptions

    options = options or BuildOptions()
    synth_options = synth_options or SynthOptions()
    t0 = time.time()
    tasks = [(seed, i, options, synth_options) for i in range(int(count))]
    results = _run(tasks, _synth_task, workers, "dataset synth")
    return _finish(results, out, options, {"builder": "synth", "seed": int(seed), "count": int(count),
                                           "prior": synth_options.prior}, t0)

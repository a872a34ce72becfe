"""Dataset builders: ``dataset build`` (a folder of CIFs) and ``dataset synth`` (pyxtal crystals).

Work is spread over processes (spawn: safe even when the parent has imported JAX). Each item becomes a
row of the peak table or a line in the report; the build keeps every good structure and fails only when
nothing could be built.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import multiprocessing as mp
import os
import re
import shutil
import sys
import tempfile
import time
from typing import Callable, Iterable

import numpy as np
from tqdm import tqdm

from difcon_jax.crystal.find_symmetry import declares_no_symmetry, find_symmetry, with_found_symmetry
from difcon_jax.crystal.reduced_cell import reduced_cell
from difcon_jax.crystal.stick import stick_pattern
from difcon_jax.crystal.structure import Structure, StructureLimits, structure_from_cif_bytes
from difcon_jax.crystal.symmetry import crystal_system_of, extinction_group_of, num_extinction_groups
from difcon_jax.crystal.synthetic import SynthOptions, random_structure
from difcon_jax.data.peak_table import check_replaceable, load_peak_table, merge_tables, pad_peaks, write_peak_table
from difcon_jax.data.sources import check_sources, iter_cif_items
from difcon_jax.data.split import Split, split_key, split_of
from difcon_jax.deadline import OverTime, time_limit
from difcon_jax.errors import InputError
from difcon_jax.files import atomic_write_text


@dataclasses.dataclass(frozen=True)
class BuildOptions:
    """How structures become peak-table rows: radiation, 2θ range (degrees), peaks kept per structure, split
    fractions, structure caps."""
    wavelength: str | float = "CuKa"
    two_theta_min: float = 0.0
    two_theta_max: float = 120.0
    max_peaks: int = 256
    test_fraction: float = 0.1
    validation_fraction: float = 0.1
    limits: StructureLimits = StructureLimits()
    #: wall seconds one file may take in a build (parse, symmetry, stick pattern); 0 = no budget. The caps on
    #: atoms, operations and reflections bound the work already; this catches what they do not foresee.
    time_budget_s: float = 120.0


@dataclasses.dataclass
class BuildResult:
    """What a build did: structures built, (item, reason) skipped, output paths, wall time, per-source
    statistics."""
    built: int
    skipped: list[tuple[str, str]]  # (item, reason)
    out: str
    report: str
    seconds: float
    stats: dict = dataclasses.field(default_factory=dict)

    @property
    def summary(self) -> str:
        extra = ""
        if self.stats.get("duplicates_removed") or self.stats.get("p1_relabelled"):
            extra = (f"; {self.stats['duplicates_removed']} duplicates removed, {self.stats['p1_relabelled']} P1 "
                     f"listings labelled from their atoms, {self.stats['declared_found_disagree']} declared groups "
                     "that disagree with the atoms (notes: .notes.tsv)")
        return f"built {self.built} structures, skipped {len(self.skipped)} (see {self.report}){extra}"


def _reduced_cell_or_nan(st: Structure) -> np.ndarray:
    """float32[6]: the lattice-head target; NaN (the row kept, its cell loss masked) where spglib fails."""
    try:
        return reduced_cell(st).astype(np.float32)
    except ValueError:
        return np.full(6, np.nan, np.float32)


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
            "dropped_fraction": dropped, "source_id": st.source, "formula": st.formula,
            "reduced_cell": _reduced_cell_or_nan(st),
            "reduced_formula": st.reduced_formula, "volume_per_atom": st.volume / max(float(st.occupancy.sum()), 1e-9),
            "notes": list(st.notes)}


def label_from_atoms(st: Structure) -> tuple[Structure, list[str], bool]:
    """(structure, notes, declared≠found): a P1 listing takes the group its atoms have (spglib ladder, see
    :mod:`difcon_jax.crystal.find_symmetry`); a file that declares a group keeps it, and a disagreement with
    its atoms is noted and counted."""

    found = find_symmetry(st)
    if found is None:
        return st, ["spglib found no symmetry; declared group kept"], False
    if declares_no_symmetry(st):
        if found.number == 1:
            return st, [], False
        return with_found_symmetry(st, found), [f"P1 listing: space group {found.number} found from the atoms "
                                                f"(symprec {found.symprec:g} Å)"], False
    if found.number != st.space_group:
        return st, [f"declared space group {st.space_group}, atoms give {found.number} "
                    f"(symprec ladder {found.ladder}); declared kept"], True
    return st, [], False


def _cif_task(args):
    name, data, problem, options = args

    if problem is not None:
        return name, None, problem
    try:
        with time_limit(options.time_budget_s):
            st = structure_from_cif_bytes(data, name, limits=options.limits)
            st, notes, disagree = label_from_atoms(st)
            rec = structure_record(st, options)
        rec["notes"] += notes
        rec["declared_disagrees"] = disagree
        return name, rec, None
    except OverTime:
        return name, None, f"took longer than {options.time_budget_s:g} s (the time budget per file); skipped"
    except InputError as e:
        return name, None, e.problem
    except Exception as e:  # a real-life file can break anything: report it, keep going
        return name, None, f"{type(e).__name__}: {' '.join(str(e).split())}"


def _synth_task(args):
    seed, index, options, synth_options = args

    item = f"synth:{seed}:{index}"
    try:
        st, _ = random_structure(seed, index, synth_options)
        return item, structure_record(st, options), None
    except Exception as e:
        return item, None, " ".join(str(e).split())


def _run(tasks: Iterable, fn: Callable, workers: int, desc: str, total: int | None = None,
         chunk_items: int = 4096) -> Iterable:
    """Apply ``fn`` to ``tasks`` in order; tasks are consumed ``chunk_items`` at a time so a stream (archive
    members) never sits in memory whole."""
    bar = tqdm(total=total, desc=desc, unit="structure", file=sys.stderr, disable=None, smoothing=0.05)
    it = iter(tasks)
    if workers <= 1:
        for t in it:
            yield fn(t)
            bar.update()
    else:
        ctx = mp.get_context("spawn")
        with ctx.Pool(workers) as pool:
            while batch := list(itertools.islice(it, chunk_items)):
                chunk = max(1, min(64, len(batch) // (workers * 8)))
                for r in pool.imap(fn, batch, chunksize=chunk):  # imap keeps the input order: deterministic
                    yield r
                    bar.update()
    bar.close()


def _write_report(path: str, rows: list[tuple[str, str]], header: str = "item\treason") -> None:
    atomic_write_text(path, header + "\n" + "".join(f"{item}\t{reason}\n" for item, reason in rows))


def deduplicate(records: list[dict], volume_tol: float = 0.02) -> tuple[list[dict], list[tuple[str, str]]]:
    """Drop repeats of one compound: same reduced formula and space group, volume per atom within
    ``volume_tol`` (relative) of a structure already kept. The first listed is kept (source order), so the
    build is deterministic. Returns (kept, [(dropped item, the kept item it repeats)])."""
    kept: list[dict] = []
    by_key: dict[tuple, list[dict]] = {}
    dropped = []
    for r in records:
        key = (r["reduced_formula"], int(r["space_group"]))
        twin = next((k for k in by_key.get(key, ())
                     if abs(k["volume_per_atom"] - r["volume_per_atom"]) <= volume_tol * k["volume_per_atom"]), None)
        if twin is None:
            by_key.setdefault(key, []).append(r)
            kept.append(r)
        else:
            dropped.append((r["source_id"], f"duplicate of {twin['source_id']}"))
    return kept, dropped


def _source_of(item: str, sources: list[str]) -> str:
    return next((s for s in sources if item == s or item.startswith(s.rstrip("/") + "/") or
                 item.startswith(s + "!")), "other")


def _finish(results: Iterable, out: str, options: BuildOptions, meta: dict, t0: float,
            dedupe: bool = False, sources: list[str] = ()) -> BuildResult:

    rows, skipped = [], []
    for item, rec, reason in results:
        if rec is None:
            skipped.append((item, reason))
        else:
            rows.append(rec)
    relabelled = sum(any(n.startswith("P1 listing") for n in r["notes"]) for r in rows)
    disagree = sum(bool(r.get("declared_disagrees")) for r in rows)
    duplicates: list[tuple[str, str]] = []
    if dedupe:
        rows, duplicates = deduplicate(rows)
    base = os.fspath(out).rstrip("/")
    report = base + ".report.tsv"
    _write_report(report, skipped)
    notes = [(r["source_id"], n) for r in rows for n in r["notes"]] + duplicates
    _write_report(base + ".notes.tsv", notes, "item\tnote")
    stats = {"skipped": len(skipped), "duplicates_removed": len(duplicates),
             "declared_found_disagree": disagree, "p1_relabelled": relabelled,  # before deduplication
             "skip_reasons": dict(collections.Counter(_reason_class(r) for _, r in skipped).most_common())}
    if sources:
        per = collections.defaultdict(lambda: {"built": 0, "skipped": 0, "duplicates": 0})
        for r in rows:
            per[_source_of(r["source_id"], sources)]["built"] += 1
        for item, _ in skipped:
            per[_source_of(item, sources)]["skipped"] += 1
        for item, _ in duplicates:
            per[_source_of(item, sources)]["duplicates"] += 1
        stats["per_source"] = {os.path.abspath(k) if k != "other" else k: v for k, v in per.items()}
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
            "reduced_cell": np.stack([r["reduced_cell"] for r in rows]),
        })
        write_peak_table(out, arrays, {
            "wavelength": options.wavelength, "two_theta_min": options.two_theta_min,
            "two_theta_max": options.two_theta_max, "test_fraction": options.test_fraction,
            "validation_fraction": options.validation_fraction,
            "num_extinction_groups": num_extinction_groups(), **stats, **meta})
    return BuildResult(len(rows), skipped, os.fspath(out), report, time.time() - t0, stats)


def _reason_class(reason: str) -> str:
    """A skip reason without its particulars (numbers, quoted names), for the histogram."""

    return re.sub(r"\d[\d.e+-]*", "N", re.sub(r"'[^']*'", "'…'", reason.split(" (")[0]))[:80]


def find_cifs(cif_dir: str) -> list[str]:
    """Every ``*.cif`` under ``cif_dir`` (recursive), sorted."""
    out = []
    for root, _, files in os.walk(cif_dir):
        out += [os.path.join(root, f) for f in files if f.lower().endswith(".cif")]
    return sorted(out)


def build_from_cifs(sources: str | list[str], out: str, workers: int = 1,
                    options: BuildOptions | None = None) -> BuildResult:
    """Peak table from every CIF under ``sources``: folders (recursive), ``.tar.gz``/``.tgz``/``.zip``
    archives (member by member, never unpacked to disk) and single files. Labels come from the atoms for P1
    listings; repeats of one compound are dropped (:func:`deduplicate`)."""

    options = options or BuildOptions()
    sources = [os.fspath(s) for s in ([sources] if isinstance(sources, (str, os.PathLike)) else sources)]
    check_sources(sources)
    check_replaceable(os.fspath(out).rstrip("/"))  # before any work: never replace the user's files
    t0 = time.time()
    tasks = ((name, data, problem, options) for name, data, problem in iter_cif_items(sources))
    results = _run(tasks, _cif_task, workers, "dataset build")
    return _finish(results, out, options, {"builder": "build", "sources": [os.path.abspath(s) for s in sources]},
                   t0, dedupe=True, sources=sources)


def build_synthetic(count: int, out: str, seed: int = 0, workers: int = 1, options: BuildOptions | None = None,
                    synth_options=None) -> BuildResult:
    """Peak table of ``count`` random pyxtal crystals, reproducible from ``seed``."""

    options = options or BuildOptions()
    synth_options = synth_options or SynthOptions()
    check_replaceable(os.fspath(out).rstrip("/"))
    t0 = time.time()
    tasks = [(seed, i, options, synth_options) for i in range(int(count))]
    results = _run(tasks, _synth_task, workers, "dataset synth", total=len(tasks))
    return _finish(results, out, options, {"builder": "synth", "seed": int(seed), "count": int(count),
                                           "prior": synth_options.prior}, t0)


def thin_group_targets(table, min_per_group: int) -> tuple[int, ...]:
    """Space groups (each repeated as often as it is short) whose training structures number fewer than
    ``min_per_group``: what ``dataset synth --fill-from`` draws with pyxtal."""
    counts = np.bincount(np.asarray(table.space_group)[np.asarray(table.split) == Split.TRAIN], minlength=231)
    return tuple(int(g) for g in range(1, 231) for _ in range(max(0, min_per_group - int(counts[g]))))


def fill_targets(thin: tuple[int, ...], add_per_group: int) -> tuple[int, ...]:
    """The space groups ``dataset synth --fill-from`` draws pyxtal crystals of: the thin groups' (``thin``, from
    :func:`thin_group_targets`) then ``add_per_group`` of every group 1–230."""
    return tuple(thin) + tuple(g for g in range(1, 231) for _ in range(int(add_per_group)))


def fill_thin_groups(table_path: str, out: str, min_per_group: int, seed: int = 0, workers: int = 1,
                     options: BuildOptions | None = None, synth_options=None, add_per_group: int = 0) -> BuildResult:
    """``out`` = the table at ``table_path`` plus pyxtal crystals for the space groups it has fewer than
    ``min_per_group`` training structures of (real structures first; synthetic ones only where real are thin) and,
    with ``add_per_group``, that many more of every space group: random Wyckoff sets and cells, many structure types
    per group, so that no type stands for its group (a network trained on real structures alone recognises the
    types it was taught; a CPU pilot drawing such crystals 27 % of the time lost on measured patterns:
    results/network_axes/README.md, 2026-12-06)."""
    check_replaceable(os.fspath(out).rstrip("/"))
    if add_per_group < 0:
        raise InputError("--add-per-group", f"{add_per_group} is negative")
    base = load_peak_table(table_path)
    thin = thin_group_targets(base, min_per_group)
    targets = fill_targets(thin, add_per_group)
    synth_options = dataclasses.replace(synth_options or SynthOptions(), targets=targets)
    options = options or BuildOptions(max_peaks=base.max_peaks, test_fraction=base.meta.get("test_fraction", 0.1),
                                      validation_fraction=base.meta.get("validation_fraction", 0.1))
    tmp = tempfile.mkdtemp(prefix="fill-", dir=os.path.dirname(os.path.abspath(out)))
    try:
        res = build_synthetic(len(targets), os.path.join(tmp, "synth"), seed, workers, options, synth_options)
        parts = [table_path] + ([os.path.join(tmp, "synth")] if res.built else [])
        merge_tables(parts, out)
        res.report = os.fspath(out).rstrip("/") + ".report.tsv"
        shutil.copy(os.path.join(tmp, "synth.report.tsv"), res.report)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res.out = out
    res.stats["thin_groups"] = len(set(thin))
    res.stats["added_per_group"] = int(add_per_group)
    return res

"""The peak-table file format: one directory of ``.npy`` arrays plus ``meta.json``, loaded memory-mapped.

Layout of ``PATH/`` (N structures, P = max peaks):

===================== ============== ==========================================================
file                  dtype, shape   meaning
===================== ============== ==========================================================
two_theta.npy         float32[N, P]  peak positions, degrees 2θ (at ``meta.wavelength``), sorted
intensity.npy         float32[N, P]  peak intensities, strongest peak of the full pattern = 100
mask.npy              bool[N, P]     real peak (True) or padding (False)
po_cos2.npy           float16[N,P,K] cos²α between the peak's plane normals and c* (March–Dollase)
po_weight.npy         float16[N,P,K] share of the peak's members at each cos²α (sum 1)
space_group.npy       int16[N]       1–230
crystal_system.npy    int8[N]        0–6 (triclinic … cubic)
extinction_group.npy  int16[N]       id in the committed extinction-group table
split.npy             int8[N]        0 train, 1 equivariance test, 2 validation (hash of formula|SG)
dropped_fraction.npy  float32[N]     share of total intensity lost by keeping only the P strongest
source_id.npy         <U[N]          file path or ``synth:<seed>:<index>``
formula.npy           <U[N]          cell formula
reduced_cell.npy      float32[N, 6]  optional: Niggli-reduced primitive cell a ≤ b ≤ c (Å), α, β, γ (degrees)
meta.json                            format version, N, P, wavelength, 2θ range, builder arguments
===================== ============== ==========================================================

Only the strongest P peaks are kept (then re-sorted by 2θ). Arrays load with ``mmap_mode="r"`` and
``allow_pickle=False``, so a million structures open instantly. Writes go to a temporary directory that
is renamed into place (atomic on one file system).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile

import numpy as np

from difcon_jax.files import open_permissions

FORMAT = "difcon-jax/peak-table"
VERSION = 1
ARRAYS = ("two_theta", "intensity", "mask", "po_cos2", "po_weight", "space_group", "crystal_system", "extinction_group", "split",
          "dropped_fraction", "source_id", "formula")
#: Arrays a table may lack (tables written before they existed stay readable); None when absent.
OPTIONAL_ARRAYS = ("reduced_cell",)


@dataclasses.dataclass(frozen=True)
class PeakTable:
    """A loaded peak table: per-structure stick patterns (2θ degrees, intensities, mask, texture terms; [N,
    max_peaks]) and labels [N]."""
    two_theta: np.ndarray
    intensity: np.ndarray
    mask: np.ndarray
    po_cos2: np.ndarray
    po_weight: np.ndarray
    space_group: np.ndarray
    crystal_system: np.ndarray
    extinction_group: np.ndarray
    split: np.ndarray
    dropped_fraction: np.ndarray
    source_id: np.ndarray
    formula: np.ndarray
    meta: dict
    reduced_cell: np.ndarray | None = None  # float32[N, 6] (crystal.reduced_cell), or None

    def __len__(self) -> int:
        return int(self.two_theta.shape[0])

    @property
    def max_peaks(self) -> int:
        return int(self.two_theta.shape[1])

    def subset(self, index) -> "PeakTable":
        """Rows ``index`` (bool mask or int array) as an in-memory table."""
        optional = {k: np.asarray(getattr(self, k)[index]) for k in OPTIONAL_ARRAYS if getattr(self, k) is not None}
        return PeakTable(**{k: np.asarray(getattr(self, k)[index]) for k in ARRAYS}, meta=dict(self.meta), **optional)


def pad_peaks(two_theta: np.ndarray, intensity: np.ndarray, max_peaks: int, po_cos2=None, po_weight=None):
    """Keep the ``max_peaks`` strongest peaks, sorted by 2θ, padded with zeros.

    Returns (two_theta float32[P], intensity float32[P], mask bool[P], dropped fraction of intensity,
    po_cos2 float16[P, K], po_weight float16[P, K]); without orientation data every peak gets cos²α = 0
    with weight 1 in the first slot.
    """
    k = 4 if po_cos2 is None else po_cos2.shape[1]
    if po_cos2 is None:
        po_cos2 = np.zeros((len(two_theta), k), np.float32)
        po_weight = np.zeros((len(two_theta), k), np.float32)
        po_weight[:, 0] = 1
    total = float(intensity.sum())
    if len(intensity) > max_peaks:
        keep = np.sort(np.argsort(-intensity, kind="stable")[:max_peaks])
        two_theta, intensity, po_cos2, po_weight = two_theta[keep], intensity[keep], po_cos2[keep], po_weight[keep]
    n = len(two_theta)
    tt = np.zeros(max_peaks, np.float32)
    inten = np.zeros(max_peaks, np.float32)
    mask = np.zeros(max_peaks, bool)
    c2 = np.zeros((max_peaks, k), np.float16)
    w = np.zeros((max_peaks, k), np.float16)
    tt[:n], inten[:n], mask[:n], c2[:n], w[:n] = two_theta, intensity, True, po_cos2, po_weight
    dropped = 0.0 if total <= 0 else max(0.0, 1.0 - float(intensity.sum()) / total)
    return tt, inten, mask, dropped, c2, w


def is_peak_table(path: str) -> bool:
    """True when ``path`` is a directory holding a peak table's meta.json (something we wrote)."""
    try:
        with open(os.path.join(path, "meta.json")) as fh:
            return json.load(fh).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def check_replaceable(path: str) -> None:
    """ValueError unless ``path`` is free or an existing peak table: a build never deletes the user's files."""
    if os.path.lexists(path) and not (os.path.isdir(path) and not os.path.islink(path) and is_peak_table(path)):
        what = "folder" if os.path.isdir(path) else "file"
        raise ValueError(f"{path}: an existing {what} that is not a peak table; refusing to replace it "
                         "(choose another --out or remove it yourself)")


def write_peak_table(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write a table atomically: build ``PATH.tmp-*`` then rename over ``PATH``."""
    path = os.fspath(path).rstrip("/")
    check_replaceable(path)
    missing = [k for k in ARRAYS if k not in arrays]
    if missing:
        raise ValueError(f"peak table lacks arrays {missing}")
    n = len(arrays["two_theta"])
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(path) + ".tmp-", dir=parent)
    open_permissions(tmp)  # mkdtemp makes 0700; the table should be as readable as any folder
    try:
        for k in ARRAYS + tuple(k for k in OPTIONAL_ARRAYS if arrays.get(k) is not None):
            a = np.asarray(arrays[k])
            if len(a) != n:
                raise ValueError(f"array {k} has {len(a)} rows, expected {n}")
            if a.dtype == object:
                raise ValueError(f"array {k} has dtype object; refusing to write pickles")
            np.save(os.path.join(tmp, k + ".npy"), a, allow_pickle=False)
        full_meta = {"format": FORMAT, "version": VERSION, "num_structures": n,
                     "max_peaks": int(np.asarray(arrays["two_theta"]).shape[1]), **meta}
        with open(os.path.join(tmp, "meta.json"), "w") as fh:
            json.dump(full_meta, fh, indent=1, sort_keys=True)
        old = None
        if os.path.exists(path):
            old = tempfile.mkdtemp(prefix=os.path.basename(path) + ".old-", dir=parent)
            os.rmdir(old)
            os.rename(path, old)
        os.rename(tmp, path)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_peak_table(path: str | os.PathLike, mmap: bool = True) -> PeakTable:
    """Open a peak table; raises ValueError with a one-line reason naming the path."""
    path = os.fspath(path)
    meta_path = os.path.join(path, "meta.json")
    try:
        with open(meta_path) as fh:
            meta = json.load(fh)
    except FileNotFoundError:
        raise ValueError(f"{path}: not a peak table (no meta.json)") from None
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: unreadable meta.json ({e})") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ValueError(f"{path}: unsupported format {meta.get('format')!r} version {meta.get('version')!r}")
    arrays = {}
    for k in ARRAYS:
        try:
            arrays[k] = np.load(os.path.join(path, k + ".npy"), mmap_mode="r" if mmap else None, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: cannot read {k}.npy ({e})") from None
    for k in OPTIONAL_ARRAYS:
        if os.path.exists(os.path.join(path, k + ".npy")):
            try:
                arrays[k] = np.load(os.path.join(path, k + ".npy"), mmap_mode="r" if mmap else None, allow_pickle=False)
            except (OSError, ValueError) as e:
                raise ValueError(f"{path}: cannot read {k}.npy ({e})") from None
    for k, a in arrays.items():
        if len(a) != meta["num_structures"]:
            raise ValueError(f"{path}: {k}.npy has {len(a)} rows, meta says {meta['num_structures']}")
    return PeakTable(**arrays, meta=meta)


def merge_tables(paths: list[str], out: str) -> PeakTable:
    """Concatenate peak tables (rows in the order given; peak axes padded to the widest) into ``out``."""
    tables = [load_peak_table(p) for p in paths]
    width = max(t.max_peaks for t in tables)
    arrays = {}
    for k in ARRAYS:
        parts = []
        for t in tables:
            a = np.asarray(getattr(t, k))
            if a.ndim >= 2 and a.shape[1] < width:  # per-peak arrays: pad the peak axis
                pad = [(0, 0), (0, width - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
                a = np.pad(a, pad)
            parts.append(a)
        arrays[k] = np.concatenate(parts)
    for k in OPTIONAL_ARRAYS:  # kept only when every part has it
        if all(getattr(t, k) is not None for t in tables):
            arrays[k] = np.concatenate([np.asarray(getattr(t, k)) for t in tables])
    first = tables[0].meta
    write_peak_table(out, arrays, {k: first[k] for k in ("wavelength", "two_theta_min", "two_theta_max",
                                                         "test_fraction", "validation_fraction") if k in first}
                     | {"builder": "merge", "parts": [dict(t.meta, path=os.path.abspath(p)) for t, p in zip(tables, paths)]})
    return load_peak_table(out)

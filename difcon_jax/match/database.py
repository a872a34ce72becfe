"""The reference database: known structures with their identity, symmetry, cell and stick pattern.

One entry per structure (host side, NumPy), in one ``.npz`` of plain arrays (no pickle):

==================  =================  ===============================================================
array               dtype, shape       meaning
==================  =================  ===============================================================
name                <U[N]              mineral / compound name (AMCSD ``_chemical_name_mineral``, …)
code                <U[N]              database code (``AMCSD 0000003``, ``mp-149``, ``COD 9008569``)
source              <U[N]              the file (or ``archive!member``) it was built from
formula             <U[N]              cell formula
elements            uint8[N, 16]       element set as a bit mask over Z = 0…127 (bit Z)
space_group         int16[N]           1–230
f2m_max             float32[N]         |F|²·m of the strongest reflection (electrons², absolute scale)
cell_mass           float32[N]         mass of the cell contents (u): weight fractions by Hill & Howard
cell                float32[N, 6]      a, b, c (Å), α, β, γ (degrees) in the file's own setting
metric_basis        float16[N, 6, 6]   rows: symmetric strains (xx, yy, zz, yz, xz, xy) of the metric
                                       allowed by the structure's rotations (zero rows = not free)
hkl                 int8[N, P, 3]      Miller indices of each peak (strongest merged family)
f2m                 float16[N, P]      |F|²·m (no LP), strongest = 1; 0 = padding
po_cos2, po_weight  uint8[N, P, 2]     March–Dollase data along c* (cos²α and share, ×255)
conditions          float32[N, 2]      temperature (K) and pressure (GPa) the structure was determined at, NaN =
                                       not given (:mod:`difcon_jax.match.conditions`; absent in older files)
h                   float16[N, D]      the DIFCON representation (optional: ``library build --model``)
==================  =================  ===============================================================

Peak positions are not stored: they follow from the cell and hkl (``1/d² = hᵀ G⁻¹ h``), so a fit can
move them with the cell (:mod:`difcon_jax.match.fit`). The P strongest reflections up to
:data:`TWO_THETA_MAX` at Cu Kα (d ≥ 1.006 Å) are kept.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
import zipfile

import gemmi
import numpy as np

from difcon_jax.crystal.radiation import WAVELENGTHS
from difcon_jax.crystal.stick import lorentz_polarisation, stick_pattern, structure_factor_sq, unique_rotations
from difcon_jax.crystal.structure import Structure, StructureLimits, structure_from_cif_bytes
from difcon_jax.crystal.symmetry import crystal_system_array, extinction_group_array
from difcon_jax.data.build import _run, deduplicate, label_from_atoms
from difcon_jax.data.peak_table import PeakTable
from difcon_jax.data.sources import check_sources, iter_cif_items
from difcon_jax.deadline import OverTime, time_limit
from difcon_jax.errors import InputError
from difcon_jax.files import atomic_target
from difcon_jax.inference.library import build_library
from difcon_jax.match.conditions import conditions_from_cif
from difcon_jax.match.pattern_model import cell_to_metric

FORMAT = "difcon-jax/reference-database"
VERSION = 1
#: Reflections up to this 2θ (degrees, Cu Kα 1.54184 Å) are kept: 90° scans plus room for a 5 % larger cell.
TWO_THETA_MAX = 100.0
DB_WAVELENGTH = WAVELENGTHS["CuKa"]
ENTRY_ARRAYS = ("name", "code", "source", "formula", "elements", "space_group", "f2m_max", "cell_mass", "cell",
                "metric_basis", "hkl", "f2m", "po_cos2", "po_weight", "conditions")
#: arrays a file written before they existed may lack, and what reading it fills in (from the entry count)
OPTIONAL_ARRAYS = {"conditions": lambda n: np.full((n, 2), np.nan, np.float32)}

_VOIGT = ("xx", "yy", "zz", "yz", "xz", "xy")
_VOIGT_INDEX = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


@dataclasses.dataclass(frozen=True)
class ReferenceDB:
    """A loaded reference database (see the module docstring for each array); ``h`` may be None."""
    name: np.ndarray
    code: np.ndarray
    source: np.ndarray
    formula: np.ndarray
    elements: np.ndarray
    space_group: np.ndarray
    f2m_max: np.ndarray
    cell_mass: np.ndarray
    cell: np.ndarray
    metric_basis: np.ndarray
    hkl: np.ndarray
    f2m: np.ndarray
    po_cos2: np.ndarray
    po_weight: np.ndarray
    conditions: np.ndarray
    h: np.ndarray | None = None
    meta: dict = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return int(len(self.space_group))

    @property
    def max_peaks(self) -> int:
        return int(self.hkl.shape[1])

    def subset(self, index) -> "ReferenceDB":
        """Entries ``index`` (int array or bool mask) as a new database."""
        kw = {k: np.asarray(getattr(self, k))[index] for k in ENTRY_ARRAYS}
        return ReferenceDB(**kw, h=None if self.h is None else np.asarray(self.h)[index], meta=dict(self.meta))


# ---------------------------------------------------------------------------------------------- elements

def element_mask(symbols) -> np.ndarray:
    """uint8[16]: bit Z set for each element symbol. InputError (one line) for a symbol that is no element."""
    bits = np.zeros(128, bool)
    for s in symbols:
        s = str(s).strip()
        el = gemmi.Element(s)
        if el.atomic_number == 0 or el.name.lower() != s.lower():
            raise InputError(s, "not a chemical element symbol")
        bits[el.atomic_number] = True
    return np.packbits(bits, bitorder="little")


def mask_elements(mask: np.ndarray) -> list[str]:
    """Element symbols of a uint8[16] mask."""
    z = np.flatnonzero(np.unpackbits(np.asarray(mask, np.uint8), bitorder="little"))
    return [gemmi.Element(int(i)).name for i in z]


# ------------------------------------------------------------------------------------ metric symmetry

def metric_basis(rotations: np.ndarray) -> np.ndarray:
    """float32[6, 6]: an orthonormal basis (rows, Voigt order xx yy zz yz xz xy) of the symmetric strains ε
    of the normalised metric that every rotation keeps (Rᵀ ε R = ε), padded with zero rows.

    The cell refined within this basis keeps the crystal system's constraints in the file's own setting
    (cubic: one free strain; hexagonal, tetragonal: two; monoclinic: four; triclinic: six). Rotations only
    mix axes of equal length, so the diagonal length scaling commutes with them and the normalised metric
    has the same invariant strains as the metric itself."""
    rots = unique_rotations(np.asarray(rotations)).astype(np.float64)
    proj = np.zeros((6, 6))
    for k, (i, j) in enumerate(_VOIGT_INDEX):
        e = np.zeros((3, 3))
        e[i, j] = e[j, i] = 1.0
        s = np.mean([r.T @ e @ r for r in rots], axis=0)
        proj[:, k] = [s[a, b] for a, b in _VOIGT_INDEX]
    u, sv, _ = np.linalg.svd(proj)
    basis = u[:, sv > 0.5].T  # the projector's eigenvalue-1 space
    out = np.zeros((6, 6), np.float32)
    out[:len(basis)] = basis
    return out


# ------------------------------------------------------------------------------------------ entries

def _cif_metadata(text: str, source: str) -> tuple[str, str, tuple[float, float]]:
    """(name, code, (temperature K, pressure GPa)) from the CIF's own tags, else the name and code from the file
    name (conditions NaN where not given)."""
    stem = os.path.splitext(os.path.basename(source.split("!")[-1]))[0]
    name = code = ""
    conditions = (float("nan"), float("nan"))
    try:
        block = gemmi.cif.read_string(text).sole_block()

        def tag(t):
            v = block.find_value(t)
            return "" if v is None or v in ("?", ".") else gemmi.cif.as_string(v).strip()

        name = tag("_chemical_name_mineral") or tag("_chemical_name_common") or tag("_chemical_name_systematic")
        if tag("_database_code_amcsd"):
            code = f"AMCSD {int(tag('_database_code_amcsd')):07d}" if tag("_database_code_amcsd").isdigit() \
                else f"AMCSD {tag('_database_code_amcsd')}"
        elif tag("_cod_database_code"):
            code = f"COD {tag('_cod_database_code')}"
        elif tag("_aflow_proto"):
            code = f"AFLOW {tag('_aflow_proto')}"
        conditions = conditions_from_cif(block)
    except (RuntimeError, ValueError):
        pass
    if not code:
        m = re.match(r"(mp-\d+|mvc-\d+)", stem)
        code = m.group(1) if m else stem
    return " ".join(name.split()), code, conditions


def reference_entry(st: Structure, text: str, max_peaks: int) -> dict:
    """One database entry of a parsed structure (host-side NumPy)."""
    sp = stick_pattern(st, DB_WAVELENGTH, TWO_THETA_MAX)
    if len(sp) == 0:
        raise ValueError(f"no reflections below {TWO_THETA_MAX}° 2θ")
    if np.abs(sp.hkl).max() > 127:
        raise ValueError("Miller indices beyond 127 (cell too large for the database)")
    keep = np.sort(np.argsort(-sp.intensity, kind="stable")[:max_peaks])
    # the stick intensities are scaled to 100; |F|²·m in electrons² is needed for weight fractions
    f2m = sp.intensity[keep] / lorentz_polarisation(sp.two_theta[keep])
    i_max = int(np.argmax(f2m))
    absolute = float(structure_factor_sq(st, sp.hkl[keep][i_max:i_max + 1], sp.d[keep][i_max:i_max + 1])[0]
                     * sp.multiplicity[keep][i_max])
    f2m = np.maximum(f2m / f2m.max(), 1e-7)
    order = np.argsort(-sp.po_weight[keep], axis=1, kind="stable")[:, :2]
    c2 = np.take_along_axis(sp.po_cos2[keep], order, 1)
    w = np.take_along_axis(sp.po_weight[keep], order, 1)
    w = w / np.maximum(w.sum(1, keepdims=True), 1e-12)
    n, p = len(keep), max_peaks
    out = {"hkl": np.zeros((p, 3), np.int8), "f2m": np.zeros(p, np.float16), "po_cos2": np.zeros((p, 2), np.uint8),
           "po_weight": np.zeros((p, 2), np.uint8)}
    out["hkl"][:n] = sp.hkl[keep]
    out["f2m"][:n] = f2m
    out["po_cos2"][:n] = np.round(np.clip(c2, 0, 1) * 255)
    out["po_weight"][:n] = np.round(np.clip(w, 0, 1) * 255)
    name, code, conditions = _cif_metadata(text, st.source)
    mass = float(sum(o * gemmi.Element(e).weight for e, o in zip(st.elements, st.occupancy)))
    out.update(name=name or st.reduced_formula, code=code, source=st.source, formula=st.formula,
               elements=element_mask(sorted(set(st.elements))), space_group=int(st.space_group),
               f2m_max=absolute, cell_mass=mass,
               cell=np.asarray(st.cell, np.float32), conditions=np.asarray(conditions, np.float32),
               metric_basis=metric_basis(st.rotations).astype(np.float16),
               reduced_formula=st.reduced_formula, volume_per_atom=st.volume / max(float(st.occupancy.sum()), 1e-9))
    return out


def _entry_task(args):
    name, data, problem, max_peaks, budget = args

    if problem is not None:
        return name, None, problem
    try:
        with time_limit(budget):
            st = structure_from_cif_bytes(data, name, limits=StructureLimits())
            st, _, _ = label_from_atoms(st)
            return name, reference_entry(st, data.decode("utf-8", "replace"), max_peaks), None
    except OverTime:
        return name, None, f"took longer than {budget:g} s; skipped"
    except InputError as e:
        return name, None, e.problem
    except Exception as e:  # real-life files break anything: report and keep going
        return name, None, f"{type(e).__name__}: {' '.join(str(e).split())}"


def build_database(sources: list[str], out: str, workers: int = 1, max_peaks: int = 96,
                   time_budget_s: float = 120.0) -> tuple[ReferenceDB, list[tuple[str, str]]]:
    """A reference database from every CIF under ``sources`` (folders, archives, files; see
    :mod:`difcon_jax.data.sources`), repeats of one compound dropped (same reduced formula and space group,
    volume per atom within 2 %), written to ``out`` (``.npz``). Returns (database, [(item, reason)] skipped)."""

    sources = [os.fspath(s) for s in sources]
    check_sources(sources)
    check_writable_target(out)
    t0 = time.time()
    tasks = ((n, d, p, max_peaks, time_budget_s) for n, d, p in iter_cif_items(sources))
    rows, skipped = [], []
    for item, rec, reason in _run(tasks, _entry_task, workers, "library build"):
        (skipped.append((item, reason)) if rec is None else rows.append(rec))
    for r in rows:
        r["source_id"] = r["source"]
        root = next((src for src in sources if r["source"].startswith(src)), "")
        r["source"] = os.path.relpath(r["source"], os.path.dirname(root.rstrip("/")) or ".") if root else r["source"]
    rows, dups = deduplicate(rows)
    if not rows:
        raise ValueError(f"{', '.join(sources)}: no structure could be built "
                         f"({skipped[0][1] if skipped else 'no CIF found'})")
    dtypes = {"space_group": np.int16, "f2m_max": np.float32, "cell_mass": np.float32}
    db = ReferenceDB(**{k: np.stack([np.asarray(r[k], dtypes.get(k)) for r in rows])
                        if k not in ("name", "code", "source", "formula")
                        else np.array([r[k] for r in rows], dtype=str) for k in ENTRY_ARRAYS},
                     meta={"sources": [os.path.abspath(s) for s in sources], "max_peaks": max_peaks,
                           "skipped": len(skipped), "duplicates_removed": len(dups),
                           "seconds": round(time.time() - t0, 1)})
    write_database(out, db)
    return db, skipped


# ------------------------------------------------------------------------------------------- files

def check_writable_target(path: str) -> None:
    """ValueError when ``path`` is an existing folder or a file that is not a reference database."""
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a folder; give a file name for the reference database (e.g. lib.npz)")
    if os.path.exists(path):
        try:
            read_database(path)
        except ValueError:
            raise ValueError(f"{path}: exists and is not a reference database; refusing to replace it") from None


def write_database(path: str, db: ReferenceDB) -> str:
    """Atomic write (temp file + rename) of ``db`` as compressed plain arrays."""


    arrays = {k: np.asarray(getattr(db, k)) for k in ENTRY_ARRAYS}
    if db.h is not None:
        arrays["h"] = np.asarray(db.h, np.float16)
    meta = {"format": FORMAT, "version": VERSION, "two_theta_max": TWO_THETA_MAX, "wavelength": DB_WAVELENGTH,
            **db.meta}
    arrays["meta_json"] = np.array(json.dumps(meta))
    with atomic_target(path, ".tmp.npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    return path


def read_database(path: str) -> ReferenceDB:
    """A database written by :func:`write_database`. ValueError (one line, naming the file) otherwise."""

    if os.path.isdir(path):
        raise ValueError(f"{path}: is a folder, not a reference database (.npz written by `library build`)")
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such reference database")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta_json"]))
            if meta.get("format") != FORMAT:
                raise ValueError("not a reference database")
            n = len(z["space_group"])
            arrays = {k: z[k] if k in z.files or k not in OPTIONAL_ARRAYS else OPTIONAL_ARRAYS[k](n)
                      for k in ENTRY_ARRAYS}
            h = z["h"] if "h" in z.files else None
    except (OSError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a reference database ({type(e).__name__})") from None
    except ValueError as e:
        raise ValueError(f"{path}: not a reference database ({' '.join(str(e).split())})") from None
    n = len(arrays["space_group"])
    if any(len(v) != n for v in arrays.values()) or (h is not None and len(h) != n):
        raise ValueError(f"{path}: malformed reference database (arrays of different lengths)")
    return ReferenceDB(**arrays, h=h, meta=meta)


# -------------------------------------------------------------------------------- representations

def stick_table(db: ReferenceDB, lambda_ref: float, two_theta_max: float):
    """The database as an in-memory peak table at ``lambda_ref`` (2θ from each reference cell and hkl,
    intensity |F|²m·LP with the strongest = 100): what the augmentation pipeline renders."""
    gstar = np.stack([np.linalg.inv(cell_to_metric(c)) for c in db.cell.astype(np.float64)])
    h = db.hkl.astype(np.float64)
    inv_d2 = np.einsum("npi,nij,npj->np", h, gstar, h)
    s = np.clip(lambda_ref * np.sqrt(inv_d2) / 2, 0, 1)
    tt = 2 * np.degrees(np.arcsin(s))
    live = (db.f2m > 0) & (s < 0.9999) & (tt <= two_theta_max)
    inten = np.where(live, db.f2m.astype(np.float64) * lorentz_polarisation(np.where(live, tt, 90.0)), 0.0)
    inten = 100 * inten / np.maximum(inten.max(1, keepdims=True), 1e-30)
    order = np.argsort(np.where(live, tt, np.inf), axis=1, kind="stable")
    take = lambda a: np.take_along_axis(a, order, 1)  # noqa: E731
    c2 = np.take_along_axis(db.po_cos2 / 255.0, order[..., None], 1).astype(np.float16)
    w = np.take_along_axis(db.po_weight / 255.0, order[..., None], 1).astype(np.float16)
    sg = db.space_group.astype(np.int16)
    n = len(db)
    return PeakTable(two_theta=np.where(take(live), take(tt), 0).astype(np.float32),
                     intensity=take(inten).astype(np.float32), mask=take(live), po_cos2=c2, po_weight=w,
                     space_group=sg, crystal_system=crystal_system_array()[sg].astype(np.int8),
                     extinction_group=extinction_group_array()[sg].astype(np.int16), split=np.zeros(n, np.int8),
                     dropped_fraction=np.zeros(n, np.float32), source_id=db.source, formula=db.formula, meta={})


def embed_database(db: ReferenceDB, cfg, model, params, views: int = 8, seed: int = 4242,
                   batch: int = 256) -> ReferenceDB:
    """``db`` with ``h``: each entry's L2-normalised mean DIFCON representation over ``views`` patterns
    augmented as in training (so references look like measurements)."""

    table = stick_table(db, float(cfg.augment.lambda_ref), float(cfg.augment.two_theta_max))
    lib = build_library(cfg, model, params, table, np.arange(len(db)), views=views, seed=seed, batch=batch)
    return dataclasses.replace(db, h=lib["h"])

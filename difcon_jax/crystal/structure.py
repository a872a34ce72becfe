"""Crystal structures: the host-side representation and the CIF reader (gemmi).

A :class:`Structure` is the *full unit cell* (every site image, P1 expansion) together with the symmetry
operations of the cell's own setting, which the stick-pattern code needs for multiplicities and
systematic absences, and the space-group number in standard numbering (1–230).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import Counter

import gemmi
import numpy as np
import spglib

from difcon_jax.crystal.atom_labels import element_from_label
from difcon_jax.crystal.operations import (
    GROUPS,
    as_triplet,
    missing_product,
    ops_arrays,
    ops_key,
    parse_operations,
    tabulated_group,
)
from difcon_jax.crystal.spglib_calls import spglib_or_none
from difcon_jax.errors import InputError
from difcon_jax.files import read_user_file

#: Isotropic displacement used when a file gives none (Å²): a typical room-temperature value for
#: inorganic solids. Values ≤ 0 or missing count as "none".  Override per call with ``b_iso=``.
DEFAULT_B_ISO = 1.0

EIGHT_PI2 = 8.0 * math.pi**2  # B = 8π² U
MAX_CIF_BYTES = 64 * 1024 * 1024  # one structure's CIF; anything larger is not a single structure
MAX_GROUP_ORDER = 192  # operations of a space group in its conventional cell (Fm-3m, Fd-3m ...)
MAX_POINT_GROUP_ORDER = 48  # m-3m: the most operations that can fix one site


@dataclasses.dataclass(frozen=True)
class StructureLimits:
    """Caps that reject absurd inputs before they cost minutes (configurable)."""

    max_atoms: int = 1000  # sites in the full unit cell
    # Å³: a sanity bound on the declared cell, not the cost bound (the stick pattern bounds its own work by
    # the number of reflections to 2θ max); the largest shared structure (In12Te23, 28,088 Å³) builds.
    max_volume: float = 200000.0
    min_volume: float = 1.0  # Å³
    #: occupancies up to this are rounding (clipped to 1 and noted); above it the file is refused
    max_occupancy: float = 1.05
    #: atoms closer than this (Å) with occupancies summing above max_occupancy are a listing error
    min_distance: float = 0.5


@dataclasses.dataclass(frozen=True)
class Structure:
    """A full unit cell.

    Attributes:
      cell: (a, b, c, α, β, γ) in Å and degrees.
      frac: float64[N, 3] fractional coordinates of every site in the cell.
      elements: N element symbols (neutral, e.g. "Na").
      occupancy: float64[N] site occupancies (0, 1].
      b_iso: float64[N] isotropic displacement parameters B (Å²).
      rotations: int32[M, 3, 3] rotation parts of all M symmetry operations of this setting (centring
        included), acting on fractional coordinates: x' = R x + t.
      translations: float64[M, 3] translation parts t (fractions of the cell edges).
      space_group: standard space-group number 1–230.
      source: a file path or a generator id.
      name: the data block name or a generated label.
      notes: corrections made while reading (labels mapped to elements, occupancies clipped).
    """

    cell: tuple[float, float, float, float, float, float]
    frac: np.ndarray
    elements: tuple[str, ...]
    occupancy: np.ndarray
    b_iso: np.ndarray
    rotations: np.ndarray
    translations: np.ndarray
    space_group: int
    source: str = ""
    name: str = ""
    notes: tuple[str, ...] = ()  # non-fatal corrections made while reading (reported by builds)

    @property
    def num_sites(self) -> int:
        return len(self.elements)

    def lattice_matrix(self) -> np.ndarray:
        """float64[3, 3] with rows a, b, c in Cartesian Å (a along x, b in the xy plane)."""
        a, b, c, al, be, ga = self.cell
        al, be, ga = np.radians([al, be, ga])
        cx = c * np.cos(be)
        cy = c * (np.cos(al) - np.cos(be) * np.cos(ga)) / np.sin(ga)
        cz = math.sqrt(max(c * c - cx * cx - cy * cy, 0.0))
        return np.array([[a, 0.0, 0.0], [b * np.cos(ga), b * np.sin(ga), 0.0], [cx, cy, cz]])

    @property
    def volume(self) -> float:
        return float(abs(np.linalg.det(self.lattice_matrix())))

    def _counts(self) -> Counter:
        counts: Counter = Counter()
        for el, occ in zip(self.elements, self.occupancy):
            counts[el] += float(occ)
        return counts

    @staticmethod
    def _format(counts: dict) -> str:
        parts = []
        for el in sorted(counts, key=lambda e: (e != "C", e != "H", e)):  # Hill order
            n = counts[el]
            parts.append(el + ("" if abs(n - 1) < 1e-6 else (f"{n:.0f}" if abs(n - round(n)) < 1e-3 else f"{n:.3g}")))
        return "".join(parts)

    @property
    def formula(self) -> str:
        """Cell content weighted by occupancy, Hill order, e.g. 'Cl4Na4'."""
        return self._format(self._counts())

    @property
    def reduced_formula(self) -> str:
        """Formula divided by the greatest common divisor of integer counts, e.g. 'ClNa'."""
        counts = self._counts()
        if all(abs(n - round(n)) < 1e-3 for n in counts.values()):
            g = math.gcd(*(int(round(n)) for n in counts.values()))
            counts = Counter({e: round(n) / g for e, n in counts.items()})
        return self._format(counts)

    def with_b_iso(self, b: float) -> "Structure":
        """The same structure with every atom's B set to ``b`` (Å²; 0 = static lattice)."""
        return dataclasses.replace(self, b_iso=np.full(self.num_sites, float(b)))


def structure_from_cif_text(text: str, source: str = "<string>", *, limits: StructureLimits | None = None,
                            default_b_iso: float = DEFAULT_B_ISO) -> Structure:
    """Parse CIF text into a :class:`Structure`; raise :class:`InputError` with a one-line reason."""
    limits = limits or StructureLimits()
    block = atom_block(text, source)
    st = _small_structure(block, source, limits)
    number, sg, own_ops, notes = _symmetry(st, source)
    notes += _check_sites(st, source, limits)
    sites, merged = _cell_sites(st, sg, own_ops, source, limits)
    frac = np.array([[f.x, f.y, f.z] if hasattr(f, "x") else f for _, f, _, _ in sites], dtype=np.float64) % 1.0
    rotations, translations = own_ops if own_ops is not None else ops_arrays(sg.operations())
    if own_ops is None:  # the stick pattern will ask which tabulated group these operations are: known now
        GROUPS.setdefault(ops_key(rotations, translations), sg)
    cell = (st.cell.a, st.cell.b, st.cell.c, st.cell.alpha, st.cell.beta, st.cell.gamma)
    return Structure(
        cell=tuple(float(x) for x in cell), frac=frac, elements=tuple(e for e, _, _, _ in sites),
        occupancy=np.array([min(o, 1.0) for _, _, o, _ in sites]), b_iso=_b_iso(block, sites, default_b_iso),
        rotations=np.asarray(rotations, np.int32), translations=np.asarray(translations, np.float64),
        space_group=number, source=source, name=block.name, notes=tuple(notes + merged),
    )


def atom_block(text: str, source: str):
    """The first data block with atom sites. A UTF-8 byte-order mark and old-Mac CR-only (or CR LF) line
    endings are read as what they are: plain line breaks."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    try:
        doc = gemmi.cif.read_string(text)
    except Exception as e:  # gemmi raises ValueError/RuntimeError with a position
        raise InputError(source, f"not a readable CIF ({e})") from None
    blocks = [b for b in doc if b.find_value("_atom_site_fract_x") is not None or b.find_loop("_atom_site_fract_x")]
    if not blocks:
        if len(doc) == 0:
            raise InputError(source, "no data block in file")
        raise InputError(source, "no atom sites (_atom_site_fract_x) in any data block")
    return blocks[0]


def _small_structure(block, source: str, limits: StructureLimits):
    """gemmi's SmallStructure of the block, its cell and site count checked against ``limits``."""
    for tag in ("_cell_length_a", "_cell_length_b", "_cell_length_c"):
        v = block.find_value(tag)
        if v is None or gemmi.cif.as_number(v) != gemmi.cif.as_number(v):
            raise InputError(source, f"missing unit cell ({tag})")
    try:
        st = gemmi.make_small_structure_from_block(block)
    except Exception as e:
        raise InputError(source, f"cannot build a structure ({e})") from None
    cell = (st.cell.a, st.cell.b, st.cell.c, st.cell.alpha, st.cell.beta, st.cell.gamma)
    if not all(math.isfinite(x) and x > 0 for x in cell) or not math.isfinite(st.cell.volume):
        raise InputError(source, f"invalid unit cell {cell}")
    if not st.cell.volume > limits.min_volume:
        raise InputError(source, f"unit-cell volume {st.cell.volume:.3g} Å³ is zero, negative or too small")
    if st.cell.volume > limits.max_volume:
        raise InputError(source, f"unit-cell volume {st.cell.volume:.0f} Å³ exceeds the cap {limits.max_volume:.0f} Å³")
    if len(st.sites) == 0:
        raise InputError(source, "no atoms")
    if len(st.sites) > limits.max_atoms:  # every listed site is at least one atom of the cell
        raise InputError(source, f"{len(st.sites)} atom sites (one atom or more each) exceed the cap "
                                 f"{limits.max_atoms} of atoms in the cell")
    # gemmi reads an occupancy it cannot parse ('nan', 'abc') as 1: check the written values ourselves
    labels = list(block.find_values("_atom_site_label"))
    for i, raw in enumerate(block.find_values("_atom_site_occupancy")):
        if raw not in ("?", ".") and not math.isfinite(gemmi.cif.as_number(raw)):
            where = f" at site {labels[i]!r}" if i < len(labels) else ""
            raise InputError(source, f"occupancy {raw!r}{where} is not a number")
    return st


def _symmetry(st, source: str):
    """(space-group number, gemmi SpaceGroup or None, own operations (rot, tran) or None, notes). The
    structure's own operations decide the group; the H-M/Hall symbol is only a fallback. Operations that
    are not closed under products are refused, naming a missing product."""
    if not st.symops:
        if st.spacegroup is None:
            raise InputError(source, "no space group (neither symmetry operations nor a known H-M/Hall symbol)")
        return int(st.spacegroup.number), st.spacegroup, None, []
    if len(st.symops) > 10 * MAX_GROUP_ORDER:  # refuse before parsing thousands of lines
        raise InputError(source, f"{len(st.symops)} symmetry operations (a space group has at most {MAX_GROUP_ORDER})")
    try:
        rot, tran = parse_operations(st.symops)
    except ValueError as e:
        raise InputError(source, f"unreadable symmetry operation ({e})") from None
    if len(rot) > MAX_GROUP_ORDER:
        raise InputError(source, f"{len(rot)} distinct symmetry operations (a space group has at most "
                                 f"{MAX_GROUP_ORDER} in its conventional cell)")
    notes = []
    gap = missing_product(rot, tran)
    if gap is not None:  # a typo or a truncated loop: completing the list would invent symmetry
        i, j, r, t = gap
        raise InputError(source, f"symmetry operations do not form a space group: the product of "
                                 f"{as_triplet(rot[i], tran[i])!r} and {as_triplet(rot[j], tran[j])!r} ({as_triplet(r, t)}) is not listed")
    sg = tabulated_group(rot, tran)
    if sg is not None:
        st.spacegroup = sg
        return int(sg.number), sg, None, notes
    number = _group_number_from_ops(rot, tran, st)  # shifted origin or an untabulated setting
    if number is None:
        raise InputError(source, "symmetry operations do not form a space group")
    return number, None, (rot, tran), notes


def _check_sites(st, source: str, limits: StructureLimits) -> list[str]:
    """Elements from labels where the type is unknown, finite coordinates, occupancies in range; notes."""
    notes = []
    for site in st.sites:
        if site.element.name == "X":
            mapped = element_from_label(site.label)
            if mapped is None:
                raise InputError(source, f"unknown element {site.type_symbol!r} at site {site.label!r}")
            site.element = gemmi.Element(mapped)
            notes.append(f"label {site.label!r} read as {mapped}")
        if not site.element.it92:  # gemmi reads the type 'NH4' (AFLOW's ammonium as one site) as nihonium
            raise InputError(source, f"type symbol {site.type_symbol!r} at site {site.label!r} reads as element "
                                     f"{site.element.name}, which has no X-ray form factor (a molecular ion written "
                                     "as one site?)")
        f = site.fract
        if not all(math.isfinite(x) for x in (f.x, f.y, f.z)):
            raise InputError(source, f"non-numeric coordinates at site {site.label!r}")
        if not math.isfinite(site.occ) or site.occ < 0 or site.occ > limits.max_occupancy:
            raise InputError(source, f"occupancy {site.occ} at site {site.label!r} is not in (0, 1]")
        if site.occ > 1.0 + 1e-3:
            notes.append(f"occupancy {site.occ:g} at site {site.label!r} clipped to 1")
    return notes


def _cell_sites(st, sg, own_ops, source: str, limits: StructureLimits):
    """(every occupied site image of the cell as (element, fract, occupancy, gemmi site), notes of merged
    overlaps), bounded before the expansion: a site has at least |G| / 48 images (48 = the largest point
    group), so more than 48 × max_atoms site-operation pairs cannot fit the atom cap."""
    n_ops = len(own_ops[0]) if own_ops is not None else len(sg.operations())
    n_occupied = sum(1 for site in st.sites if site.occ > 0)
    if n_occupied * n_ops > MAX_POINT_GROUP_ORDER * limits.max_atoms:
        least = -(-n_occupied * n_ops // MAX_POINT_GROUP_ORDER)
        raise InputError(source, f"{n_occupied} sites × {n_ops} symmetry operations place at least {least} atoms "
                                 f"in the cell, which exceed the cap {limits.max_atoms}")
    if own_ops is None:
        sites = [(s.element.name, s.fract, s.occ, s) for s in st.get_all_unit_cell_sites() if s.occ > 0]
    else:
        sites = _expand_sites(st, *own_ops)
    if not sites:
        raise InputError(source, "no atoms with non-zero occupancy")
    if len(sites) > limits.max_atoms:
        raise InputError(source, f"{len(sites)} atoms in the unit cell exceed the cap {limits.max_atoms}")
    cell = (st.cell.a, st.cell.b, st.cell.c, st.cell.alpha, st.cell.beta, st.cell.gamma)
    return _resolve_overlaps(source, sites, cell, limits)


def _b_iso(block, sites, default_b_iso: float) -> np.ndarray:
    """float64[N] B (Å²) per site: U_iso, else U_eq from the anisotropic U, else ``default_b_iso``."""
    has_iso = any(block.find_value(t) is not None or block.find_loop(t)
                  for t in ("_atom_site_U_iso_or_equiv", "_atom_site_B_iso_or_equiv"))
    b = []
    for _, _, _, s in sites:
        u = s.u_iso if has_iso else 0.0
        if not (math.isfinite(u) and u > 0) and s.aniso.nonzero():
            u = (s.aniso.u11 + s.aniso.u22 + s.aniso.u33) / 3.0  # U_eq (exact for orthogonal axes)
        b.append(EIGHT_PI2 * u if (math.isfinite(u) and u > 0) else default_b_iso)
    return np.array(b, dtype=np.float64)


def _group_number_from_ops(rot: np.ndarray, tran: np.ndarray, st) -> int | None:
    """Space-group type of arbitrary operations (any origin/setting) via spglib."""
    cell = Structure(cell=(st.cell.a, st.cell.b, st.cell.c, st.cell.alpha, st.cell.beta, st.cell.gamma),
                     frac=np.zeros((0, 3)), elements=(), occupancy=np.zeros(0), b_iso=np.zeros(0),
                     rotations=rot, translations=tran, space_group=1)
    try:
        t = spglib_or_none(spglib.get_spacegroup_type_from_symmetry, rot, tran, cell.lattice_matrix(), symprec=1e-3)
    except Exception:  # operations read from a user's file that spglib cannot even take: no group, not a traceback
        return None
    return None if t is None else int(t.number)


def _expand_sites(st, rot: np.ndarray, tran: np.ndarray, tol: float = 1e-3):
    """Full-cell images of the asymmetric sites under the given operations, duplicates merged."""
    out = []
    for s in st.sites:
        if not s.occ > 0:
            continue
        x = np.array([s.fract.x, s.fract.y, s.fract.z])
        images = (np.einsum("kij,j->ki", rot, x) + tran) % 1.0
        kept: list[np.ndarray] = []
        for im in images:
            if all(np.abs((im - k + 0.5) % 1.0 - 0.5).max() > tol for k in kept):
                kept.append(im)
        out += [(s.element.name, k, s.occ, s) for k in kept]
    return out


def _resolve_overlaps(source: str, sites, cell, limits: StructureLimits) -> tuple[list, list[str]]:
    """Atoms of two listed sites closer than ``limits.min_distance`` Å whose occupancies add up to more than
    a full site.

    The same element at one position (< 0.1 Å; e.g. a site listed again as its own symmetry image, as some
    AMCSD files do) keeps one copy and a note; any other such pair is a listing error and refuses the file.
    Split sites of disorder (occupancies ≤ 1 together) pass untouched.
    """
    if len(sites) < 2:
        return sites, []
    frac = np.array([[f.x, f.y, f.z] if hasattr(f, "x") else f for _, f, _, _ in sites], dtype=np.float64)
    occ = np.array([o for _, _, o, _ in sites])
    lat = Structure(cell=cell, frac=frac[:0], elements=(), occupancy=occ[:0], b_iso=occ[:0],
                    rotations=np.zeros((0, 3, 3), np.int32), translations=np.zeros((0, 3)),
                    space_group=1).lattice_matrix()
    d = frac[:, None, :] - frac[None, :, :]
    d -= np.round(d)  # nearest image in fractional coordinates (enough to find near-coincident atoms)
    dist = np.linalg.norm(d @ lat, axis=-1)
    clash = np.triu(dist < limits.min_distance, 1) & (occ[:, None] + occ[None, :] > limits.max_occupancy)
    drop, pairs = set(), set()
    for i, j in zip(*np.nonzero(clash)):
        if i in drop or j in drop:
            continue
        a, b = sites[i][3], sites[j][3]
        if a.label == b.label:  # images of one site near a symmetry element: disorder written loosely, kept
            continue
        if sites[i][0] == sites[j][0] and dist[i, j] < 0.1:
            drop.add(j)
            pairs.add((a.label, b.label))
            continue
        raise InputError(source, f"atoms at sites {a.label!r} and {b.label!r} overlap ({dist[i, j]:.3f} Å apart, "
                                 f"occupancies {occ[i]:g} + {occ[j]:g} > 1)")
    notes = [f"site {b!r} coincides with site {a!r} (same element): one kept" for a, b in sorted(pairs)]
    return [s for k, s in enumerate(sites) if k not in drop], notes


def read_cif(path: str | os.PathLike, *, limits: StructureLimits | None = None,
             default_b_iso: float = DEFAULT_B_ISO) -> Structure:
    """Read a CIF file into a :class:`Structure`; :class:`InputError` names the file and the problem."""
    path = os.fspath(path)
    raw = read_user_file(path, MAX_CIF_BYTES)
    return structure_from_cif_bytes(raw, path, limits=limits, default_b_iso=default_b_iso)


def structure_from_cif_bytes(raw: bytes, source: str, *, limits: StructureLimits | None = None,
                             default_b_iso: float = DEFAULT_B_ISO) -> Structure:
    """A CIF's bytes (a file or an archive member) into a :class:`Structure`; refuses oversize and binary data."""
    if len(raw) > MAX_CIF_BYTES:
        raise InputError(source, "file larger than 64 MiB; not a single-structure CIF")
    if b"\x00" in raw[:4096]:
        raise InputError(source, "binary file, not a CIF")
    text = raw.decode("utf-8-sig", errors="replace")
    return structure_from_cif_text(text, source, limits=limits, default_b_iso=default_b_iso)

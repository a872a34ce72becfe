"""Symmetry operations as arrays: parsing 'x,y,z' triplets, closing a list into the group it generates, and
gemmi's tabulated setting for a list of operations (cached). Rotations int32[M, 3, 3] act on fractional
coordinates, translations float64[M, 3] are fractions of the cell edges in [0, 1): x' = R x + t."""

from __future__ import annotations

import re

import gemmi
import numpy as np


def ops_arrays(group_ops) -> tuple[np.ndarray, np.ndarray]:
    """gemmi.GroupOps -> (int32[M,3,3], float64[M,3]) over all operations, centring included."""
    rots, trans = [], []
    for op in group_ops:  # iterating GroupOps yields every sym_op × cen_op combination
        rots.append(np.array(op.rot, dtype=np.int64) // gemmi.Op.DEN)
        trans.append(np.array(op.tran, dtype=np.float64) / gemmi.Op.DEN)
    return np.array(rots, dtype=np.int32), np.array(trans)


def parse_operations(triplets: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse 'x,y,z'-style operations (fractions or decimals) into unique (int32[M,3,3], float64[M,3])."""
    rots, trans, seen = [], [], set()
    for trip in triplets:
        parts = trip.lower().replace(" ", "").split(",")
        if len(parts) != 3:
            raise ValueError(f"{trip!r} is not a triplet")
        r = np.zeros((3, 3))
        t = np.zeros(3)
        for i, expr in enumerate(parts):
            for sign, coef, var in re.findall(r"([+-]?)([0-9./]*)\*?([xyz]?)", expr):
                if not coef and not var:
                    continue
                try:
                    val = float(eval_fraction(coef)) if coef else 1.0
                except (ValueError, ZeroDivisionError):
                    raise ValueError(f"bad number {coef!r} in {trip!r}") from None
                val = -val if sign == "-" else val
                if var:
                    r[i, "xyz".index(var)] += val
                else:
                    t[i] += val
            if not re.fullmatch(r"([+-]?[0-9./]*\*?[xyz]?)+", expr):
                raise ValueError(f"cannot read {trip!r}")
        if np.abs(r - np.round(r)).max() > 1e-6 or abs(abs(np.linalg.det(r)) - 1) > 1e-6:
            raise ValueError(f"{trip!r} is not a crystallographic operation")
        t = t % 1.0
        t[np.abs(t - 1) < 1e-6] = 0.0
        key = (tuple(np.round(r).astype(int).ravel()), tuple(np.round(t, 5)))
        if key not in seen:
            seen.add(key)
            rots.append(np.round(r).astype(np.int32))
            trans.append(t)
    return np.array(rots), np.array(trans)


def as_triplet(r: np.ndarray, t: np.ndarray) -> str:
    """'x,y,z'-style text of one operation (translations as fractions of 12 or 24 where they are)."""
    return _gemmi_op(r, t).triplet()


def _codes(rot: np.ndarray, tran: np.ndarray) -> np.ndarray:
    """One integer per operation (rotation entries in −3…3, translation mod 1 to 1/1440) for set tests."""
    r = (np.asarray(rot, np.int64).reshape(*np.shape(rot)[:-2], 9) + 3) @ (7 ** np.arange(9, dtype=np.int64))
    t = np.round((np.asarray(tran, np.float64) % 1.0) * 1440).astype(np.int64) % 1440
    return r * 1440 ** 3 + t @ (1440 ** np.arange(3, dtype=np.int64))


def missing_product(rot: np.ndarray, tran: np.ndarray):
    """None when the operations (int[M,3,3], float[M,3], translations mod 1) are closed under products
    (R₁,t₁)(R₂,t₂) = (R₁R₂, R₁t₂ + t₁) mod 1 — a group; else (i, j, R, t): a product of operations i and j
    that is not in the list. All M² products at once (≤ 192² for a space group)."""
    rot, tran = np.asarray(rot, np.int64), np.asarray(tran, np.float64)
    r = np.einsum("iab,jbc->ijac", rot, rot)
    t = (np.einsum("iab,jb->ija", rot, tran) + tran[:, None, :]) % 1.0
    absent = ~np.isin(_codes(r, t), _codes(rot, tran))
    if not absent.any():
        return None
    i, j = map(int, np.argwhere(absent)[0])
    return i, j, r[i, j], t[i, j]


def eval_fraction(text: str) -> float:
    """'1/2' → 0.5, '0.25' → 0.25, '/3' → 1/3 (a fraction or decimal of a symmetry operation)."""
    if "/" in text:
        num, den = text.split("/", 1)
        return float(num or 1) / float(den)
    return float(text)


#: gemmi SpaceGroup (or None) per operation list, filled by :func:`read_cif` and :func:`tabulated_group`:
#: a build meets few distinct lists, and the stick pattern asks again for the list a CIF was read with.
GROUPS: dict = {}


def ops_key(rot, tran) -> tuple[bytes, bytes]:
    return np.ascontiguousarray(rot, np.int32).tobytes(), np.ascontiguousarray(tran, np.float64).tobytes()


def tabulated_group(rot: np.ndarray, tran: np.ndarray):
    """:func:`_tabulated_group` through a bounded cache keyed by the operations."""
    key = ops_key(rot, tran)
    if key not in GROUPS:
        if len(GROUPS) >= 4096:
            GROUPS.clear()
        GROUPS[key] = _tabulated_group(rot, tran)
    return GROUPS[key]


def _tabulated_group(rot: np.ndarray, tran: np.ndarray):
    """gemmi's SpaceGroup for operations that form a tabulated setting, else None."""
    t24 = tran * 24
    if np.abs(t24 - np.round(t24)).max() > 1e-4:
        return None
    try:
        ops = gemmi.GroupOps([_gemmi_op(r, t) for r, t in zip(rot, tran)])
    except Exception:
        return None
    return gemmi.find_spacegroup_by_ops(ops)


def _gemmi_op(r: np.ndarray, t: np.ndarray):
    op = gemmi.Op()
    op.rot = (np.asarray(r, int) * gemmi.Op.DEN).tolist()
    op.tran = np.round(np.asarray(t) * gemmi.Op.DEN).astype(int).tolist()
    return op

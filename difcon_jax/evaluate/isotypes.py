"""Held-out accuracy by how many *isotypes* of a structure the training split holds — whether a network reads
symmetry from the pattern or recognises structure types it was taught (host side, NumPy).

The split keeps a compound (reduced formula and space group) on one side, but isostructural compounds with other
elements (Ho₂O₃ beside Yb₂O₃) fall on both. A structure's isotypes here are the training rows of its space group
whose *anonymous formula* — atom fractions, sorted, elements ignored — lies within :data:`TOLERANCE` of its own: a
proxy of the structure type (Wyckoff sites are not compared). A network that has learned diffraction scores alike
across the bins of :data:`BINS`; one that recognises types scores high where a type is common and low on a held-out
structure whose type it never saw (results/network_axes/README.md, 2026-12-06: model G, equivariance SG 0.11
without an isotype, 0.64 with 50 or more; training structures without another isotype 0.57 — remembered).
"""

from __future__ import annotations

import re

import numpy as np

#: the bins of isotype counts reported: [lower, upper) training rows
BINS = ((0, 1), (1, 5), (5, 50), (50, None))
#: atom fractions this close are one stoichiometry: Na3.92Cl4 is NaCl's, CaF2 is not (chosen on simulated axes
#: only: exact stoichiometry tells refined occupancies apart and leaves 12 % of the held-out rows without an isotype,
#: 0.05 calls most five-element formulas alike and leaves 2 %, 0.01 leaves 10 %)
TOLERANCE = 0.01

_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*\.?\d*)")


def anonymous_formula(formula: str) -> np.ndarray:
    """float[k]: the formula's atom fractions, sorted (the stoichiometry without the elements: Ho2O3 and Yb2O3 both
    (0.4, 0.6)); k = 0 for a string with no element."""
    n = np.array([float(m or 1) for _, m in _ELEMENT.findall(str(formula))], np.float64)
    return np.sort(n / n.sum()) if len(n) and n.sum() > 0 else np.zeros(0)


def isotype_counts(space_group, formula, train: np.ndarray, rows, tolerance: float = TOLERANCE,
                   cache: dict | None = None) -> np.ndarray:
    """int[len(rows)]: for each row of a table (``space_group`` int[N], ``formula`` str[N]), how many rows of the
    training split (``train`` bool[N]) share its space group and its number of elements, with atom fractions within
    ``tolerance`` — the row itself not counted (so a training row's count is of its *other* isotypes). ``cache``: a
    dict kept between calls on the same table (row → its fractions), so several sets parse the formulas once."""
    space_group = np.asarray(space_group)
    train = np.asarray(train, bool)
    rows = np.asarray(rows, np.int64)
    out = np.zeros(len(rows), np.int64)
    anon: dict[int, np.ndarray] = {} if cache is None else cache

    def fractions(i):
        if i not in anon:
            anon[i] = anonymous_formula(formula[i])
        return anon[i]

    for g in np.unique(space_group[rows]):
        pool = np.flatnonzero(train & (space_group == g))
        by_k: dict[int, tuple[list, list]] = {}  # element count → (pool rows, their fractions float[k] each)
        for i in pool:
            f = fractions(i)
            idx, fr = by_k.setdefault(len(f), ([], []))
            idx.append(i)
            fr.append(f)
        for j in np.flatnonzero(space_group[rows] == g):
            r = int(rows[j])
            f = fractions(r)
            if len(f) not in by_k:
                continue
            idx, fr = by_k[len(f)]
            near = np.abs(np.asarray(fr) - f[None]).max(1) <= tolerance if len(f) else np.ones(len(idx), bool)
            out[j] = int(np.count_nonzero(near & (np.asarray(idx) != r)))
    return out


def by_isotypes(correct_sg: np.ndarray, correct_cs: np.ndarray, counts: np.ndarray) -> dict:
    """{bin label: {n, acc_cs, acc_sg}} of correctness bool[M] over :data:`BINS` of ``counts`` int[M] (a bin with
    no row: n 0 and no accuracies)."""
    correct_sg, correct_cs, counts = (np.asarray(v) for v in (correct_sg, correct_cs, counts))
    out = {}
    for lo, hi in BINS:
        m = (counts >= lo) & ((counts < hi) if hi is not None else True)
        label = f"{lo}" if hi == lo + 1 else (f"{lo}+" if hi is None else f"{lo}-{hi - 1}")
        out[label] = ({"n": int(m.sum()), "acc_cs": float(correct_cs[m].mean()), "acc_sg": float(correct_sg[m].mean())}
                      if m.any() else {"n": 0})
    return out

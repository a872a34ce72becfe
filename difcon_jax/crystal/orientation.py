"""Preferred-orientation data of a stick pattern: the spread of each peak's plane normals about c*.

March–Dollase corrects every member of a reflection family by P(α), α the angle between its plane normal
and the texture axis; a peak's factor is the mean over its members. So each peak carries up to
:data:`PO_SLOTS` distinct cos²α values with their shares (the device kernel ``march_dollase`` reads them).
Used by :mod:`difcon_jax.crystal.stick` (host side, NumPy).
"""

from __future__ import annotations

import numpy as np

#: Distinct cos²α values kept per peak for March–Dollase preferred orientation.
PO_SLOTS = 4


def _ranked(group: np.ndarray, value: np.ndarray, total: np.ndarray, n_groups: int):
    """The slots from pooled (group, value, total weight) triples sorted by (group, value): per group the
    :data:`PO_SLOTS` largest totals, ties by the smaller value (totals equal to 1e-6 tie, so float noise in
    the intensities cannot change which members a merged peak keeps), shares renormalised to 1."""
    order = np.lexsort((-np.round(total, 6), group))  # stable: equal totals keep the ascending values
    group, value, total = group[order], value[order], total[order]
    rank = np.arange(len(group)) - np.searchsorted(group, group, side="left")
    keep = rank < PO_SLOTS
    out_v = np.zeros((n_groups, PO_SLOTS), np.float32)
    out_w = np.zeros((n_groups, PO_SLOTS), np.float32)
    out_v[group[keep], rank[keep]] = value[keep]
    out_w[group[keep], rank[keep]] = total[keep]
    out_w /= np.maximum(out_w.sum(1, keepdims=True), 1e-30)
    return out_v, out_w


def top_slots(group: np.ndarray, value: np.ndarray, weight: np.ndarray, n_groups: int):
    """Per group, the :data:`PO_SLOTS` values with the largest summed weights (equal values pooled,
    rounded to 1e-6), shares renormalised to 1. Returns (values float32[G, K], shares float32[G, K])."""
    q = np.round(value * 1e6).astype(np.int64)
    pair = group.astype(np.int64) * 2_000_003 + q
    upair, inv = np.unique(pair, return_inverse=True)
    tot = np.bincount(inv.ravel(), weight)
    return _ranked(upair // 2_000_003, (upair % 2_000_003) / 1e6, tot, n_groups)


def top_slots_rows(value: np.ndarray):
    """:func:`top_slots` when every group is one row of ``value`` float[M, K] with unit weights: the same
    answer from a sort within each row (K values) instead of one sort of all M·K (group, value) pairs."""
    m, k = value.shape
    q = np.sort(np.round(value * 1e6).astype(np.int64), axis=1)
    start = np.ones((m, k), bool)
    start[:, 1:] = q[:, 1:] != q[:, :-1]
    rows, cols = np.nonzero(start)  # runs of equal values, row by row, values ascending
    ends = np.append(cols[1:], k)
    ends[np.append(rows[1:] != rows[:-1], True)] = k  # a row's last run ends at K
    return _ranked(rows, q[rows, cols] / 1e6, (ends - cols).astype(np.float64), m)


def orientation_spread(g: np.ndarray, axis: np.ndarray, inverse: np.ndarray | None, mult: np.ndarray):
    """Per unique reflection, the distribution of cos²α between its equivalent plane normals and ``axis``.

    March–Dollase corrects each *member* of a reflection family by P(α); the family's factor is the
    mean over members, so a peak carries up to :data:`PO_SLOTS` distinct cos²α values with their shares
    (the most frequent ones; shares renormalised). Axis: c* (the usual platelet normal). ``inverse``: the
    reflection of each row of ``g``, or None when ``g`` holds K images per reflection, reflection by reflection.
    Returns (cos² float32[M, K], weight float32[M, K]).
    """
    u = axis / np.linalg.norm(axis)
    c2 = (g @ u) ** 2 / np.maximum((g * g).sum(1), 1e-300)
    if inverse is None:  # the images come in rows of equal length (one row per reflection)
        return top_slots_rows(c2.reshape(len(mult), -1) if len(mult) else c2.reshape(0, 1))
    return top_slots(inverse, c2, np.ones(len(c2)), len(mult))

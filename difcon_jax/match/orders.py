"""Lines that are orders of one reflection: a pattern that fixes one spacing, not a cell (host side, NumPy).

A strongly oriented sample — a thin film grown along one axis, a clay or mica pressed flat — shows the orders
d, d/2, d/3 … of one lattice plane and little else. Such lines fix that one spacing (the basal spacing a clay
mineralogist reads off, 10 Å for illite, 14 Å for chlorite) but no cell and no extinction: any phase with a line
near d and a texture to hide the rest fits them. ``identify`` says so beside its answer rather than presenting a
match or a space group as tested by lines that cannot test it.
"""

from __future__ import annotations

import numpy as np

from difcon_jax.grid import Grid
from difcon_jax.match.indexing import IndexSettings, observed_lines
from difcon_jax.match.spectral_lines import line_q

#: how far (degrees 2θ) an observed line may sit from the order n of the lowest line: the indexing's final
#: assignment tolerance (IndexSettings), which a zero shift of a few hundredths of a degree stays inside
ORDER_TOL = 0.04
#: the highest order looked for (a d of 30 Å at Cu Kα has ~25 orders below 90°; 12 covers basal series)
MAX_ORDER = 12
#: the largest zero shift (degrees 2θ) allowed for a series (a misset sample height moves lines by a few tenths)
MAX_ZERO = 0.3


def one_spacing(y, weight, grid: Grid, anode: str | None = "Cu",
                settings: IndexSettings = IndexSettings()) -> dict | None:
    """{'d' (Å, the lowest observed line's spacing), 'orders' (int per line), 'zero' (degrees), 'two_theta'
    (degrees, grid scale)} when the background-removed profile ``y`` float[n_bins] on ``grid``, measured where
    ``weight`` > 0, shows at least two lines (:func:`~difcon_jax.match.indexing.observed_lines`) and every one
    of them is an order n ≤ :data:`MAX_ORDER` of the lowest: Q = n²·Q₁ within :data:`ORDER_TOL` in 2θ, after a
    zero shift within ±:data:`MAX_ZERO` (fitted when three or more lines show: two lines and a free zero fit any
    ratio); None otherwise."""
    tt = np.sort(observed_lines(y, weight, grid, anode, settings))
    if len(tt) < 2:
        return None
    zeros = np.arange(-MAX_ZERO, MAX_ZERO + 1e-9, 0.005) if len(tt) >= 3 else np.zeros(1)
    best = None
    for z in zeros:
        q, dq = line_q(tt, z, grid.lambda_ref, anode)
        orders = np.round(np.sqrt(q / q[0])).astype(int)
        if np.any(orders > MAX_ORDER) or len(set(orders)) < len(orders):
            continue
        q1 = float(np.sum(orders ** 2 * q) / np.sum(orders ** 4.0))  # least squares of Q = n²·Q₁
        miss = float(np.max(np.abs(q - orders ** 2 * q1) / dq))  # degrees 2θ
        if best is None or miss < best[0]:
            best = (miss, z, orders, q1)
    if best is None or best[0] > ORDER_TOL:
        return None
    _, z, orders, q1 = best
    return {"d": round(float(1.0 / np.sqrt(q1)), 4), "orders": [int(v) for v in orders],
            "zero": round(float(z), 3), "two_theta": [round(float(v), 3) for v in tt]}


def describe_one_spacing(rec: dict) -> str:
    """One line for a pattern :func:`one_spacing` found: what its lines fix and what they cannot test."""
    orders = ", ".join(str(v) for v in rec["orders"])
    return (f"the measured lines are orders of one spacing (d = {rec['d']:.3f} Å; orders {orders}): a strongly "
            "oriented sample — they fix that spacing, not a cell, and do not test the space group")

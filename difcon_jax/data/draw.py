"""Source weights of the training draw: how much more often structures of one source are drawn than the rest
(host side, NumPy; one fact for the sampler and for the prior correction that undoes the draw).

``data.source_weights`` is a tuple of ``'substring=weight'`` items, e.g. ``('amcsd=5',)``: a row whose source id
(the CIF's path in the peak table) contains ``amcsd`` is drawn 5× as often as it would be otherwise; a row
matching several items takes the product. The space-group tempering (``data.sampling_power``) applies on top,
so the draw is P(row) ∝ w_source(row) · n_g^(power − 1).
"""

from __future__ import annotations

import numpy as np

from difcon_jax.errors import InputError


def parse_source_weights(items) -> list[tuple[str, float]]:
    """[(substring, weight)] of ``'substring=weight'`` items; InputError (one line) naming the bad item."""
    out = []
    for item in items or ():
        key, sep, value = str(item).partition("=")
        try:
            w = float(value)
        except ValueError:
            w = float("nan")
        if not sep or not key.strip() or not np.isfinite(w) or w <= 0:
            raise InputError("data.source_weights", f"{item!r} is not 'substring=weight' with a positive weight")
        out.append((key.strip(), w))
    return out


def source_row_weights(source_ids, source_weights) -> np.ndarray | None:
    """float64[n]: each row's source weight (module docstring), or None when no weight is given (all 1)."""
    pairs = parse_source_weights(source_weights)
    if not pairs:
        return None
    src = np.asarray(source_ids).astype(str)
    w = np.ones(len(src), np.float64)
    for key, value in pairs:
        w[np.char.find(src, key) >= 0] *= value
    return w

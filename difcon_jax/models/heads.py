"""Hierarchical space-group prediction: p(SG) = p(CS) · p(SG | CS).

The 7 per-crystal-system heads each give a softmax over their own space groups (triclinic 1–2, monoclinic
3–15, ...). Multiplying by the crystal-system head's probability gives a distribution over all 230 groups
that sums to 1, and the arg-max space group always belongs to a crystal system with non-negligible
probability — the predicted SG can only be inconsistent with the predicted CS when p(SG|CS) concentrates
mass in a less likely system, which the evaluation measures (the paper's spurious-correlation diagnostic).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

#: The three classification heads, by the names their labels carry in the peak table, the model's logits
#: and the probabilities (one vocabulary; log keys abbreviate them as cs / eg / sg).
HEADS = ("crystal_system", "extinction_group", "space_group")
#: Space groups per crystal system: 1–2, 3–15, 16–74, 75–142, 143–167, 168–194, 195–230.
SG_PER_SYSTEM = (2, 13, 59, 68, 25, 27, 36)
NUM_CRYSTAL_SYSTEMS = len(SG_PER_SYSTEM)  # triclinic … cubic, the order of symmetry.CRYSTAL_SYSTEMS
SG_OFFSETS = tuple(int(x) for x in np.concatenate([[1], 1 + np.cumsum(SG_PER_SYSTEM)[:-1]]))


def space_group_log_probs(cs_logits, sg_logits) -> jax.Array:
    """log p(SG) [..., 230] (index = number − 1) from CS logits [..., 7] and the 7 per-system logits."""
    assert len(sg_logits) == NUM_CRYSTAL_SYSTEMS
    cs_logp = jax.nn.log_softmax(cs_logits, axis=-1)
    parts = [cs_logp[..., k:k + 1] + jax.nn.log_softmax(sg_logits[k], axis=-1) for k in range(NUM_CRYSTAL_SYSTEMS)]
    return jnp.concatenate(parts, axis=-1)

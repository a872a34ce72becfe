"""Hierarchical space-group prediction: p(SG) = p(CS) · p(SG | CS), and beside it, optionally, a flat head's p(SG).

The 7 per-crystal-system heads each give a softmax over their own space groups (triclinic 1–2, monoclinic
3–15, ...). Multiplying by the crystal-system head's probability gives a distribution over all 230 groups
that sums to 1, and the arg-max space group always belongs to a crystal system with non-negligible
probability — the predicted SG can only be inconsistent with the predicted CS when p(SG|CS) concentrates
mass in a less likely system, which the evaluation measures (the paper's spurious-correlation diagnostic).

A flat 230-way head (optional, ``model.flat_head``) is combined with the hierarchical distribution as their
normalised geometric mean, p(SG) ∝ √(p_hier · p_flat) (:func:`combined_space_group_log_probs`): a product of
experts, so a group either head rules out stays unlikely; the crystal system is then that distribution's marginal.

The lattice head (optional) regresses the Niggli-reduced primitive cell (:mod:`difcon_jax.crystal.reduced_cell`)
in the coordinates of :func:`encode_reduced_cell`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

#: The three classification heads, by the names their labels carry in the peak table, the model's logits
#: and the probabilities (one vocabulary; log keys abbreviate them as cs / eg / sg).
HEADS = ("crystal_system", "extinction_group", "space_group")
#: Space groups per crystal system: 1–2, 3–15, 16–74, 75–142, 143–167, 168–194, 195–230.
SG_PER_SYSTEM = (2, 13, 59, 68, 25, 27, 36)
NUM_CRYSTAL_SYSTEMS = len(SG_PER_SYSTEM)  # triclinic … cubic, the order of symmetry.CRYSTAL_SYSTEMS
NUM_SPACE_GROUPS = sum(SG_PER_SYSTEM)
SG_OFFSETS = tuple(int(x) for x in np.concatenate([[1], 1 + np.cumsum(SG_PER_SYSTEM)[:-1]]))


def space_group_log_probs(cs_logits, sg_logits) -> jax.Array:
    """log p(SG) [..., 230] (index = number − 1) from CS logits [..., 7] and the 7 per-system logits."""
    assert len(sg_logits) == NUM_CRYSTAL_SYSTEMS
    cs_logp = jax.nn.log_softmax(cs_logits, axis=-1)
    parts = [cs_logp[..., k:k + 1] + jax.nn.log_softmax(sg_logits[k], axis=-1) for k in range(NUM_CRYSTAL_SYSTEMS)]
    return jnp.concatenate(parts, axis=-1)


def combined_space_group_log_probs(hier_logp, flat_logits) -> jax.Array:
    """log p(SG) [..., 230] ∝ ½ (log p_hier + log p_flat): the hierarchical heads' log-probabilities ``hier_logp``
    (:func:`space_group_log_probs`) and a flat head's logits [..., 230], normalised."""
    mixed = 0.5 * (hier_logp + jax.nn.log_softmax(flat_logits, axis=-1))
    return mixed - logsumexp(mixed, axis=-1, keepdims=True)


def crystal_system_log_marginal(sg_logp) -> jax.Array:
    """log p(CS) [..., 7] summed over each system's space groups of log p(SG) [..., 230]."""
    parts = [sg_logp[..., o:o + n] for o, n in zip(np.asarray(SG_OFFSETS) - 1, SG_PER_SYSTEM)]
    return jnp.stack([logsumexp(p, axis=-1) for p in parts], axis=-1)


#: (ln a, ln b, ln c, cos α, cos β, cos γ) of the lattice head at initialisation.
REDUCED_CELL_PRIOR = (1.5, 1.8, 2.14, 0.0, 0.0, 0.0)


def encode_reduced_cell(cell):
    """[..., 6] (a, b, c in Å; α, β, γ in degrees) → the head's coordinates (ln a, ln b, ln c, cos α, cos β,
    cos γ): log lengths make an error relative (5 % of 3 Å and of 30 Å weigh alike)."""
    cell = jnp.asarray(cell, jnp.float32)
    return jnp.concatenate([jnp.log(cell[..., :3]), jnp.cos(jnp.radians(cell[..., 3:]))], axis=-1)


def decode_reduced_cell(y):
    """The inverse of :func:`encode_reduced_cell`: [..., 6] → (a, b, c in Å, α, β, γ in degrees)."""
    y = jnp.asarray(y, jnp.float32)
    return jnp.concatenate([jnp.exp(y[..., :3]), jnp.degrees(jnp.arccos(jnp.clip(y[..., 3:], -1.0, 1.0)))], axis=-1)

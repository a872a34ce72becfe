"""Losses: weighted cross-entropy per head, Barlow Twins (paper Eq. 6–7), SimCLR NT-Xent and the lattice
head's L1 loss."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from difcon_jax.models.heads import encode_reduced_cell, space_group_log_probs


def cross_entropy(logits, labels) -> jax.Array:
    """Mean cross-entropy of integer ``labels`` [B] under ``logits`` [B, C] (log-probabilities also work)."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=-1))


def barlow_twins_loss(z_a, z_b, tau: float, eps: float = 1e-5) -> jax.Array:
    """Barlow Twins (Eq. 6–7): normalise each embedding dimension along the batch, form the cross-correlation
    C_ij = Σ_b z_a[b,i] z_b[b,j] / B, and penalise Σ_i (1 − C_ii)² + τ Σ_{i≠j} C_ij².

    z_a, z_b: float[B, D] projections of two augmented views of the same structures. τ weighs the
    redundancy-reduction (off-diagonal) term; the original paper uses 5·10⁻³.
    """
    b = z_a.shape[0]
    za = (z_a - z_a.mean(0)) / (z_a.std(0) + eps)
    zb = (z_b - z_b.mean(0)) / (z_b.std(0) + eps)
    c = za.T @ zb / b
    on = jnp.sum((1 - jnp.diagonal(c)) ** 2)
    off = jnp.sum(c**2) - jnp.sum(jnp.diagonal(c) ** 2)
    return on + tau * off


def nt_xent_loss(z_a, z_b, temperature: float) -> jax.Array:
    """SimCLR's NT-Xent: each view must pick its partner among the 2B − 1 others (cosine similarity / T)."""
    z = jnp.concatenate([z_a, z_b], 0)
    z = z / (jnp.linalg.norm(z, axis=-1, keepdims=True) + 1e-12)
    sim = z @ z.T / temperature
    n = z.shape[0]
    sim = jnp.where(jnp.eye(n, dtype=bool), -jnp.inf, sim)
    partner = (jnp.arange(n) + n // 2) % n
    return cross_entropy(sim, partner)


def classification_losses(out, labels, weights) -> tuple[jax.Array, dict]:
    """Weighted sum of CS, EG and hierarchical SG cross-entropies (a flat head's SG cross-entropy at the SG
    weight beside it, when the model has one: ``loss_sg_flat``, ``acc_sg_flat``); returns (loss, metrics)."""
    sg_logp = space_group_log_probs(out["crystal_system"], out["space_group"])
    l_cs = cross_entropy(out["crystal_system"], labels["crystal_system"])
    l_eg = cross_entropy(out["extinction_group"], labels["extinction_group"])
    l_sg = -jnp.mean(jnp.take_along_axis(sg_logp, (labels["space_group"] - 1)[:, None], axis=-1))
    loss = weights["cs"] * l_cs + weights["eg"] * l_eg + weights["sg"] * l_sg
    metrics = {
        "loss_cs": l_cs, "loss_eg": l_eg, "loss_sg": l_sg,
        "acc_cs": jnp.mean(jnp.argmax(out["crystal_system"], -1) == labels["crystal_system"]),
        "acc_eg": jnp.mean(jnp.argmax(out["extinction_group"], -1) == labels["extinction_group"]),
        "acc_sg": jnp.mean(jnp.argmax(sg_logp, -1) + 1 == labels["space_group"]),
    }
    if "space_group_flat" in out:
        l_flat = cross_entropy(out["space_group_flat"], labels["space_group"] - 1)
        loss = loss + weights["sg"] * l_flat
        metrics.update(loss_sg_flat=l_flat,
                       acc_sg_flat=jnp.mean(jnp.argmax(out["space_group_flat"], -1) + 1 == labels["space_group"]))
    return loss, metrics


def lattice_loss(pred, cell) -> tuple[jax.Array, dict]:
    """L1 between the lattice head's ``pred`` [B, 6] (ln a, ln b, ln c, cos α, cos β, cos γ) and the true
    reduced cells ``cell`` [B, 6] (Å, degrees); rows with a NaN cell (spglib failed) are left out. L1, not
    L2: a pattern that cannot fix one edge should not drag the others. Returns (loss, metrics) with
    ``cell_err``, the mean |Δ ln length| (≈ the relative error of a, b, c)."""
    target = encode_reduced_cell(jnp.nan_to_num(cell, nan=1.0))
    valid = jnp.all(jnp.isfinite(cell), axis=-1).astype(jnp.float32)
    n = jnp.maximum(valid.sum(), 1.0)
    err = jnp.abs(pred - target)
    loss = jnp.sum(valid * err.mean(-1)) / n
    return loss, {"loss_cell": loss, "cell_err": jnp.sum(valid * err[:, :3].mean(-1)) / n}

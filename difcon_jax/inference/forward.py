"""Inference: ``predict(model, params, profiles) -> probabilities``, jitted and batch-size agnostic.

Batches are padded to the next power of two (at most ``max_batch``, larger inputs are chunked), so any
number of patterns costs at most log2(max_batch) + 1 compilations.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from difcon_jax.models.heads import (combined_space_group_log_probs, crystal_system_log_marginal, decode_reduced_cell,
                                     space_group_log_probs)


@functools.partial(jax.jit, static_argnums=0)
def _forward(model, params, x):
    """The heads' raw logits for profiles float[B, n_bins]: crystal_system [B, 7], extinction_group [B, n_eg],
    space_group (7 × [B, n_c]), the representation [B, D], from a lattice head reduced_cell [B, 6] (a, b, c in Å,
    α, β, γ in degrees) and from a flat head space_group_flat [B, 230]."""
    out = model.apply({"params": params}, x)
    cell = {"reduced_cell": decode_reduced_cell(out["reduced_cell"])} if "reduced_cell" in out else {}
    flat = {"space_group_flat": out["space_group_flat"]} if "space_group_flat" in out else {}
    return {"crystal_system": out["crystal_system"], "extinction_group": out["extinction_group"],
            "space_group": tuple(out["space_group"]), "representation": out["representation"], **cell, **flat}


@jax.jit
def probabilities(logits: dict, temperature=1.0) -> dict:
    """Temperature-scaled probabilities from :func:`predict_logits`' logits: every head's logits divided by
    ``temperature`` (so p(SG) = p(CS)·p(SG|CS) stays consistent with p(CS)). With a flat head, p(SG) is the
    normalised geometric mean of both (:func:`~difcon_jax.models.heads.combined_space_group_log_probs`) and p(CS)
    its marginal (``logits_cs`` then its log)."""
    t = jnp.asarray(temperature, jnp.float32)
    cs, eg = logits["crystal_system"] / t, logits["extinction_group"] / t
    sg_logp = space_group_log_probs(cs, tuple(s / t for s in logits["space_group"]))
    if "space_group_flat" in logits:
        sg_logp = combined_space_group_log_probs(sg_logp, logits["space_group_flat"] / t)
        cs = crystal_system_log_marginal(sg_logp)
    cell = {"reduced_cell": logits["reduced_cell"]} if "reduced_cell" in logits else {}
    return {"crystal_system": jax.nn.softmax(cs, -1), "extinction_group": jax.nn.softmax(eg, -1),
            "space_group": jnp.exp(sg_logp), "representation": logits["representation"],
            "logits_cs": cs, "logits_eg": eg, **cell}


def predict_logits(model, params, profiles, max_batch: int = 256) -> dict:
    """Raw logits of every head for profiles float[B, n_bins] (NumPy), in chunks of at most ``max_batch``."""
    x = np.asarray(profiles, np.float32)
    if x.ndim == 1:
        x = x[None]
    outs = []
    for start in range(0, len(x), max_batch):
        chunk = x[start:start + max_batch]
        n = len(chunk)
        size = min(max_batch, 1 << max(0, (n - 1).bit_length()))
        padded = np.zeros((size, x.shape[1]), np.float32)
        padded[:n] = chunk
        outs.append(jax.tree_util.tree_map(lambda a: np.asarray(a)[:n], _forward(model, params, padded)))
    return jax.tree_util.tree_map(lambda *a: np.concatenate(a), *outs)


def predict(model, params, profiles, max_batch: int = 256, temperature: float = 1.0) -> dict[str, np.ndarray]:
    """Probabilities for profiles float[B, n_bins]: crystal_system [B, 7], extinction_group [B, n_eg],
    space_group [B, 230] (index = number − 1, p(CS)·p(SG|CS); with a flat head, combined with its p(SG)),
    representation [B, D] and, when the model has a lattice head, reduced_cell [B, 6] (Å, degrees; not a
    probability, untouched). Every head's logits are divided by ``temperature`` (temperature scaling, fitted on
    simulated data)."""
    logits = predict_logits(model, params, profiles, max_batch)
    return {k: np.asarray(v) for k, v in probabilities(logits, temperature).items()}

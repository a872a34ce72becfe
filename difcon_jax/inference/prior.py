"""Label-shift (prior) correction of the heads' probabilities (Saerens, Latinne & Decaestecker 2002,
Neural Comput. 14, 21): the answer for the population a pattern comes from, not for the training draw.

Training draws structures ∝ n_g^(power − 1) (``data.sampling_power``, tempered so rare groups are seen), so
space group g carries the mass m_g ∝ n_g^power of the draw and the heads learn p_train(g | x) under that
prior (with source weights w_i, ``data.source_weights``: m_g ∝ Σ_{i∈g} w_i·n_g^(power − 1)). A population
whose groups occur with frequencies t_g has, by Bayes,

    p(g | x) ∝ p_train(g | x) · t_g / m_g.

Both vectors come from structure counts, never from measurements: m from the training split (written into
``calibration.json`` by :mod:`difcon_jax.evaluate.calibration`), t either from the same split (``natural``: the
population of the simulated axes) or from the reference library the model searches (``library``: for the
packaged model, the AMCSD minerals and the AFLOW structure prototypes — near the population a measured mineral
comes from: the 740 prototypes move no crystal system's share by more than 1.6 points). ``library build`` stores
the library's frequencies in the model's ``calibration.json`` too (``library_frequency``), so the answer for
a measured pattern is the same with the reference file or without it; a model with neither answers 'library'
uncorrected (the heads as trained: the tempered draw is nearer the minerals than the natural frequencies are).
The 'natural' correction is made at a strength β fitted, like the temperature, on simulated validation patterns
(``natural_prior_strength`` in ``calibration.json``, absent = 1: :func:`tempered_target`).
The crystal system is the marginal of the corrected p(SG) (as the hierarchical heads keep it); the
extinction-group head is corrected by the summed masses and frequencies of its groups.
"""

from __future__ import annotations

import numpy as np

from difcon_jax.crystal.symmetry import crystal_system_array, extinction_group_array, num_extinction_groups

PRIORS = ("library", "natural", "none")
#: pseudo-count per space group of a target population: a group the library lacks stays possible
PSEUDO_COUNT = 1.0


def group_frequency(space_groups, power: float = 1.0, pseudo: float = 0.0) -> np.ndarray:
    """float64[230] (index = number − 1), summing to 1: (count + ``pseudo``)^``power`` per space group of the
    numbers ``space_groups`` (1–230); ``power`` 0.5 gives the mass of a draw tempered as in training."""
    counts = np.bincount(np.asarray(space_groups, np.int64), minlength=231)[1:231].astype(np.float64) + pseudo
    w = np.where(counts > 0, counts, 0.0) ** float(power)
    return w / w.sum()


def draw_mass(space_groups, power: float, row_weights=None) -> np.ndarray:
    """float64[230] summing to 1: the training draw's mass per space group when row i is drawn ∝
    w_i·n_g^(power − 1) (``row_weights`` w, None = all 1: then the mass is n_g^power)."""
    sg = np.asarray(space_groups, np.int64)
    if row_weights is None:
        return group_frequency(sg, power)
    counts = np.bincount(sg, minlength=231).astype(np.float64)
    w = np.asarray(row_weights, np.float64) * counts[sg] ** (float(power) - 1.0)
    m = np.bincount(sg, weights=w, minlength=231)[1:231]
    return m / m.sum()


def prior_fields(train_space_groups, sampling_power: float, row_weights=None) -> dict:
    """The ``calibration.json`` fields of a training split: ``sampling_mass`` (m, the training draw's mass per
    group, :func:`draw_mass`) and ``natural_frequency`` (t of the split itself, with the pseudo-count), lists of
    230 floats; {} for an empty split (nothing to correct from)."""
    if len(np.asarray(train_space_groups)) == 0:
        return {}
    return {"sampling_mass": [float(v) for v in draw_mass(train_space_groups, sampling_power, row_weights)],
            "natural_frequency": [float(v) for v in group_frequency(train_space_groups, 1.0, PSEUDO_COUNT)],
            "sampling_power": float(sampling_power)}


def library_fields(library_space_groups) -> dict:
    """The ``calibration.json`` field of a reference library: ``library_frequency`` (t of its structures, with
    the pseudo-count), a list of 230 floats; {} for an empty library."""
    if len(np.asarray(library_space_groups)) == 0:
        return {}
    return {"library_frequency": [float(v) for v in group_frequency(library_space_groups, 1.0, PSEUDO_COUNT)]}


def tempered_target(target, mass, strength: float) -> np.ndarray:
    """float64[230] t′ ∝ m·(t/m)^β, so that :func:`label_shift` to t′ multiplies p_train by (t/m)^β: Bayes'
    correction at strength β (1: in full; 0: none). Why not always 1: the heads are not calibrated posteriors of
    the draw — an underfit network leans to P1 and P-1 when unsure, and the full ratio, large for the groups the
    Materials Project fills, amplifies that lean (simulated validation, 2026-12-04: triclinic answered for 30 %
    of patterns where 13 % are). β is fitted like the temperature, on simulated validation patterns
    (:mod:`difcon_jax.evaluate.calibration`)."""
    t, m = np.asarray(target, np.float64), np.asarray(mass, np.float64)
    if strength == 1.0:
        return t
    out = np.where(m > 0, m * (np.where(m > 0, t / np.where(m > 0, m, 1.0), 0.0)) ** float(strength), 0.0)
    return out / out.sum()


def label_shift(probs: dict, target: np.ndarray, mass: np.ndarray) -> dict:
    """``probs`` (predict's dict: space_group [B, 230], crystal_system [B, 7], extinction_group [B, n_eg]) for a
    population with group frequencies ``target`` float[230] instead of the training draw's ``mass`` float[230]
    (module docstring). Groups the draw never showed (m = 0) keep their (zero) probability."""
    target, mass = np.asarray(target, np.float64), np.asarray(mass, np.float64)
    ratio = np.where(mass > 0, target / np.where(mass > 0, mass, 1.0), 0.0)
    sg = np.asarray(probs["space_group"], np.float64) * ratio[None]
    sg /= np.maximum(sg.sum(1, keepdims=True), 1e-300)
    cs = np.zeros((len(sg), 7))
    np.add.at(cs.T, crystal_system_array()[1:], sg.T)
    eg_of = extinction_group_array()[1:]
    t_eg, m_eg = (np.bincount(eg_of, weights=v, minlength=num_extinction_groups()) for v in (target, mass))
    eg = np.asarray(probs["extinction_group"], np.float64) * np.where(m_eg > 0, t_eg / np.where(m_eg > 0, m_eg, 1), 0)
    eg /= np.maximum(eg.sum(1, keepdims=True), 1e-300)
    dtype = np.asarray(probs["space_group"]).dtype
    return dict(probs, space_group=sg.astype(dtype), crystal_system=cs.astype(dtype), extinction_group=eg.astype(dtype))


def check_prior_fields(calibration: dict) -> str | None:
    """Why ``calibration``'s stored prior is unusable (one line), or None when it is fine or absent."""
    if "sampling_mass" not in calibration:
        return None
    strength = calibration.get("natural_prior_strength", 1.0)
    if not isinstance(strength, (int, float)) or not 0.0 <= float(strength) <= 1.0:
        return "'natural_prior_strength' must be a number from 0 to 1"
    optional = ("library_frequency",) if "library_frequency" in calibration else ()
    for key in ("sampling_mass", "natural_frequency") + optional:
        v = np.asarray(calibration.get(key, []), dtype=object)
        try:
            v = v.astype(np.float64)
        except (TypeError, ValueError):
            return f"'{key}' must be 230 numbers"
        if v.shape != (230,) or not np.all(np.isfinite(v)) or (v < 0).any() or v.sum() <= 0:
            return f"'{key}' must be 230 finite non-negative numbers, not all zero"
    return None


def prior_target(calibration: dict, library: dict | None, prior: str) -> np.ndarray | None:
    """t for ``prior`` ('library': the library's group frequencies as stored in the calibration, else counted
    from ``library``; 'natural': the training split's; 'none'), or None when there is nothing to correct (prior
    'none'; 'library' for a model without a library; a calibration written before the sampling mass was
    stored)."""
    if prior not in PRIORS:
        raise ValueError(f"prior {prior!r}: one of {', '.join(PRIORS)}")
    if prior == "none" or "sampling_mass" not in calibration:
        return None
    if prior == "natural":
        return tempered_target(calibration["natural_frequency"], calibration["sampling_mass"],
                               float(calibration.get("natural_prior_strength", 1.0)))
    if "library_frequency" in calibration:
        return np.asarray(calibration["library_frequency"], np.float64)
    return None if library is None else group_frequency(library["space_group"], 1.0, PSEUDO_COUNT)

"""difcon-jax: self-supervised powder-XRD representations and symmetry classification in JAX.

Reimplements DIFCON (Das, Vorholt, Houben, Dronskowski, Crystals 2025, 15, 393): stick patterns from
crystal structures (host, NumPy/gemmi), on-device augmentation (JAX), a 1D ResNet with Barlow Twins and
hierarchical crystal-system / extinction-group / space-group heads.
"""

__version__ = "0.1.0"


def identify(files, **kwargs):
    """Named phases of measured patterns with refined cells and fits: see :func:`difcon_jax.match.identify.identify`
    (the command ``difcon-jax identify``). Returns (results, errors)."""
    from difcon_jax.match.identify import identify as _identify

    return _identify(files, **kwargs)

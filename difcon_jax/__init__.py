"""difcon-jax: self-supervised powder-XRD representations and symmetry classification in JAX.

Reimplements DIFCON (Das, Vorholt, Houben, Dronskowski, Crystals 2025, 15, 393): stick patterns from
crystal structures (host, NumPy/gemmi), on-device augmentation (JAX), a 1D ResNet with Barlow Twins and
hierarchical crystal-system / extinction-group / space-group heads.
"""

__version__ = "0.1.0"

"""Measured patterns: readers, wavelength conversion, background removal, resampling onto the model grid."""

from difcon_jax.patterns.preprocess import to_model_input
from difcon_jax.patterns.reader import Measured, read_pattern

__all__ = ["Measured", "read_pattern", "to_model_input"]

"""On-device augmentation: the paper's Table 1 and the laboratory effects it lacks, as pure JAX kernels."""

from difcon_jax.augment.kernels import Peaks
from difcon_jax.augment.params import latin_hypercube, neutral_params, sample_params, sample_params_batch
from difcon_jax.augment.pipeline import (
    device_table,
    gather,
    make_augment_batch,
    make_simulate,
    make_simulate_batch,
    make_two_views,
    vmap_in_chunks,
)
from difcon_jax.augment.profiles import RenderGrid, bin_sticks, caglioti_fwhm, render_peaks

__all__ = ["RenderGrid", "Peaks", "bin_sticks", "caglioti_fwhm", "device_table", "gather", "latin_hypercube",
           "make_augment_batch", "make_simulate", "make_simulate_batch", "make_two_views", "neutral_params", "render_peaks",
           "sample_params", "sample_params_batch", "vmap_in_chunks"]

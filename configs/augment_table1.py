"""Training-time augmentation ranges: the paper's Table 1 effects plus the laboratory effects it lacks.

Units: degrees 2θ for positions and widths, degrees² for Caglioti U, V, W, P, mm for displacement, nm for
crystallite size, fractions of the strongest peak for intensities. Every other config imports this one.
"""

import ml_collections

from difcon_jax.crystal.radiation import WAVELENGTHS


def get_config():
    c = ml_collections.ConfigDict()
    c.n_bins = 12000  # bin j centred at 0.005 + 0.01·j degrees
    c.two_theta_min = 0.0
    c.two_theta_max = 120.0
    c.lambda_ref = WAVELENGTHS["CuKa"]  # Å, the wavelength the peak table was simulated at (Cu Kα)
    c.render_stride = 32  # bins per coarse cell of the renderer
    c.fwhm_min = 0.02  # degrees; Caglioti H² < fwhm_min² is clamped
    c.fwhm_max = 0.4  # degrees; sets the renderer's window (Caglioti + Scherrer at 120° stay below)
    c.impurity_slots = 3
    c.ka2 = True  # render the Kα2 copies (static: doubles the peak count)
    c.latin_hypercube = True
    # Examples per device rendered at a time (difcon_jax.augment.vmap_in_chunks): −1 = auto, 8 on a CPU (keeps
    # its working set in cache: 2–3× one wide vmap) and 0 (one vmap over the batch) on an accelerator.
    c.augment_chunk = -1
    c.latin_hypercube_keys = ("U", "V", "W", "P", "eta", "rho")
    c.log_uniform = ("counts", "crystallite_size")
    # Background removal (SNIP) on every training view, the same function measured patterns go through
    # (difcon_jax/augment/background.py): half-window in degrees (0 = off), on cells of background_cell_deg.
    # SNIP keeps what is narrower than its window: 0.5° leaves 2–6 % of a 5–8° wide amorphous hump and
    # 95–98 % of a 0.1° peak's area (1.0° would leave 14–28 % of the hump; tests/augment/test_background.py).
    c.background_removal_deg = 0.5
    c.background_cell_deg = 0.1
    # > 0 only for models trained before the shared removal (config.upgrade sets it): measured points get
    # SNIP with this half-window (degrees) before resampling, and the shared removal is off
    c.legacy_snip_deg = 0.0
    # (name, λ1 Å, λ2 Å, Kα2/Kα1, probability): laboratory anodes seen in training
    c.sources = (("CuKa", 1.54056, 1.54439, 0.5, 0.7), ("CoKa", 1.78896, 1.79285, 0.5, 0.1),
                 ("FeKa", 1.93604, 1.93998, 0.5, 0.1), ("MoKa", 0.70930, 0.71359, 0.5, 0.1))
    c.ranges = ml_collections.ConfigDict(dict(
        # --- Table 1 ---
        zero_shift=((-0.1, 0.1),),
        position_noise=((0.0, 0.01),),
        crop_low=((0.0, 5.0),),
        crop_high=((100.0, 120.0),),
        intensity_noise=((0.0, 0.1),),
        impurity_count=((0.0, 3.999),),
        impurity_intensity=((0.0, 0.05),),
        U=((0.0, 0.02),),
        V=((-0.01, 0.0),),
        W=((0.0005, 0.01),),
        P=((0.0, 0.002),),
        eta=((0.1, 0.9),),
        rho=((0.0, 0.2),),
        white_noise=((0.0, 0.005),),
        scaled_noise=((0.0, 0.02),),
        measure_low=((0.0, 10.0),),
        measure_high=((80.0, 120.0),),
        # --- beyond Table 1 ---
        displacement=((-0.1, 0.1),),
        po_r=((0.8, 1.0),),
        crystallite_size=((80.0, 1000.0),),
        background_level=((0.0, 0.1),),
        hump_height=((0.0, 0.05),),
        hump_center=((15.0, 35.0),),
        hump_width=((5.0, 15.0),),
        counts=((2000.0, 100000.0),),
    ))
    return c

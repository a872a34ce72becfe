"""Invariance-test augmentation: every range disjoint from training (augment_table1), as in the paper.

Ranges sit outside the training ones (both sides where both make sense); sources are ones never seen in
training. A test checks the disjointness of every parameter.
"""

from difcon_jax.configs import augment_table1


def get_config():
    c = augment_table1.get_config()
    c.sources = (("CrKa", 2.28970, 2.29361, 0.5, 0.4), ("AgKa", 0.559421, 0.563813, 0.5, 0.3),
                 ("synchrotron", 0.8, 0.8, 0.0, 0.3))
    r = c.ranges
    r.zero_shift = ((-0.2, -0.1), (0.1, 0.2))
    r.position_noise = ((0.01, 0.02),)
    r.crop_low = ((5.0, 10.0),)
    r.crop_high = ((90.0, 100.0),)
    r.intensity_noise = ((0.1, 0.2),)
    r.impurity_count = ((3.999, 4.999),)
    r.impurity_intensity = ((0.05, 0.1),)
    r.U = ((0.02, 0.04),)
    r.V = ((-0.02, -0.01),)
    r.W = ((0.0001, 0.0005), (0.01, 0.02))
    r.P = ((0.002, 0.004),)
    r.eta = ((0.0, 0.1), (0.9, 1.0))
    r.rho = ((0.2, 0.35),)
    r.white_noise = ((0.005, 0.01),)
    r.scaled_noise = ((0.02, 0.04),)
    r.measure_low = ((10.0, 15.0),)
    r.measure_high = ((60.0, 80.0),)
    r.displacement = ((-0.2, -0.1), (0.1, 0.2))
    r.po_r = ((0.6, 0.8),)
    r.crystallite_size = ((40.0, 80.0),)
    r.background_level = ((0.1, 0.2),)
    r.hump_height = ((0.05, 0.1),)
    r.hump_center = ((10.0, 15.0), (35.0, 45.0))
    r.hump_width = ((2.0, 5.0), (15.0, 20.0))
    r.counts = ((300.0, 2000.0),)
    return c

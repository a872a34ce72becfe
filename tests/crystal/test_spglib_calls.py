"""spglib_or_none: spglib's failures as None under its new error handling, the caller's setting kept."""

import warnings

import numpy as np
import spglib
import spglib.error

from difcon_jax.crystal.spglib_calls import spglib_or_none


def test_a_found_group_a_failure_as_none_and_no_deprecation_warning():
    cscl = (4.11 * np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5]], [1, 2])  # two points of two kinds: Pm-3m
    overlapping = (4.11 * np.eye(3), [[0, 0, 0], [1e-4, 0, 0]], [1, 1])  # spglib: "too close distance"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the old handling warns on every call
        assert spglib_or_none(spglib.get_symmetry_dataset, cscl, symprec=1e-3).number == 221
        assert spglib_or_none(spglib.get_symmetry_dataset, overlapping, symprec=1e-3) is None


def test_the_callers_error_handling_is_put_back():
    before = spglib.error.OLD_ERROR_HANDLING
    try:
        for setting in (True, False):
            spglib.error.OLD_ERROR_HANDLING = setting
            spglib_or_none(spglib.get_symmetry_dataset, (np.eye(3), [[0, 0, 0], [1e-4, 0, 0]], [1, 1]))
            assert spglib.error.OLD_ERROR_HANDLING is setting
    finally:
        spglib.error.OLD_ERROR_HANDLING = before

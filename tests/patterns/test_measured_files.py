"""Every shared measured pattern goes through the reader and preprocessing (skips without ../shared)."""

import csv

import numpy as np

from difcon_jax.errors import InputError
from difcon_jax.patterns import read_pattern, to_model_input


def _read_folder(folder):
    with open(folder / "labels.csv", newline="") as fh:
        names = [row["file"] for row in csv.DictReader(fh)]
    good, bad = 0, {}
    for name in names:
        try:
            prof = to_model_input(read_pattern(folder / name, wavelength=1.5406))
        except InputError as e:
            bad[name] = str(e)
            continue
        assert prof.shape == (12000,) and np.isfinite(prof).all() and prof.max() == 1.0
        good += 1
    return len(names), good, bad


def test_rruff_and_thin_film_files(shared_data):
    n, good, bad = _read_folder(shared_data / "experimental" / "rruff_dev")
    assert n == 689 and good == n, bad
    n, good, bad = _read_folder(shared_data / "experimental" / "thin_film_perovskites")
    # two files have intensity columns run into the 2θ column on hundreds of lines ("14.168110228"): they are
    # refused with one line each rather than guessed at
    assert n == 88 and good == 86 and len(bad) == 2
    assert all("malformed data lines" in msg and "\n" not in msg for msg in bad.values())

"""The table a config trains on must be the one its grid describes: a table built at another wavelength (or
over a shorter 2θ range) is refused with a line naming both, instead of training as Cu Kα without a word."""

import pytest

from difcon_jax.config import default_config_path, load_config
from difcon_jax.data.build import BuildOptions, build_from_cifs
from difcon_jax.data.prepare import prepare_table, strongest_peaks
from difcon_jax.errors import ConfigError
from tests.helpers.structures import cif_of


def _table(tmp_path, **options):
    src = tmp_path / "cifs"
    src.mkdir(exist_ok=True)
    for name in ("NaCl", "CsCl", "rutile"):
        (src / f"{name}.cif").write_text(cif_of(name))
    out = tmp_path / "table"
    build_from_cifs(str(src), str(out), workers=1, options=BuildOptions(max_peaks=32, **options))
    return str(out)


def _cfg(table, *extra):
    return load_config(default_config_path("quickstart"), [f"data.table={table!r}", "data.max_peaks=16", *extra])


def test_a_mo_table_is_refused_for_a_cu_grid_and_accepted_at_its_own(tmp_path):
    table = _table(tmp_path, wavelength="MoKa")
    with pytest.raises(ConfigError, match=r"simulated at 'MoKa' \(0\.71\d+ Å\) but the model's grid is at "
                                          r"augment.lambda_ref = 1\.54184"):
        prepare_table(_cfg(table), str(tmp_path))
    t = prepare_table(_cfg(table, "augment.lambda_ref=0.71075"), str(tmp_path))
    assert len(t) == 3 and t.max_peaks == 16


def test_a_table_shorter_than_the_grid_is_refused(tmp_path):
    table = _table(tmp_path, two_theta_max=60.0)
    with pytest.raises(ConfigError, match="stops at 60° 2θ but the model's grid runs to augment.two_theta_max = 90°"):
        prepare_table(_cfg(table, "augment.two_theta_max=90.0"), str(tmp_path))


def test_strongest_peaks_keeps_order_and_the_strongest(tmp_path):
    import numpy as np

    t = prepare_table(_cfg(_table(tmp_path), "data.max_peaks=32"), str(tmp_path))
    s = strongest_peaks(t, 4)
    for i in range(len(t)):
        full = np.where(t.mask[i], t.intensity[i], -1)
        kept = s.intensity[i][s.mask[i]]
        assert np.all(np.diff(s.two_theta[i][s.mask[i]]) > 0)
        assert np.isclose(kept.min(), np.sort(full)[-4:].min()) or s.mask[i].sum() == t.mask[i].sum()
    # the per-structure arrays ride along: labels, ids and the lattice head's reduced cells
    np.testing.assert_array_equal(s.space_group, t.space_group)
    np.testing.assert_array_equal(s.reduced_cell, t.reduced_cell)
    assert s.reduced_cell is not None and s.reduced_cell.shape == (len(t), 6)

"""Source weights of the training draw (data/draw.py): the sampler and the prior correction agree."""

import numpy as np
import pytest

from difcon_jax.data.draw import parse_source_weights, source_row_weights
from difcon_jax.errors import InputError
from difcon_jax.inference.prior import draw_mass, group_frequency, prior_fields
from difcon_jax.train.parallel import batch_indices, sampling_cdf


def test_source_weights_multiply_the_rows_whose_source_matches():
    src = np.array(["S/amcsd_minerals/a.cif", "mp_part01.tar.gz:mp-1.cif", "synth:0:3", "S/amcsd_minerals/cod_x.cif"])
    assert source_row_weights(src, ()) is None  # no weights: the draw is unchanged
    np.testing.assert_allclose(source_row_weights(src, ("amcsd=5",)), [5, 1, 1, 5])
    np.testing.assert_allclose(source_row_weights(src, ("amcsd=5", "cod=0.5")), [5, 1, 1, 2.5])
    assert parse_source_weights(["mp = 2"]) == [("mp", 2.0)]
    for bad in ("amcsd", "amcsd=x", "=3", "amcsd=0", "amcsd=-1", "amcsd=nan"):
        with pytest.raises(InputError, match="data.source_weights"):
            source_row_weights(src, (bad,))


def test_weighted_draw_and_its_prior_mass_agree():
    sg = np.array([14] * 600 + [2] * 300 + [225] * 100)
    src = np.array(["mp"] * 500 + ["amcsd"] * 100 + ["mp"] * 250 + ["amcsd"] * 50 + ["amcsd"] * 100)
    w = source_row_weights(src, ("amcsd=4",))
    for power in (1.0, 0.5):
        draws = sg[batch_indices(0, 1, len(sg), 300_000, sampling_cdf(sg, power, w))]
        share = np.array([(draws == g).mean() for g in (14, 2, 225)])
        mass = draw_mass(sg, power, w)
        np.testing.assert_allclose(share, mass[[13, 1, 224]], atol=0.005)
        np.testing.assert_allclose(prior_fields(sg, power, w)["sampling_mass"], mass)
        # the AMCSD rows take 4× their unweighted share of the draw within each group
        rows = src[batch_indices(0, 2, len(sg), 300_000, sampling_cdf(sg, power, w))]
        assert 0.5 < (rows == "amcsd").mean() < 0.8
    # without weights the mass is the tempered count, as before
    np.testing.assert_allclose(draw_mass(sg, 0.5), group_frequency(sg, 0.5))
    np.testing.assert_allclose(draw_mass(sg, 0.5, np.ones(len(sg))), group_frequency(sg, 0.5))
    assert sampling_cdf(sg, 1.0) is None and sampling_cdf(sg, 1.0, w) is not None


def test_a_malformed_source_weight_stops_training_before_any_work(tmp_path):
    from difcon_jax.config import load_config
    from difcon_jax.train.loop import check_run_settings

    cfg = load_config("quickstart", ["--config.data.source_weights=('amcsd',)"])
    with pytest.raises(InputError, match="'amcsd' is not 'substring=weight'"):
        check_run_settings(cfg, str(tmp_path / "w"))
    check_run_settings(load_config("difcon_cpu"), str(tmp_path / "w"))  # the shipped recipe's weights parse

"""Tempered sampling over space groups, thin-group filling with pyxtal, table merging, the reference library."""

import os
import shutil

import numpy as np
import pytest

from difcon_jax.crystal.symmetry import crystal_system_array
from difcon_jax.data import load_peak_table
from difcon_jax.data.build import BuildOptions, build_from_cifs, fill_thin_groups, thin_group_targets
from difcon_jax.data.peak_table import merge_tables
from difcon_jax.inference.library import knn_space_group_probs, mix_probabilities
from difcon_jax.train.parallel import batch_indices, sampling_cdf
from tests.helpers.structures import cif_of


def test_sampling_power_balances_space_groups():
    labels = np.array([14] * 900 + [2] * 90 + [225] * 10)
    draws = lambda p: labels[batch_indices(0, 1, len(labels), 200_000, sampling_cdf(labels, p))]  # noqa: E731
    assert sampling_cdf(labels, 1.0) is None  # natural: plain uniform rows
    share = {p: np.array([(draws(p) == g).mean() for g in (14, 2, 225)]) for p in (0.0, 0.5)}
    np.testing.assert_allclose(share[0.0], [1 / 3] * 3, atol=0.01)
    tempered = np.sqrt([900, 90, 10]) / np.sqrt([900, 90, 10]).sum()
    np.testing.assert_allclose(share[0.5], tempered, atol=0.01)


@pytest.fixture(scope="module")
def small_table(tmp_path_factory):
    d = tmp_path_factory.mktemp("cifs")
    for name in ("NaCl", "CsCl", "rutile"):
        (d / f"{name}.cif").write_text(cif_of(name))
    out = d / "table"
    build_from_cifs(str(d), str(out), options=BuildOptions(max_peaks=24, test_fraction=0.0, validation_fraction=0.0))
    return out


def test_fill_targets_add_every_group_after_the_thin_ones(small_table, tmp_path, capsys):
    from difcon_jax.cli import main
    from difcon_jax.data.build import fill_targets

    thin = thin_group_targets(load_peak_table(small_table), 2)
    targets = fill_targets(thin, 3)
    assert targets[:len(thin)] == thin and len(targets) == len(thin) + 690
    assert all(targets[len(thin):].count(g) == 3 for g in range(1, 231)) and fill_targets(thin, 0) == thin
    # a count that adds to nothing, or a negative one: one line, nothing written
    for extra in (["--count", "5", "--add-per-group", "2"], ["--fill-from", str(small_table), "--add-per-group", "-1"]):
        assert main(["dataset", "synth", *extra, "--out", str(tmp_path / "t")]) != 0
        err = capsys.readouterr().err.strip()
        assert "--add-per-group" in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "t").exists()


def test_fill_thin_groups_adds_pyxtal_crystals_only_where_thin(small_table, tmp_path, monkeypatch):
    import difcon_jax.data.build as build

    base = load_peak_table(small_table)
    targets = thin_group_targets(base, 2)
    assert targets.count(225) == 1 and targets.count(14) == 2 and len(set(targets)) == 230
    # fill only two groups (pyxtal costs ~0.2 s a crystal): the table's own counts decide elsewhere
    monkeypatch.setattr(build, "thin_group_targets", lambda table, n: (221, 62))
    from difcon_jax.crystal.synthetic import SynthOptions

    res = fill_thin_groups(str(small_table), str(tmp_path / "filled"), 20, seed=3,
                           synth_options=SynthOptions(max_atoms=16))
    t = load_peak_table(tmp_path / "filled")
    assert res.built == 2 and len(t) == len(base) + 2 and res.stats["thin_groups"] == 2
    assert list(t.source_id[:len(base)]) == list(base.source_id)  # real structures first, unchanged
    assert all(s.startswith("synth:") for s in t.source_id[len(base):])
    assert t.meta["builder"] == "merge" and (tmp_path / "filled.report.tsv").exists()
    # every part stores reduced cells, so the merge keeps them, row for row
    np.testing.assert_array_equal(t.reduced_cell[:len(base)], base.reduced_cell)
    assert np.isfinite(t.reduced_cell).all() and (t.reduced_cell[:, :3] > 1).all()
    # a table written before cells were stored still opens (no cells), and merges without them
    old = shutil.copytree(small_table, tmp_path / "old")
    os.remove(old / "reduced_cell.npy")
    assert load_peak_table(old).reduced_cell is None
    assert merge_tables([str(old), str(tmp_path / "filled")], str(tmp_path / "m")).reduced_cell is None


def test_knn_votes_and_consistent_mixing():
    rng = np.random.default_rng(0)
    lib = rng.normal(size=(50, 8))
    lib /= np.linalg.norm(lib, axis=1, keepdims=True)
    sg = np.arange(50) % 5 + 221  # cubic groups 221–225
    q = lib[[3, 7]] + 0.01 * rng.normal(size=(2, 8))
    p = knn_space_group_probs(q, lib, sg, k=5, tau=0.01)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-6)
    assert list(p.argmax(1) + 1) == [sg[3], sg[7]]
    net = {"space_group": np.full((2, 230), 1 / 230), "crystal_system": np.full((2, 7), 1 / 7),
           "extinction_group": np.full((2, 112), 1 / 112)}
    mixed = mix_probabilities(net, p, 0.5)
    for k in ("space_group", "crystal_system", "extinction_group"):
        np.testing.assert_allclose(mixed[k].sum(1), 1, rtol=1e-6)
    cs = crystal_system_array()[1:]
    np.testing.assert_allclose(mixed["crystal_system"][:, 6], 0.5 / 7 + 0.5 * p[:, cs == 6].sum(1))
    assert mix_probabilities(net, p, 0.0) is net

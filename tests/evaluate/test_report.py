"""Scores and confusion matrices of one evaluation set, checked against counts made here."""

import numpy as np
import pytest

from difcon_jax.crystal.symmetry import crystal_system_array, extinction_group_array, num_extinction_groups
from difcon_jax.evaluate.confusion import confusion_png, write_confusions
from difcon_jax.evaluate.report import score


def _probs(rng, sg_pred):
    """One-hot-ish probabilities whose argmax is the given space group (and its CS and EG)."""
    n = len(sg_pred)
    out = {"space_group": rng.random((n, 230)) * 0.1, "crystal_system": rng.random((n, 7)) * 0.1,
           "extinction_group": rng.random((n, num_extinction_groups())) * 0.1}
    out["space_group"][np.arange(n), sg_pred - 1] = 1.0
    out["crystal_system"][np.arange(n), crystal_system_array()[sg_pred]] = 1.0
    out["extinction_group"][np.arange(n), extinction_group_array()[sg_pred]] = 1.0
    return {k: v / v.sum(1, keepdims=True) for k, v in out.items()}


def test_score_confusions_agree_with_accuracies(tmp_path):
    rng = np.random.default_rng(0)
    true = rng.integers(1, 231, 300)
    pred = np.where(rng.random(300) < 0.4, true, rng.integers(1, 231, 300))
    r = score(_probs(rng, pred), true)
    assert r["acc_sg"] == pytest.approx(np.mean(pred == true))
    for level, acc in (("sg", r["acc_sg"]), ("eg", r["acc_eg"])):
        cells = np.asarray(r[f"confusion_{level}"])
        assert cells[:, 2].sum() == 300 and len({(t, p) for t, p, _ in cells}) == len(cells)
        assert cells[cells[:, 0] == cells[:, 1], 2].sum() == pytest.approx(acc * 300)
    assert np.trace(np.asarray(r["confusion_cs"])) == pytest.approx(r["acc_cs"] * 300)
    paths = write_confusions(r, "test (n=300)", str(tmp_path / "confusion_{level}.png"))
    assert [p.rsplit("_", 1)[1] for p in paths] == ["cs.png", "eg.png", "sg.png"]
    assert all((tmp_path / f"confusion_{lv}.png").stat().st_size > 5000 for lv in ("cs", "eg", "sg"))
    assert not list(tmp_path.glob("*.tmp.png"))
    with pytest.raises(ValueError, match="not one of"):
        confusion_png(r["confusion_sg"], "x", str(tmp_path / "bad.png"), "nope")

"""Pseudo-symmetry of a matched phase (match/metric.py): a refined cell metrically of a higher system."""

import numpy as np
import pytest

from difcon_jax.match.metric import MetricSettings, cubic_description, higher_symmetry, metric_lattice
from difcon_jax.match.pawley import reflections_within


def test_metric_lattice_finds_the_higher_system_within_the_tolerances_only():
    s = MetricSettings(length_tol=0.0013, angle_tol=0.095)
    name, cell, dev = metric_lattice((6.2966, 6.2966, 6.2958, 90, 90, 90), "tetragonal", s)
    assert name == "cubic" and cell[0] == pytest.approx((2 * 6.2966 + 6.2958) / 3)
    assert dev == pytest.approx(1.27e-4, rel=0.01)
    assert metric_lattice((6.29, 6.29, 6.42, 90, 90, 90), "tetragonal", s) is None  # the entry's own c/a = 1.02
    # orthorhombic a = c: tetragonal with the unique axis (b) last
    name, cell, _ = metric_lattice((5.0, 7.0, 5.004, 90, 90, 90), "orthorhombic", s)
    assert name == "tetragonal" and cell[:3] == pytest.approx((5.002, 5.002, 7.0))
    # monoclinic β = 90° within 0.095°: orthorhombic; β = 90.2°: as fitted
    assert metric_lattice((5.0, 6.0, 7.0, 90, 90.05, 90), "monoclinic", s)[0] == "orthorhombic"
    assert metric_lattice((5.0, 6.0, 7.0, 90, 90.2, 90), "monoclinic", s) is None
    assert metric_lattice((5.0, 6.0, 5.003, 90, 89.99, 90), "monoclinic", s)[0] == "tetragonal"
    # hexagonal and primitive trigonal lattices are left as fitted
    assert metric_lattice((5.0, 5.0, 5.0, 90, 90, 120), "hexagonal", s) is None
    assert metric_lattice((5.0, 5.0, 5.0 * np.sqrt(1.5), 90, 90, 120), "trigonal", s) is None
    assert metric_lattice((5.0, 5.0, 5.0, 90, 90, 90), "triclinic", s) is None
    assert metric_lattice((5.0, 5.0, 5.0, 90, 90, 90), "cubic", s) is None


def _lines(cell, keep):
    hkl, _ = reflections_within(cell, 1 / 1.2 ** 2)
    return hkl[np.array([keep(*v) for v in hkl])]


def test_higher_symmetry_keeps_the_groups_whose_absences_allow_the_lines():
    cell = (6.2966, 6.2966, 6.2958, 90, 90, 90)  # a P4 entry refined to a metrically cubic cell
    ranking = np.full(230, 1e-3)
    ranking[74] = 0.9  # the vote: P4 (#75)
    ranking[229 - 1] = 0.05  # the network's weight on Im-3m
    ranking[221 - 1] = 0.01
    # every primitive line observed (a cubic perovskite's 100, 110, 111 …): no centring, no glide or screw
    ref = (6.29, 6.29, 6.42, 90, 90, 90)  # the entry's own cell: c/a = 1.02
    q_min = 1 / 8.0 ** 2  # the lowest Q measured (Å⁻²): below the first line
    out, rec = higher_symmetry(_lines(cell, lambda h, k, l: True), cell, ref, "tetragonal", ranking, q_min=q_min)
    assert rec["system"] == "cubic" and rec["cell"][0] == pytest.approx(6.2963, abs=1e-4)
    allowed = {g for g in range(195, 231) if out[g - 1] > 1e-3}
    assert allowed == {195, 200, 207, 215, 221}  # P23, Pm-3, P432, P-43m, Pm-3m: the cubic groups with no absences
    # Im-3m's absences refuse it on a, and its description a√2 is longer than the fitted cell (whose fit has no
    # reflections between its own: it cannot test that cell)
    assert int(np.argmax(out)) + 1 == 221 and out.sum() == pytest.approx(1.0) and out[229 - 1] < 1e-5
    assert rec["empty_absences"] == 0  # no P group with absences explains every line
    assert out[74] < out[221 - 1] * 1e-3  # the vote's P4 kept behind them, for the list's last places
    # lines of an F lattice only (h, k, l all even or all odd): an F cell; its groups only, ranked first
    ranking[225 - 1] = 0.005
    out, rec = higher_symmetry(_lines(cell, lambda h, k, l: len({h % 2, k % 2, l % 2}) == 1), cell, ref,
                               "tetragonal", ranking, q_min=q_min)
    assert int(np.argmax(out)) + 1 == 225 and rec["cell"][0] == pytest.approx(6.2963, abs=1e-4)
    assert out[221 - 1] < 1e-5  # a primitive group does not explain an F pattern's missing half of its lines
    # a cell that is not metrically cubic: the ranking unchanged
    same, rec = higher_symmetry(_lines(cell, lambda h, k, l: True), ref, ref, "tetragonal", ranking)
    assert rec is None and same is ranking
    # an entry whose own cell is pseudo-cubic already (c/a = 1.005, within 1.43 %): a pseudo-symmetric structure,
    # its group kept
    same, rec = higher_symmetry(_lines(cell, lambda h, k, l: True), cell, (6.29, 6.29, 6.32, 90, 90, 90),
                                "tetragonal", ranking)
    assert rec is None and same is ranking


def test_a_lattice_bounds_the_symmetry_from_below_so_a_higher_voted_group_stays():
    # an orthorhombic entry refined to a = b (a tetragonal lattice) while another candidate's cubic group was voted:
    # the tetragonal groups the lines allow and the voted cubic group stay; the orthorhombic vote goes
    cell, ref = (7.0668, 7.0715, 9.9181, 90, 90, 90), (7.0, 7.2, 9.9, 90, 90, 90)
    ranking = np.full(230, 1e-6)
    ranking[62 - 1], ranking[227 - 1], ranking[123 - 1] = 0.5, 0.4, 0.001  # Pnma (the phase), Fd-3m, P4/mmm
    voted = ranking > 1e-3
    out, rec = higher_symmetry(_lines(cell, lambda h, k, l: True), cell, ref, "orthorhombic", ranking, voted=voted)
    assert rec["system"] == "tetragonal" and int(np.argmax(out)) + 1 == 227
    assert out[123 - 1] > out[62 - 1] and out[221 - 1] < 1e-5  # an unvoted cubic group is not let in
    out, _ = higher_symmetry(_lines(cell, lambda h, k, l: True), cell, ref, "orthorhombic", ranking)
    assert int(np.argmax(out)) + 1 in range(75, 143)  # without the votes: the tetragonal lattice's groups


def _rhombohedral_in_hexagonal_axes(a_r, alpha):
    ca = np.cos(np.radians(alpha))
    return (2 * a_r * np.sin(np.radians(alpha) / 2),) * 2 + (a_r * np.sqrt(3 * (1 + 2 * ca)), 90.0, 90.0, 120.0)


@pytest.mark.parametrize("alpha,edge", [(90.0, 1.0), (60.0, np.sqrt(2)),
                                        (np.degrees(np.arccos(-1 / 3)), 2 / np.sqrt(3))])
def test_a_rhombohedral_lattice_at_a_cubic_angle_is_cubic_in_either_axes(alpha, edge):
    # α = 90°: primitive cubic of edge a_R; 60°: F of a_R√2; 109.47°: I of 2a_R/√3 — in rhombohedral or hexagonal axes
    s = MetricSettings()
    for cell in ((5.0, 5.0, 5.0, alpha, alpha, alpha), _rhombohedral_in_hexagonal_axes(5.0, alpha)):
        name, cubic, dev = metric_lattice(cell, "trigonal", s, rhombohedral=True)
        assert name == "cubic" and cubic[0] == pytest.approx(5.0 * edge, rel=1e-9) and dev < 1e-9
    # 0.1° away from the cubic angle is a distortion a fit resolves (c/a off by ~0.3 % at α = 90°)
    assert metric_lattice((5.0, 5.0, 5.0) + (alpha + 0.1,) * 3, "trigonal", s, rhombohedral=True) is None


def test_a_stand_in_rhombohedral_entry_fitted_to_a_cubic_lattice_answers_cubic():
    # a thin-film halide perovskite (cubic, a = 6.28 Å) fitted by chlormanganokalite (R-3c, a_R 8.468 Å, α 89.53°:
    # pseudo-cubic itself) with α 89.96° and edges 4.9 % longer: the lattice the pattern shows is cubic P of 8.88 Å
    ref = (8.468, 8.468, 8.468, 89.53, 89.53, 89.53)
    ranking = np.full(230, 1e-4)
    ranking[167 - 1], ranking[221 - 1] = 0.9, 0.05  # the vote: R-3c; the network's weight on Pm-3m
    cubic = (8.8793,) * 3 + (90.0,) * 3
    lines = _lines(cubic, lambda h, k, l: True)
    for alpha, moved in ((89.959, True), (89.8, False)):
        cell = (8.8793,) * 3 + (alpha,) * 3
        out, rec = higher_symmetry(lines, cell, ref, "trigonal", ranking, rhombohedral=True)
        assert (rec is not None) == moved, alpha
    assert rec is None and out is ranking
    out, rec = higher_symmetry(lines, (8.8793,) * 3 + (89.959,) * 3, ref, "trigonal", ranking, rhombohedral=True)
    assert rec["system"] == "cubic" and rec["cell"][0] == pytest.approx(8.8793, rel=2e-3)
    assert "c/a" in rec["shows"] and rec["deviation"]["angle"] == 0.0 and int(np.argmax(out)) + 1 == 221
    # the same fit 1 % from the entry's cell is the pseudo-symmetric compound itself: its group kept
    near = (8.55,) * 3 + (89.959,) * 3
    same, rec = higher_symmetry(_lines(near, lambda h, k, l: True), near, ref, "trigonal", ranking, rhombohedral=True)
    assert rec is None and same is ranking
    # not a rhombohedral group (a P-trigonal cell in these axes is not read as one): unchanged
    same, rec = higher_symmetry(lines, (8.8793,) * 3 + (89.959,) * 3, ref, "trigonal", ranking)
    assert rec is None and same is ranking


def test_a_cubic_lattice_is_read_on_the_smallest_cell_that_indexes_its_lines():
    # a 6.28 Å perovskite (Pm-3m) fitted by the rhombohedral stand-in at α 89.96° and 8.88 Å = √2 × 6.28: every line
    # sits at an even N on the stand-in's cubic cell, where they look I-centred; the network leans to I2₁3
    a = 6.2786
    big = (a * np.sqrt(2),) * 3 + (89.959,) * 3
    ref = (8.468, 8.468, 8.468, 89.53, 89.53, 89.53)
    ranking = np.full(230, 1e-6)
    ranking[167 - 1], ranking[199 - 1], ranking[221 - 1] = 0.9, 0.05, 0.04  # R-3c (the vote), I2₁3, Pm-3m
    # the stand-in's reflections its fit shows: the I lattice's (h + k + l even on the big cell), 321 at N = 14 too
    shown = _lines(big[:3] + (90.0,) * 3, lambda h, k, l: (h + k + l) % 2 == 0)

    def measured(ns):  # the measured lines at N′ = Qa² on the perovskite's cell (Å⁻², tolerance)
        q = np.array(ns, float) / a ** 2
        return q, 1e-3 * q

    q_min = 1 / 8.0 ** 2
    # measured to N′ = 13 with an impurity line at 2.3 (off the lattice: dropped): no line refutes the I cell of 8.88
    # Å, but its own position N′ = 7 (321 on it; no primitive cubic cell has a line there) is measured and empty
    lines = measured([1, 2, 2.3, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13])
    out, rec = higher_symmetry(shown, big, ref, "trigonal", ranking, rhombohedral=True, q_min=q_min, measured=lines)
    assert int(np.argmax(out)) + 1 == 221 and rec["cell"][0] == pytest.approx(a, rel=2e-3)
    assert rec["empty_absences"] == 1
    assert "P cubic cell of 6.27" in rec["reads"] and "(0.7071 × the fitted" in rec["reads"]
    # a line at N′ = 14 (321 of the 6.28 Å cell: N = 28 on 8.88 Å, where no cubic cell has a reflection) refutes the I
    # cell however the network leans
    leaning = ranking.copy()
    leaning[221 - 1] = 1e-5
    out, rec = higher_symmetry(shown, big, ref, "trigonal", leaning, rhombohedral=True, q_min=q_min,
                               measured=measured([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]))
    assert int(np.argmax(out)) + 1 == 221 and out[199 - 1] < 1e-5
    # the stand-in's shown lines alone: its 321 (N = 14 on its cell) is a line only the I cell has
    out, rec = higher_symmetry(shown, big, ref, "trigonal", ranking, rhombohedral=True, q_min=q_min)
    assert int(np.argmax(out)) + 1 == 199 and rec["cell"][0] == pytest.approx(a * np.sqrt(2), rel=2e-3)
    # read on the stand-in's cell (the descriptions off), the network's I2₁3 is answered
    out, rec = higher_symmetry(shown, big, ref, "trigonal", ranking, MetricSettings(cubic_descriptions=False),
                               rhombohedral=True, q_min=q_min, measured=lines)
    assert int(np.argmax(out)) + 1 == 199 and rec["cell"][0] == pytest.approx(a * np.sqrt(2), rel=2e-3)


def test_cubic_description_reduces_while_every_line_is_even_then_reads_the_centring():
    a = 5.0
    q = lambda ns: np.array(ns, float) / a ** 2  # noqa: E731
    assert cubic_description(q([1, 2, 3, 4]), 1e-4 * np.ones(4), a) == (a, "P")
    edge, c = cubic_description(q([2, 4, 6, 8, 10]), 1e-4 * np.ones(5), a)  # a body-centred lattice's N
    assert (edge, c) == (pytest.approx(a / np.sqrt(2)), "P")  # a P cell √2 smaller, whose I description is a's
    assert cubic_description(q([3, 4, 8, 11, 12]), 1e-4 * np.ones(5), a) == (a, "F")
    edge, c = cubic_description(q([4, 8, 12, 16]), 1e-4 * np.ones(4), a)  # an F pattern's odd lines unseen
    assert (edge, c) == (pytest.approx(a / 2), "P")
    assert cubic_description(q([1, 2.5]), 1e-4 * np.ones(2), a) is None  # a line at no integer N

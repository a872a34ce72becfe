"""Powder indexing and the absences of an indexed cell, on structures written in the tests (tests/helpers)."""

import dataclasses

import numpy as np
import pytest

from difcon_jax.crystal.stick import stick_pattern
from difcon_jax.crystal.structure import structure_from_cif_text
from difcon_jax.crystal.symmetry import extinction_group_of
from difcon_jax.grid import Grid
from difcon_jax.match.absences import absence_log_odds, allowed_space_groups, group_violations
from difcon_jax.match.indexing import (
    Indexing,
    IndexSettings,
    choose_lattice,
    index_lines,
    index_pattern,
    observed_lines,
)
from difcon_jax.match.lattices import LATTICES, cell_of, from_cell_monoclinic, monoclinic_settings, reduce_monoclinic
from difcon_jax.match.spectral_lines import line_q
from tests.helpers.match import ALL, N_BINS, TT_MAX, measured, simulate
from tests.helpers.structures import make_cif

GRID = Grid(N_BINS, 0.0, TT_MAX, 1.54184)


def lines_of(name: str, n: int = 20, zero: float = 0.0, min_intensity: float = 0.5) -> np.ndarray:
    """2θ (degrees at the Kα mean) of the ``n`` lowest-angle lines of structure ``name`` stronger than
    ``min_intensity`` % of the strongest, shifted by ``zero``."""
    _, setting, _, cell, sites = ALL[name]
    sp = stick_pattern(structure_from_cif_text(make_cif(name, setting, cell, sites), name), 1.54184, 90.0)
    keep = sp.intensity >= min_intensity / 100 * sp.intensity.max()
    return sp.two_theta[keep][:n] + zero


def volume(cell) -> float:
    return Indexing("x", tuple(cell), 0, 0, 0, 0.0, np.zeros(0)).volume


@pytest.mark.parametrize("name, lattice, conventional", [
    ("NaCl", "cubic", (5.6402,) * 3), ("CsCl", "cubic", (4.123,) * 3), ("Si_origin2", "cubic", (5.431,) * 3),
    ("rutile", "tetragonal", (4.5937, 4.5937, 2.9587)), ("scheelite", "tetragonal", (5.243, 5.243, 11.376)),
    ("Mg_hcp", "hexagonal", (3.209, 3.209, 5.211)), ("corundum_hex", "hexagonal", (4.7589, 4.7589, 12.991)),
    ("Pnma_generic", "orthorhombic", (5.44, 7.64, 5.38)), ("P212121_generic", "orthorhombic", (5.1, 6.3, 7.9)),
    # monoclinic cells come back reduced (a ≤ c, β ≥ 90°: P2₁/a's cell is P2₁/c's, I2/a's its a and c swapped)
    ("P21c_generic", "monoclinic", (5.1, 7.3, 8.9, 104.3)), ("P21a_setting", "monoclinic", (5.1, 7.3, 8.9, 104.3)),
    ("P21n_setting", "monoclinic", (6.2, 9.1, 7.7, 95.2)), ("I2a_setting", "monoclinic", (5.3, 8.9, 9.5, 93.1)),
    ("Cc_generic", "monoclinic", (6.6, 8.1, 7.4, 110.2)),
    # C2/c's lattice is nearly a B-centred orthorhombic one (18.9 × 8.9 × 5.3 Å, M20 32): its monoclinic cell
    # indexes a thousand times better, so the orthorhombic one is not the answer (monoclinic_ratio)
    ("C2c_generic", "monoclinic", (5.3, 8.9, 9.8, 105.6)),
])
def test_lines_of_known_cells_are_indexed_with_their_cell(name, lattice, conventional):
    found = {lat: index_lines(lines_of(name, zero=0.05), lat, 1.54184, anode=None) for lat in LATTICES}
    best = choose_lattice(found)
    assert best is not None and best.lattice == lattice
    if lattice == "monoclinic":
        assert best.cell[:3] + best.cell[4:5] == pytest.approx(conventional, rel=2e-3)
    else:
        assert sorted(best.cell[:3]) == pytest.approx(sorted(conventional), rel=2e-3)
    assert best.zero == pytest.approx(0.05, abs=0.02)  # the zero shift is refined with the cell
    assert best.m20 > 20


@pytest.mark.parametrize("name, zero", [("P21n_setting", 0.12), ("C2c_generic", -0.12)])
def test_a_zero_shift_is_searched_for_the_trial_cells(name, zero):
    """A zero shift of 0.12° moves the first lines' Q by ~1 %, enough that trial cells made from them (the default)
    miss the higher lines and the search ends on a spurious cell; trial cells made at zero shifts of ±0.1° too
    (``trial_zeros``) find the true one, and the refinement fits the shift."""
    tt = lines_of(name, 20, zero=zero, min_intensity=2.0)
    cell = ALL[name][3]
    got = index_lines(tt, "monoclinic", 1.54184, None, IndexSettings(trial_zeros=(-0.1, 0.0, 0.1)))
    assert got.volume == pytest.approx(volume(cell), rel=3e-3) and got.zero == pytest.approx(zero, abs=0.005)
    at_zero = index_lines(tt, "monoclinic", 1.54184, None)
    assert at_zero is None or at_zero.volume != pytest.approx(volume(cell), rel=0.01)


def test_triclinic_lines_get_no_cell():
    """Triclinic patterns have no cell of the lattices searched that indexes their first twenty lines: the best
    monoclinic trial leaves lines unindexed or reaches an M20 below the acceptance threshold."""
    for name in ("P-1_generic", "P1_generic"):
        assert choose_lattice({lat: index_lines(lines_of(name), lat, 1.54184, anode=None) for lat in LATTICES}) is None


def test_monoclinic_cells_are_reduced_and_their_other_settings_listed():
    # a trial can converge to any (a, c, β) of the ac net: a + c for c is the same lattice, reduced alike
    for cell in ((5.1, 7.3, 8.9, 104.3), (6.2, 9.1, 7.7, 95.2)):
        theta = from_cell_monoclinic(*cell)
        a, c, beta = cell[0], cell[2], np.radians(cell[3])
        a_plus_c = np.hypot(a + c * np.cos(beta), c * np.sin(beta))  # |a + c|, at the angle it makes with a
        beta2 = np.degrees(np.pi - np.arccos((a + c * np.cos(beta)) / a_plus_c))
        other = from_cell_monoclinic(a, cell[1], a_plus_c, beta2)
        back = cell_of("monoclinic", reduce_monoclinic(other))
        assert back[:3] + back[4:5] == pytest.approx(cell, rel=1e-9)  # both cells are reduced already
        assert reduce_monoclinic(theta) == pytest.approx(theta, rel=1e-9)
        settings = monoclinic_settings(cell[:3] + (90.0, cell[3], 90.0))
        assert all(s[4] >= 90.0 for s in settings) and len(settings) >= 5
        assert any(s[:3] + s[4:5] == pytest.approx((a, cell[1], a_plus_c, beta2)) for s in settings)
        # every setting is the same lattice: the same volume
        assert {round(volume(s), 6) for s in settings} == {round(volume(cell[:3] + (90.0, cell[3], 90.0)), 6)}


def test_too_few_lines_are_not_indexed():
    assert len(lines_of("Fe_bcc")) == 3  # 110, 200, 211 below 90°: a cubic cell needs four
    assert index_lines(lines_of("Fe_bcc"), "cubic", 1.54184, anode=None) is None
    assert index_lines(np.array([20.0, 30.0, 40.0]), "orthorhombic", 1.54184) is None
    assert index_lines(np.array([20.0, 30.0]), "cubic", 1.54184) is None


def test_choose_lattice_prefers_symmetry_unless_a_lower_one_indexes_far_better():
    def ix(lattice, m20):
        return Indexing(lattice, (4.0, 4.0, 4.0, 90.0, 90.0, 90.0), m20, 20, 20, 0.0, np.zeros(0))

    s = IndexSettings(min_m20=10, m20_ratio=0.5)
    assert choose_lattice({"cubic": ix("cubic", 60), "orthorhombic": ix("orthorhombic", 80)}, s).lattice == "cubic"
    assert choose_lattice({"cubic": ix("cubic", 20), "tetragonal": ix("tetragonal", 200)}, s).lattice == "tetragonal"
    assert choose_lattice({"cubic": ix("cubic", 8), "tetragonal": None}, s) is None
    # tetragonal and hexagonal lattices are not special cases of each other: the better M20 wins
    pair = {"hexagonal": ix("hexagonal", 195), "tetragonal": ix("tetragonal", 419)}
    assert choose_lattice(pair, s).lattice == "tetragonal"
    assert choose_lattice({"hexagonal": ix("hexagonal", 300), "tetragonal": ix("tetragonal", 200),
                           "orthorhombic": ix("orthorhombic", 310)}, s).lattice == "hexagonal"
    # four parameters fit a few lines of a cubic pattern by a small spurious cell: it must win by 1 / monoclinic_ratio
    s = IndexSettings(min_m20=10, m20_ratio=0.3, monoclinic_ratio=0.1)
    assert choose_lattice({"cubic": ix("cubic", 370), "orthorhombic": ix("orthorhombic", 940),
                           "monoclinic": ix("monoclinic", 1730)}, s).lattice == "cubic"
    assert choose_lattice({"cubic": ix("cubic", 370), "monoclinic": ix("monoclinic", 3800)}, s).lattice == "monoclinic"
    assert choose_lattice({"orthorhombic": ix("orthorhombic", 32), "monoclinic": ix("monoclinic", 38845)}, s).lattice \
        == "monoclinic"
    assert choose_lattice({"orthorhombic": ix("orthorhombic", 32), "monoclinic": ix("monoclinic", 38845)},
                          dataclasses.replace(s, monoclinic_ratio=0.0)).lattice == "orthorhombic"  # a last resort only


def test_significance_counts_the_lines_beyond_the_cells_parameters():
    six = Indexing("tetragonal", (4.0, 4.0, 6.0, 90.0, 90.0, 90.0), 100.0, 6, 6, 0.0, np.zeros(0))
    assert six.significance == pytest.approx((6 - 2 - 1) * 2.0)  # a, c and the zero shift fix three lines
    # a thousand trial cells tried: chance had a thousand tries, the significance is three orders lower
    assert dataclasses.replace(six, trials=1000).significance == pytest.approx(six.significance - 3.0)
    s = IndexSettings(min_m20=10, min_significance=7.0)
    assert choose_lattice({"tetragonal": six}, s) is None
    assert choose_lattice({"tetragonal": dataclasses.replace(six, indexed=12, lines=12)}, s).lattice == "tetragonal"
    # a refused lattice does not stand in the way of the next rank's (it is not an answer to be beaten)
    mono = Indexing("monoclinic", (5.0, 6.0, 7.0, 90.0, 100.0, 90.0), 30.0, 20, 20, 0.0, np.zeros(0))
    assert choose_lattice({"tetragonal": dataclasses.replace(six, m20=150.0), "monoclinic": mono}, s).lattice \
        == "monoclinic"


@pytest.mark.parametrize("n_lines", [6, 9, 12])
def test_random_line_lists_get_no_cell(n_lines):
    """Lines at random 2θ index nothing, yet two parameters and a zero shift fit six of them with M20 25–50 among
    the thousands of trial cells (benchmarks/indexing_axis.py --null): the fit's significance refuses them."""
    rng = np.random.default_rng(n_lines)
    tt = np.sort(rng.uniform(10.0, 70.0, n_lines))
    found = {lat: index_lines(tt, lat, 1.54184) for lat in LATTICES}
    assert choose_lattice(found) is None
    assert choose_lattice(found, IndexSettings(min_significance=0.0)) is not None  # M20 alone accepted one


def test_profiles_are_indexed_through_peak_finding_with_the_doublet():
    """Rendered profiles (Kα1 + Kα2, pseudo-Voigt, noise): the doublet's Kα2 shoulders are not taken for lines,
    and the right lattice and cell come back."""
    # (halite shows seven lines to 90° here, M20 870: significance 12.9, below the bar — CsCl shows thirteen)
    for name, lattice, a in (("CsCl", "cubic", 4.123), ("rutile", "tetragonal", 4.5937),
                             ("Mg_hcp", "hexagonal", 3.209), ("P21c_generic", "monoclinic", 5.1)):
        y, w = measured(simulate(name, fwhm=0.08, zero=0.04), noise=0.002)
        tt = observed_lines(y, w, GRID)
        if lattice != "monoclinic":  # (a monoclinic cell has lines 0.16° apart of its own)
            assert np.all(np.diff(tt) > 0.3), tt  # no shoulder 0.1–0.3° above its parent
        got = index_pattern(y, w, GRID)
        assert got is not None and got.lattice == lattice
        assert got.cell[0] == pytest.approx(a, rel=2e-3)


def test_a_flat_pattern_has_no_lines():
    y = np.zeros(N_BINS, np.float32)
    assert len(observed_lines(y, np.ones_like(y), GRID)) == 0
    assert index_pattern(y, np.ones_like(y), GRID) is None


def _violations(name, cell):
    tt = lines_of(name, 30)
    q, g = line_q(tt, 0.0, 1.54184, anode=None)
    lattice = {225: "cubic", 221: "cubic", 229: "cubic", 62: "orthorhombic", 141: "tetragonal", 14: "monoclinic",
               15: "monoclinic"}[ALL[name][2]]
    return group_violations(cell, q, g * 0.02, lattice)


def test_absences_allow_the_true_group_and_refuse_missing_centrings():
    # NaCl (F): every group allows its lines; CsCl (P): F- and I-centred classes leave lines unexplained
    nacl = allowed_space_groups(_violations("NaCl", (5.6402,) * 3 + (90.0,) * 3))
    assert nacl[225 - 1] and nacl[221 - 1]
    cscl = allowed_space_groups(_violations("CsCl", (4.123,) * 3 + (90.0,) * 3))
    assert cscl[221 - 1] and not cscl[225 - 1] and not cscl[229 - 1]
    anatase = allowed_space_groups(_violations("anatase_origin1", (3.7845, 3.7845, 9.5143, 90.0, 90.0, 90.0)))
    assert anatase[141 - 1]


def test_orthorhombic_absences_are_tried_in_every_axis_order():
    """Pnma's lines, with the cell given in another axis order (as indexing finds it): Pnma's class has no
    violation in the right order, while a glide-free C-centred class fails."""
    v = _violations("Pnma_generic", (5.38, 5.44, 7.64, 90.0, 90.0, 90.0))
    rep = min(g for g in v if extinction_group_of(g) == extinction_group_of(62))
    assert v[rep][0] == 0 and v[rep][1] == pytest.approx((5.44, 7.64, 5.38, 90.0, 90.0, 90.0))  # Pnma's a, b, c
    assert allowed_space_groups(v)[62 - 1] and not allowed_space_groups(v)[65 - 1]  # Cmmm


def test_empty_absences_count_the_positions_a_group_forbids_and_no_line_occupies():
    """P2₁/c's lines (reflections ≥ 2 % of the strongest, as observed_lines keeps them): every calculated position
    P2₁/c forbids entirely is empty; the classes forbidding less (Pc: h0l l odd; P2₁: 0k0 k odd) count fewer, P2/m's
    (nothing forbidden) none. Without the measured range's lowest Q nothing is counted."""
    tt = lines_of("P21c_generic", 20, min_intensity=2.0)
    q, g = line_q(tt, 0.0, 1.54184, anode=None)
    q_min = float(line_q(np.array([5.0]), 0.0, 1.54184, anode=None)[0][0])
    v = group_violations((5.1, 7.3, 8.9, 90.0, 104.3, 90.0), q, g * 0.04, "monoclinic", q_min)
    empty = {sg: next(f.empty for n, f in v.items() if extinction_group_of(n) == extinction_group_of(sg))
             for sg in (10, 4, 7, 14)}  # P2/m, P2₁, Pc, P2₁/c
    assert empty[10] == 0 < empty[4] < empty[7] < empty[14]
    assert all(f.violations == 0 for n, f in v.items() if extinction_group_of(n) == extinction_group_of(14))
    assert all(f.empty == 0 for f in group_violations((5.1, 7.3, 8.9, 90.0, 104.3, 90.0), q, g * 0.04,
                                                      "monoclinic").values())
    odds = absence_log_odds(v, 0.5, 2.0)
    rep14 = next(n for n in v if extinction_group_of(n) == extinction_group_of(14))
    assert odds[14 - 1] == pytest.approx(0.5 * empty[14] - 2.0 * v[rep14].violations)
    assert odds[10 - 1] == 0.0 and odds[62 - 1] == 0.0  # no absences; another lattice's group


def test_a_primitive_cubic_cell_is_weighed_with_its_i_and_f_descriptions():
    """CsCl's lines (P, a 4.123 Å, to 90°: Q = N/a² for N = 1 … 14 but 7): the F classes, in the cell twice as
    large, explain every line (they are its all-even reflections); the I classes, in the cell √2 larger, have no
    reflection at N = 14 and leave N = 7, a position of theirs, empty. The F cell's own all-odd positions are not
    counted (a pattern indexed as P never shows them), so Pm-3m and Fm-3m are left to the network."""
    tt = lines_of("CsCl", 30)
    q, g = line_q(tt, 0.0, 1.54184, anode=None)
    q_min = float(line_q(np.array([5.0]), 0.0, 1.54184, anode=None)[0][0])
    v = group_violations((4.123,) * 3 + (90.0,) * 3, q, g * 0.02, "cubic", q_min, centring="P")
    fit = {sg: next(f for n, f in v.items() if extinction_group_of(n) == extinction_group_of(sg))
           for sg in (221, 225, 229)}  # Pm-3m, Fm-3m, Im-3m
    assert fit[221].violations == 0 and fit[225].violations == 0 and fit[229].violations >= 1
    assert fit[225].cell[0] == pytest.approx(2 * 4.123) and fit[229].cell[0] == pytest.approx(np.sqrt(2) * 4.123)
    # N = 7 is the one position no line occupies, and only the I cell has a reflection there
    assert fit[221].empty == fit[225].empty == fit[229].empty + 1
    assert allowed_space_groups(v)[225 - 1] and not allowed_space_groups(v)[229 - 1]
    # as indexed (no centring given): only the primitive cell's own classes, the F and I ones refused
    plain = allowed_space_groups(group_violations((4.123,) * 3 + (90.0,) * 3, q, g * 0.02, "cubic", q_min))
    assert plain[221 - 1] and not plain[225 - 1] and not plain[229 - 1]


@pytest.mark.parametrize("name, cell", [("P21n_setting", (6.2, 9.1, 7.7, 90.0, 95.2, 90.0)),
                                        ("I2a_setting", (5.3, 8.9, 9.5, 90.0, 93.1, 90.0))])
def test_monoclinic_absences_are_tried_in_every_cell_choice(name, cell):
    """P2₁/n and I2/a, indexed in their reduced cells: their classes (standard settings P2₁/c, C2/c) have no
    violation in another choice of the ac net, which becomes the setting the Pawley fit sits on; a primitive
    pattern refuses the C-centred classes."""
    v = _violations(name, cell)
    sg = ALL[name][2]
    rep = min(g for g in v if extinction_group_of(g) == extinction_group_of(sg))
    assert v[rep][0] == 0
    assert Indexing("x", v[rep][1], 0, 0, 0, 0.0, np.zeros(0)).volume == pytest.approx(volume(cell))
    assert v[rep][1][:3] != pytest.approx(cell[:3])  # P2₁/c's c = a + c of P2₁/n; C2/c's C cell (10.6, 8.9, 5.3)
    allowed = allowed_space_groups(v)
    assert allowed[sg - 1]
    if sg == 14:  # primitive: the C-centred classes leave lines unexplained in every cell choice
        assert not any(allowed[g - 1] for g in (5, 8, 9, 12, 15))


def test_measured_lines_are_read_on_the_fitted_phase_scale():
    # CsCl (P, a = 4.123 Å) measured with the Kα doublet and a zero shift of 0.04°; a fitted phase's Kα1 ticks carry
    # that shift: the measured lines' Q, the shift read off the ticks and removed, sit at integer N = Qa² — N = 7
    # too, where the phase has a tick but the sample no line, is not among them
    from difcon_jax.match.lines import measured_line_q
    from difcon_jax.match.pattern_model import doublet_on_grid

    y, w = measured(simulate("CsCl", fwhm=0.08, zero=0.04), noise=0.002)
    ka1 = doublet_on_grid(GRID.lambda_ref, "Cu")[0]
    a, n = 4.123, np.arange(1, 15)
    ticks = 2 * np.degrees(np.arcsin(ka1 * np.sqrt(n) / a / 2)) + 0.04
    q, dq = measured_line_q(ticks, n / a ** 2, y, w, GRID)
    got = q * a * a
    assert len(got) >= 10 and np.all(np.abs(got - np.round(got)) <= dq * a * a), got
    assert 7 not in np.round(got) and {1, 2, 3, 4, 5, 6, 8} <= set(np.round(got).astype(int))
    # without the shift removed (ticks at the unshifted angles) the high lines leave their integers
    q0, _ = measured_line_q(ticks - 0.04, n / a ** 2, y, w, GRID)
    assert np.max(np.abs(q0 * a * a - np.round(q0 * a * a))) > np.max(np.abs(got - np.round(got)))

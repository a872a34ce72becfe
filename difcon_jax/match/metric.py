"""Pseudo-symmetry of a matched phase: its refined cell is metrically of a higher crystal system than its group.

A library entry of lower symmetry fits any pattern whose lines its cell can reach, and the fit refines the cell
freely within the entry's own system: a tetragonal P4 entry fitted to a cubic perovskite's lines ends with
c = a to 0.01 %, an orthorhombic one with a = b, a monoclinic one with β = 90°. The pattern then shows no
distortion from the higher lattice, and a crystallographer reads the symmetry off the higher lattice: the groups
of that system whose systematic absences the phase's observed lines allow (:mod:`~difcon_jax.match.absences`),
ranked by the fitted candidates' votes and then the network, as for a matched pattern. The matched phase, its
fit and its group stay as they are (its structure is the evidence shown); only the symmetry answer moves.

"Equal within the fit's precision" is set on simulated patterns, never on measurements: the 90th percentile of
the right fits' length-ratio and angle errors on the identification axis's validation split
(``results/identify/axis_validation.json``: 0.13 % and 0.095°; results/identify/README.md). Systems whose higher
lattice keeps the conventional axes are checked (monoclinic → orthorhombic when β = 90°, orthorhombic →
tetragonal or cubic, tetragonal → cubic), and a rhombohedral lattice (the R groups, in hexagonal or rhombohedral
axes) → cubic: its hexagonal c/a is √(3/2) for a primitive cubic lattice (α = 90°), √6 for an F one (α = 60°) and
√(3/8) for an I one (α = 109.47°) — judged on c/a with the edges' tolerance (Q is the same in any axes, so the
absences are read off the cubic cell). Hexagonal, primitive trigonal and triclinic cells are left as fitted.

Only when the fit made the pseudo-symmetry: an entry whose own cell is already metrically higher is a
pseudo-symmetric structure (anhydrite's a ≈ b, analcime's a ≈ c, manganite's β ≈ 90°), solved in its lower group
from single crystals, and a pattern it fits keeps that group. On rruff_dev, checking refined cells alone moved
7 such minerals, all answered right before, to a wrong higher group (a recipe choice rruff_dev made:
results/identify/README.md); the reference's tolerance is the 99th percentile of the same errors (1.43 %, 1.1°).
That reasoning holds for the compound itself: a refined cell whose edges are more than ``stand_in`` (4 %: the
largest solid-solution strain the identification axis simulates, issue 18) from the entry's is a stand-in whose
lines the sample's lattice happens to reach (a chlormanganokalite, rhombohedral at α = 89.53°, fitted to a cubic
halide perovskite film at α = 89.96° with its edges 4.9 % longer), and its reference's pseudo-symmetry says
nothing about the sample.

A cubic lattice is then read as indexing reads an indexed cubic cell (``MetricSettings.cubic_descriptions``):
from the *measured* lines on the lattice (:func:`~difcon_jax.match.lines.measured_line_q` — not the reflections
the phase's own curve shows: a stand-in's strong reflection the sample lacks is no line of the sample, and a line
the sample shows where the stand-in has no reflection is one), on the smallest cell they index on
(:func:`cubic_description`: a stand-in's cell can be √2 or 2 × the sample's — an 8.88 Å chlormanganokalite
carries a 6.28 Å perovskite's lines at N = 2N′, where they look I-centred), its lattice type's groups — a
primitive cell's with its I and F descriptions (:data:`~difcon_jax.match.absences.CUBIC_P_DESCRIPTIONS`) no
longer than the fitted cell, since a longer one has reflections between the phase's, which the fit cannot test —
weighed by the calculated positions each leaves empty in the measured range, with the indexing's weights
(:func:`~difcon_jax.match.novel.weigh_allowed`; set on simulated patterns, not here).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from difcon_jax.crystal.symmetry import extinction_group_of
from difcon_jax.match.absences import LATTICE_GROUPS, allowed_space_groups, group_violations
from difcon_jax.match.indexing import IndexSettings
from difcon_jax.match.novel import weigh_allowed
from difcon_jax.match.pattern_model import reflection_q

_SYSTEMS_CHECKED = ("monoclinic", "orthorhombic", "tetragonal", "trigonal")
#: (cubic lattice, hexagonal c/a, cubic edge / a_H) of a rhombohedral lattice that is metrically cubic
RHOMBOHEDRAL_CUBIC = (("P", math.sqrt(1.5), 1 / math.sqrt(2)), ("F", math.sqrt(6.0), math.sqrt(2)),
                      ("I", math.sqrt(0.375), 1 / math.sqrt(2)))
#: the systems whose lattices hold each checked one's (same axes): a group voted for in them stays possible
_ABOVE = {"orthorhombic": ("tetragonal", "cubic"), "tetragonal": ("cubic",), "cubic": ()}
#: the weight of the matched ranking behind the higher system's groups in the list shown (after all of them)
ORIGINAL_TAIL = 1e-6


@dataclasses.dataclass(frozen=True)
class MetricSettings:
    """Tolerances of metric equality (set on the simulated validation axis; module docstring)."""
    length_tol: float = 0.0013  # relative: two cell edges are equal when their ratio is within 1 ± this
    angle_tol: float = 0.095  # degrees: an angle is 90° within this
    # the entry's own (reference) cell must be clearly of its own system: its edges differ, or its angle departs
    # from 90°, by more than the 99th percentile of the right fits' errors (a pseudo-symmetric mineral — anhydrite's
    # a ≈ b, analcime's a ≈ c — keeps the group its structure was solved in)
    reference_length_tol: float = 0.0143
    reference_angle_tol: float = 1.1
    # a refined cell with an edge further than this (relative) from the entry's is a stand-in, not the compound: its
    # reference's pseudo-symmetry does not keep its group (module docstring)
    stand_in: float = 0.04
    # a cubic lattice read as indexing reads an indexed cubic cell: from the measured lines, on the smallest cell
    # that indexes them, its lattice type's groups weighed by the positions each leaves empty (``cubic_description``;
    # the weights are the indexing's, IndexSettings, set on simulated patterns); False: every cubic group the
    # phase's shown lines allow on the fitted cell, ranked by the votes and the network alone
    cubic_descriptions: bool = True

    def reference(self) -> "MetricSettings":
        """The tolerances a reference cell is judged by (its pseudo-symmetry, if any, is the structure's own)."""
        return dataclasses.replace(self, length_tol=self.reference_length_tol, angle_tol=self.reference_angle_tol)


def hexagonal_axes(cell) -> tuple[float, float]:
    """(a_H, c_H) Å of a rhombohedral lattice given in hexagonal axes (γ = 120°) or rhombohedral ones (a = b = c,
    α = β = γ): a_H = 2a sin(α/2), c_H = a √(3(1 + 2 cos α))."""
    a, _, c, alpha, _, gamma = (float(v) for v in cell)
    if abs(gamma - 120.0) < 1.0:
        return a, c
    ca = math.cos(math.radians(alpha))
    return 2 * a * math.sin(math.radians(alpha) / 2), a * math.sqrt(max(3 * (1 + 2 * ca), 0.0))


def metric_lattice(cell, system: str, settings: MetricSettings = MetricSettings(),
                   rhombohedral: bool = False) -> tuple[str, tuple, float] | None:
    """(higher system, its conventional cell (a, b, c Å, α, β, γ degrees; a tetragonal unique axis last), the
    largest relative difference of the edges it makes equal — for a rhombohedral lattice, of its c/a from the cubic
    one's) that the refined ``cell`` of a group of crystal system ``system`` reaches within the tolerances, or None
    (module docstring: which systems are checked; ``rhombohedral``: a trigonal R group's cell)."""
    if system not in _SYSTEMS_CHECKED:
        return None
    if system == "trigonal":
        if not rhombohedral:
            return None
        a_h, c_h = hexagonal_axes(cell)
        for _, ratio, factor in RHOMBOHEDRAL_CUBIC:
            dev = abs(c_h / max(a_h, 1e-12) / ratio - 1.0)
            if dev <= settings.length_tol:
                a = a_h * factor
                return "cubic", (a, a, a, 90.0, 90.0, 90.0), dev
        return None
    lengths = np.asarray(cell[:3], np.float64)
    if np.any(np.abs(np.asarray(cell[3:], np.float64) - 90.0) > settings.angle_tol):
        return None  # a monoclinic β away from 90° (orthorhombic and tetragonal angles are 90° by constraint)

    def dev(i, j):
        return abs(lengths[i] / lengths[j] - 1.0)

    if max(dev(0, 1), dev(1, 2), dev(0, 2)) <= settings.length_tol:
        a = float(lengths.mean())
        return "cubic", (a, a, a, 90.0, 90.0, 90.0), max(dev(0, 1), dev(1, 2), dev(0, 2))
    if system in ("monoclinic", "orthorhombic"):
        for i, j, k in ((0, 1, 2), (0, 2, 1), (1, 2, 0)):
            if dev(i, j) <= settings.length_tol:
                a = float((lengths[i] + lengths[j]) / 2)
                return "tetragonal", (a, a, float(lengths[k]), 90.0, 90.0, 90.0), dev(i, j)
    if system == "monoclinic":
        return "orthorhombic", (*map(float, lengths), 90.0, 90.0, 90.0), 0.0
    return None


def cubic_description(q: np.ndarray, dq: np.ndarray, a: float) -> tuple[float, str] | None:
    """(edge Å, lattice type) of the cubic cell on which indexing would describe lines Q (float[P] Å⁻², each within
    ``dq``) of a cubic cell of edge ``a``: the cell a/√2 while every line's N = Qa² is even (the lattice the lines
    show is the smaller one: a stand-in's 8.88 Å cell carries a 6.28 Å perovskite's lines at N = 2N′), then F when
    every N is 0 or 3 mod 4 (hkl all even or all odd), else P — whose I (edge ×√2) and F (×2) descriptions are
    weighed with it (:data:`~difcon_jax.match.absences.CUBIC_P_DESCRIPTIONS`). None when a line is not at an
    integer N within its tolerance."""
    n = np.asarray(q, np.float64) * a * a
    k = np.round(n)
    if not len(n) or np.any(k < 1) or np.any(np.abs(n - k) > np.asarray(dq, np.float64) * a * a):
        return None
    k = k.astype(int)
    while np.all(k % 2 == 0):
        a, k = a / math.sqrt(2.0), k // 2
    return a, ("F" if np.all(np.isin(k % 4, (0, 3))) else "P")


def higher_symmetry(hkl_present: np.ndarray, cell, reference_cell, system: str, ranking: np.ndarray,
                    settings: MetricSettings = MetricSettings(), voted=None,
                    rhombohedral: bool = False, q_min: float | None = None,
                    measured: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, dict | None]:
    """(ranking float[230], record) for a matched phase of crystal system ``system`` with refined ``cell`` whose
    lines ``hkl_present`` [P, 3] (the reflections its fit shows in the measured range) were observed: when the
    fit brought the entry's ``reference_cell``, clearly of its own system, to a cell metrically of a higher one,
    the matched ``ranking`` restricted to that system's groups whose absences those lines allow, renormalised,
    with the original ranking behind them (weight :data:`ORIGINAL_TAIL`); (ranking, None) unchanged otherwise, or
    when no group is left. Groups of a still higher system that the vote stands for (``voted`` bool[230], e.g.
    another candidate's cubic group when the cell shows a tetragonal lattice) stay too: the lattice bounds the
    symmetry from below, and their own fits are their evidence. A cubic lattice (with
    ``settings.cubic_descriptions``) is read from the measured lines (``measured``: their Q Å⁻² and tolerances,
    float[L] each, on the phase's scale — :func:`~difcon_jax.match.lines.measured_line_q`; those off the cubic
    lattice are another phase's; None or none left: ``hkl_present``) on the cell :func:`cubic_description` gives,
    its lattice type's groups
    (a P cell's with its I and F descriptions no longer than the fitted cell) weighed by the positions each leaves
    empty between ``q_min`` (Å⁻², the lowest Q measured; None: none counted) and the last line, as an indexed
    cubic cell's are (:func:`~difcon_jax.match.novel.weigh_allowed`, the indexing's weights; no line may go
    unexplained). The record: ``system``, ``cell`` (the higher lattice's; a cubic one's in the answer's
    description), ``deviation`` (the largest relative difference of the edges made equal; the largest departure of
    an angle from 90°, degrees; a rhombohedral lattice's: of its c/a, and 0), ``shows`` (that, in words),
    ``allowed_groups``, and for a described cubic lattice ``empty_absences`` (the answer's class's) and ``reads``
    (the description and those positions, in words).
    ``rhombohedral``: the phase's group is a trigonal R group."""
    higher = metric_lattice(cell, system, settings, rhombohedral)
    if higher is None or len(hkl_present) == 0:
        return ranking, None
    stand_in = np.max(np.abs(np.asarray(cell[:3], np.float64) / np.asarray(reference_cell[:3], np.float64) - 1.0))
    if stand_in <= settings.stand_in and metric_lattice(reference_cell, system, settings.reference(), rhombohedral):
        return ranking, None
    name, metric_cell, dev_len = higher
    q = reflection_q(hkl_present, cell)
    # the observed lines sit within the edges' tolerance of the higher cell's lines (Q ∝ 1/d²: twice relative)
    dq = 3.0 * settings.length_tol * q
    q_m, dq_m = q, dq
    if measured is not None:
        q_l, dq_l = (np.asarray(v, np.float64) for v in measured)
        n = q_l * metric_cell[0] ** 2
        on = (np.round(n) >= 1) & (np.abs(n - np.round(n)) <= dq_l * metric_cell[0] ** 2)  # the others: not its lines
        if on.any():
            q_m, dq_m = q_l[on], dq_l[on]
    described = (cubic_description(q_m, dq_m, metric_cell[0]) if name == "cubic" and settings.cubic_descriptions
                 else None)
    extra = {}
    if described is not None:
        edge, centring = described
        # a description longer than the fitted cell has reflections between the phase's: the fit cannot test it
        violations = group_violations((edge,) * 3 + (90.0,) * 3, q_m, dq_m, name, q_min, centring,
                                      max_edge=metric_cell[0] * (1 + settings.length_tol))
        weighed = weigh_allowed(ranking, violations, name, centring, dataclasses.replace(IndexSettings(),
                                                                                        max_violations=0))
        if weighed is None:
            return ranking, None
        restricted, n_allowed = weighed
        answer = int(np.argmax(restricted)) + 1
        rep = min(g for g in violations if extinction_group_of(g) == extinction_group_of(answer))
        reads = f"its measured lines index on a {centring} cubic cell of {edge:.4f} Å"
        if abs(edge / metric_cell[0] - 1.0) > settings.length_tol:
            reads += f" ({edge / metric_cell[0]:.4f} × the fitted cell's {metric_cell[0]:.4f} Å)"
        metric_cell = violations[rep].cell  # the answer's description: P of the reduced edge, or its I or F cell
        extra = {"empty_absences": violations[rep].empty,
                 "reads": reads + f"; the answer's class leaves {violations[rep].empty} calculated position"
                 + ("s" if violations[rep].empty != 1 else "") + " empty"}
    else:
        violations = group_violations(metric_cell, q, dq, name)
        numbers = np.arange(1, 231)
        ok = allowed_space_groups(violations, 0) & np.isin(numbers, list(LATTICE_GROUPS[name]))
        if voted is not None:
            above = [g for s_ in _ABOVE[name] for g in LATTICE_GROUPS[s_]]
            ok |= np.asarray(voted, bool) & np.isin(numbers, above)
        restricted = np.where(ok, np.asarray(ranking, np.float64), 0.0)
        if not restricted.sum() > 0:
            return ranking, None
        restricted, n_allowed = restricted / restricted.sum(), int(ok.sum())
    out = restricted + ORIGINAL_TAIL * np.asarray(ranking, np.float64)
    if system == "trigonal":
        dev_ang = 0.0
        a_h, c_h = hexagonal_axes(cell)
        shows = (f"its rhombohedral lattice's hexagonal c/a {c_h / a_h:.5f} is a cubic one's within "
                 f"{100 * dev_len:.3f} %")
    else:
        dev_ang = float(np.max(np.abs(np.asarray(cell[3:], np.float64) - 90.0)))
        shows = (f"its refined edges are equal within {100 * dev_len:.3f} % and " if name != "orthorhombic" else
                 "") + f"its angles 90° within {dev_ang:.3f}°"
    rec = {"system": name, "cell": [round(float(v), 5) for v in metric_cell],
           "deviation": {"length": round(float(dev_len), 6), "angle": round(dev_ang, 4)}, "shows": shows,
           "allowed_groups": n_allowed, **extra}
    return out / out.sum(), rec

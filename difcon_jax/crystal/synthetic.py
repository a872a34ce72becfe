"""Random symmetric crystals from pyxtal: the embedded default data source (no download).

Each structure is reproducible from ``(seed, index)``, on a busy machine as on an idle one, of any speed: a
pyxtal attempt's budget is work, not time — at most ``SynthOptions.work_calls`` of its distance checks
(:mod:`difcon_jax.crystal.pyxtal_work`), which depend only on the attempt's random state. A time budget could not be
that: an attempt's CPU time moves by ±30 % with the load beside it, and with 5 s of CPU per attempt 1–2 of the
quickstart's 1,500 crystals came out different between runs on one machine (2026-12-04; wall time, before, 1 in
60). ``timeout_s`` of CPU time stays as a safety net for time spent outside the distance checks: at the slowest rate
measured over the quickstart's first attempts (876 checks per CPU second) the whole budget takes 16 s.

A (space group, Wyckoff-set) combination is drawn from the Materials Project statistics that pyxtal ships
(``spg_num_wps_mp.csv``: how often each combination of Wyckoff positions occurs in MP), so both the space-group
frequencies and the site patterns are realistic; ``prior="uniform"`` draws the space group uniformly instead.
Sites are grouped into 1–4 species; the most populous species is an anion (O, F, S, Cl, N, ...), the others
cations, which keeps the compositions chemically plausible without a full charge-balance search.

Labels come from the symmetry actually found in the generated structure (spglib), not from the request:
pyxtal often places atoms so that the crystal has higher symmetry than asked for.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import io
import math
from importlib import resources

import numpy as np
import spglib

from difcon_jax.crystal.pyxtal_work import pyxtal_work_limit
from difcon_jax.crystal.spglib_calls import spglib_or_none
from difcon_jax.crystal.structure import Structure
from difcon_jax.crystal.structure import Structure as S
from difcon_jax.deadline import OverTime, time_limit

ANIONS = ("O", "F", "S", "Cl", "N", "Se", "Br", "I", "P", "Te", "As", "C", "B", "H")
ANION_WEIGHTS = (0.40, 0.10, 0.10, 0.08, 0.06, 0.05, 0.04, 0.04, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01)
CATIONS = ("Li", "Na", "K", "Rb", "Cs", "Be", "Mg", "Ca", "Sr", "Ba", "Sc", "Y", "La", "Ce", "Nd", "Gd", "Ti",
           "Zr", "Hf", "V", "Nb", "Ta", "Cr", "Mo", "W", "Mn", "Fe", "Co", "Ni", "Cu", "Ag", "Au", "Zn", "Cd", "Hg",
           "Al", "Ga", "In", "Tl", "Si", "Ge", "Sn", "Pb", "Sb", "Bi", "Pd", "Pt", "Ru", "Rh", "U")
ELEMENTALS = ("Cu", "Fe", "Al", "Mg", "Ti", "Zr", "Ni", "Co", "Zn", "Ag", "Au", "Pt", "Si", "Ge", "C", "Se", "Te",
              "Sn", "Pb", "Bi", "Sb", "W", "Mo", "Nb", "Ta", "Cr", "V", "Mn", "Ca", "Sr", "Ba", "Na", "K", "Li")


@dataclasses.dataclass(frozen=True)
class SynthOptions:
    """Settings of random symmetric crystals from pyxtal (space-group prior, size caps, work budget per attempt)."""
    prior: str = "mp"  # "mp" (Materials Project frequencies) or "uniform" over space groups
    max_atoms: int = 96  # cap on atoms in the conventional cell
    # per pyxtal attempt: its distance checks (deterministic), and CPU seconds as a safety net only. 14,000 calls:
    # ~6 s at the median 2,300 calls per CPU second of the quickstart's attempts (876–4,222 across them); the
    # quickstart's first attempts that passed in 5 s need ≤ 12,590, the next 16,201 (crystal 950, the one that flipped)
    work_calls: int = 14_000
    timeout_s: float = 30.0
    max_attempts: int = 20
    symprec: float = 1e-3  # Å, spglib tolerance for the label
    b_iso_range: tuple[float, float] = (0.3, 1.5)  # Å², one B drawn per structure
    # Fill mode: crystal i is drawn in targets[i % len(targets)] (MP Wyckoff combinations of that group,
    # else its general position); empty = draw the group from ``prior``.
    targets: tuple[int, ...] = ()


@functools.lru_cache(maxsize=1)
def _wyckoff_rows() -> tuple[np.ndarray, list[tuple[int, ...]], np.ndarray]:
    """(space group int[R], Wyckoff index tuples, counts float[R]) from pyxtal's MP statistics."""
    text = resources.files("pyxtal.database").joinpath("spg_num_wps_mp.csv").read_text()
    sgs, wps, counts = [], [], []
    for row in csv.DictReader(text.splitlines()):
        sgs.append(int(row["spg"]))
        wps.append(tuple(int(x) for x in row["wps"].split("-")))
        counts.append(float(row["count"]))
    return np.array(sgs), wps, np.array(counts)


@functools.lru_cache(maxsize=None)
def _wyckoff_table(sg: int) -> tuple[tuple[str, int], ...]:
    from pyxtal.symmetry import Group

    return tuple((f"{w.multiplicity}{w.letter}", int(w.multiplicity)) for w in Group(sg).Wyckoff_positions)


@functools.lru_cache(maxsize=4)
def _eligible(max_atoms: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of MP rows whose conventional cell holds ≤ max_atoms atoms, and their counts."""
    sgs, wps, counts = _wyckoff_rows()
    ok = [i for i, (sg, w) in enumerate(zip(sgs, wps))
          if max(w) < len(_wyckoff_table(int(sg))) and sum(_wyckoff_table(int(sg))[j][1] for j in w) <= max_atoms]
    idx = np.array(ok)
    return idx, counts[idx]


def space_group_prior(max_atoms: int = 96) -> np.ndarray:
    """float[231]: the MP-statistics probability of each space group (entry 0 = 0)."""
    sgs, _, _ = _wyckoff_rows()
    idx, cnt = _eligible(max_atoms)
    p = np.bincount(sgs[idx], weights=cnt, minlength=231)
    return p / p.sum()


def _draw_combination(rng: np.random.Generator, options: SynthOptions,
                      target: int | None = None) -> tuple[int, list[tuple[str, int]]]:
    sgs, wps, _ = _wyckoff_rows()
    idx, cnt = _eligible(options.max_atoms)
    if options.prior == "uniform" or target is not None:
        sg = int(rng.integers(1, 231)) if target is None else int(target)
        rows = idx[sgs[idx] == sg]
        if len(rows) == 0:  # no MP combination fits the cap: one general-position site
            return sg, [_wyckoff_table(sg)[0]]
        row = int(rng.choice(rows))
    elif options.prior == "mp":
        row = int(rng.choice(idx, p=cnt / cnt.sum()))
    else:
        raise ValueError(f"unknown space-group prior {options.prior!r} (mp or uniform)")
    sg = int(sgs[row])
    table = _wyckoff_table(sg)
    return sg, [table[j] for j in wps[row]]


def _assign_species(rng: np.random.Generator, sites: list[tuple[str, int]]):
    n_species = int(min(len(sites), rng.choice([1, 2, 3, 4], p=[0.1, 0.45, 0.35, 0.1])))
    owner = np.concatenate([np.arange(n_species), rng.integers(0, n_species, len(sites) - n_species)])
    rng.shuffle(owner)
    groups = [[sites[i] for i in np.flatnonzero(owner == s)] for s in range(n_species)]
    counts = [sum(m for _, m in g) for g in groups]
    if n_species == 1:
        elements = [str(rng.choice(ELEMENTALS))]
    else:
        anion = str(rng.choice(ANIONS, p=np.array(ANION_WEIGHTS) / sum(ANION_WEIGHTS)))
        cations = [str(c) for c in rng.choice(CATIONS, n_species - 1, replace=False)]
        order = np.argsort(counts)[::-1]  # the most populous species is the anion
        elements = [""] * n_species
        elements[order[0]] = anion
        for k, s in enumerate(order[1:]):
            elements[s] = cations[k]
    return elements, counts, [[label for label, _ in g] for g in groups]


def structure_from_cell(lattice_params, frac, elements, b_iso: float, source: str, symprec: float) -> Structure:
    """A :class:`Structure` from a P1 cell, with symmetry found by spglib (operations in this cell's basis)."""


    frac = np.asarray(frac, dtype=np.float64) % 1.0
    proto = S(cell=tuple(float(x) for x in lattice_params), frac=frac, elements=tuple(elements),
              occupancy=np.ones(len(elements)), b_iso=np.full(len(elements), float(b_iso)),
              rotations=np.eye(3, dtype=np.int32)[None], translations=np.zeros((1, 3)), space_group=1,
              source=source, name=source)
    numbers = [sorted(set(elements)).index(e) + 1 for e in elements]
    ds = spglib_or_none(spglib.get_symmetry_dataset, (proto.lattice_matrix(), frac, numbers), symprec=symprec)
    if ds is None:
        raise ValueError("spglib found no symmetry")
    return dataclasses.replace(proto, rotations=np.asarray(ds.rotations, np.int32),
                               translations=np.asarray(ds.translations, np.float64), space_group=int(ds.number))


def random_structure(seed: int, index: int, options: SynthOptions | None = None) -> tuple[Structure, int]:
    """The ``index``-th random crystal of run ``seed``: (structure labelled by its found symmetry, requested SG).

    Raises RuntimeError if no attempt succeeded within ``options.max_attempts``.
    """
    from pyxtal import pyxtal

    options = options or SynthOptions()
    rng = np.random.default_rng([int(seed), int(index)])
    last = "no attempt"
    for attempt in range(options.max_attempts):
        target = options.targets[index % len(options.targets)] if options.targets else None
        sg, sites = _draw_combination(rng, options, target)
        elements, counts, labels = _assign_species(rng, sites)
        crystal = pyxtal()
        try:
            # pyxtal prints failures to stdout; keep the progress bar and CLI output clean
            with pyxtal_work_limit(options.work_calls) as work, time_limit(options.timeout_s, clock="cpu"), \
                    contextlib.redirect_stdout(io.StringIO()):
                crystal.from_random(3, sg, elements, counts, sites=labels, random_state=int(rng.integers(2**31)))
        except OverTime:  # the work budget's OverWork too
            last = f"pyxtal ran past its budget for space group {sg}"
            continue
        except Exception as e:  # pyxtal signals impossible combinations with assorted exceptions
            last = f"pyxtal failed for space group {sg}: {e}"
            continue
        if work["over"]:  # past the budget, whatever pyxtal's own except clauses made of it
            last = f"pyxtal ran past its budget for space group {sg}"
            continue
        if not crystal.valid:
            last = f"pyxtal produced no valid crystal for space group {sg}"
            continue
        coords, species = crystal._get_coords_and_species(absolute=False)
        params = crystal.lattice.get_para(degree=True)
        if not all(math.isfinite(float(p)) for p in params):
            continue
        b = float(rng.uniform(*options.b_iso_range))
        try:
            st = structure_from_cell(params, coords, species, b, f"synth:{seed}:{index}", options.symprec)
        except Exception as e:
            last = f"symmetry search failed: {e}"
            continue
        return st, sg
    raise RuntimeError(f"synth:{seed}:{index}: {last} (after {options.max_attempts} attempts)")

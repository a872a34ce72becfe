"""The simulated indexing axis: held-out structures rendered by the independent laboratory simulator
(`difcon_jax/evaluate/lab_renderer.py`: zero shift, displacement, Kα2, Kβ, axial asymmetry, TCH widths,
texture, air scatter, Poisson counts) and read as measured files, then indexed from their peak positions alone.

``--split validation`` sets the indexing thresholds (M20, ratio; results/identify/README.md), ``--split test``
(the equivariance structures) reports. Per pattern it keeps each lattice's best cell, so thresholds can be
chosen from one run (``--choose``).

    python benchmarks/indexing_axis.py --table runs/real_fill2 --n 300 --split validation --out /tmp/ix_val.json
    python benchmarks/indexing_axis.py --choose /tmp/ix_val.json [--only min_significance]
    python benchmarks/indexing_axis.py --null 200 --seed 5     # the chance level: random line lists' cells

Prints one JSON line: per true lattice the share given the right lattice and volume, a wrong one, or none, and
how often a triclinic pattern is (wrongly) given a cell.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np

from difcon_jax.crystal.symmetry import crystal_system_of, space_group_symbol
from difcon_jax.data.peak_table import load_peak_table
from difcon_jax.data.split import Split
from difcon_jax.evaluate.evaluators import textbook_set
from difcon_jax.evaluate.lab_renderer import render_lab_pattern
from difcon_jax.evaluate.textbook import textbook_structures
from difcon_jax.grid import Grid
from difcon_jax.inference.predictor import Predictor
from difcon_jax.match.absences import GroupFit, group_violations
from difcon_jax.match.indexing import Indexing, IndexSettings, choose_lattice, index_all, index_lines
from difcon_jax.match.lattices import LATTICES
from difcon_jax.match.novel import weigh_allowed
from difcon_jax.match.pattern_model import cell_to_metric
from difcon_jax.match.spectral_lines import line_q
from difcon_jax.patterns.preprocess import to_model_input

CENTRING = {"P": 1, "A": 2, "B": 2, "C": 2, "I": 2, "R": 3, "F": 4}


def lattice_of(space_group: int) -> str | None:
    """The lattice :mod:`difcon_jax.match.indexing` should find for a space group (None: triclinic, not searched)."""
    return ("monoclinic" if space_group <= 15 else "orthorhombic" if space_group <= 74 else
            "tetragonal" if space_group <= 142 else "hexagonal" if space_group <= 194 else "cubic") \
        if space_group >= 3 else None


def conventional_volume(space_group: int, reduced_cell) -> float:
    v = np.sqrt(max(np.linalg.det(cell_to_metric(reduced_cell)), 0.0))
    return float(v * CENTRING[space_group_symbol(space_group)[0]])


def _found(record: dict) -> dict:
    """lattice → the saved best cell as an :class:`Indexing` (cell, M20 and lines indexed: what
    :func:`choose_lattice` reads) or None."""
    def one(k, f):
        indexed, lines = (int(v) for v in f["lines_indexed"].split("/"))
        return Indexing(k, tuple(f["cell"]), f["m20"], indexed, lines, 0.0, np.zeros(0), f["centring"],
                        f.get("trials", 1))
    return {k: one(k, f) if f else None for k, f in record["found"].items()}


def summarise(records: list[dict], settings: IndexSettings) -> dict:
    """Shares per true lattice: right lattice with the conventional volume within 1 % (or a multiple up to 4:
    ``super``), wrong lattice, none; and given-a-cell for the lattice not searched (triclinic)."""
    out = {}
    for want in list(LATTICES) + [None]:
        rows = [r for r in records if r["lattice"] == want]
        if not rows:
            continue
        got = []
        for r in rows:
            c = choose_lattice(_found(r), settings)
            if c is None:
                got.append("none")
            elif c.lattice != want:
                got.append("wrong")
            else:
                ratio = c.volume / r["volume"]
                got.append("right" if abs(ratio - 1) < 0.01 else "super" if abs(ratio - round(ratio)) < 0.01 * ratio else "wrong")
        key = want or "triclinic"
        out[key] = {"n": len(rows), **{k: round(got.count(k) / len(rows), 3) for k in ("right", "super", "wrong", "none")}}
    return out


def _fits(saved: dict) -> dict[int, GroupFit]:
    """A record's extinction classes (representative → [violations, empty absences]; records before empty
    absences were counted hold the violations alone, read as 0 empty) as :class:`GroupFit`."""
    def one(v) -> GroupFit:
        violations, empty = v[:2] if isinstance(v, list) else (v, 0)
        return GroupFit(violations, (), empty)
    return {int(k): one(v) for k, v in saved.items()}


def _answers(records: list[dict], settings: IndexSettings) -> tuple[np.ndarray, np.ndarray]:
    """(the network's top group, the answer kept to the groups the accepted cell's absences allow) per record."""
    net, ix = [], []
    for r in records:
        p = np.asarray(r["p_network"])
        c = choose_lattice(_found(r), settings)
        q = p
        if c is not None:  # as identify keeps and weighs the groups (match/novel.py)
            weighed = weigh_allowed(p, _fits(r["violations"][c.lattice]), c.lattice, c.centring, settings)
            q = p if weighed is None else weighed[0]
        net.append(int(np.argmax(p)) + 1)
        ix.append(int(np.argmax(q)) + 1)
    return np.array(net), np.array(ix)


def score(records: list[dict], settings: IndexSettings = IndexSettings()) -> dict:
    """Space group and crystal system top-1 of the network alone and kept to the accepted cells' groups,
    over all patterns and over those given a cell; the lattices found."""
    y = np.array([r["space_group"] for r in records])
    cs = np.vectorize(crystal_system_of)
    net, ix = _answers(records, settings)
    given = np.array([choose_lattice(_found(r), settings) is not None for r in records])
    return {"n": len(y), "given_a_cell": round(float(given.mean()), 4),
            "network_sg": round(float(np.mean(net == y)), 4), "indexed_sg": round(float(np.mean(ix == y)), 4),
            "network_cs": round(float(np.mean(cs(net) == cs(y))), 4), "indexed_cs": round(float(np.mean(cs(ix) == cs(y))), 4),
            "given_network_sg": round(float(np.mean((net == y)[given])), 4),
            "given_indexed_sg": round(float(np.mean((ix == y)[given])), 4),
            "given_network_cs": round(float(np.mean((cs(net) == cs(y))[given])), 4),
            "given_indexed_cs": round(float(np.mean((cs(ix) == cs(y))[given])), 4),
            "lattices": summarise(records, settings)}


#: the values ``--choose`` tries; ties go to the first listed (``min_significance`` strictest first: at an equal
#: simulated score, the fewer cells given the fewer wrong ones where patterns show fewer lines than simulated ones)
GRID = {"min_m20": (10, 15, 20, 30, 40, 60), "m20_ratio": (0.3, 0.5, 0.7), "max_violations": (0, 1, 2),
        "monoclinic_ratio": (0.3, 0.1, 0.03, 0.01, 0.0), "min_significance": (15, 12, 10, 8, 6, 5, 4, 3, 2, 0),
        "same_centring": (False, True), "absence_weight": (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5),
        "violation_weight": (0.0, 1.0, 2.0, 4.0), "cubic_descriptions": (False, True)}
#: what ``--choose`` without ``--only`` varies together (the other keys one at a time: ``--only KEY``; ``--only
#: absences`` the two weights of the absences' evidence together)
FULL = ("min_m20", "m20_ratio", "max_violations", "monoclinic_ratio", "min_significance", "same_centring")
ONLY = {"absences": ("absence_weight", "violation_weight")}


def choose(records: list[dict], only: str | None = None) -> dict:
    """The IndexSettings thresholds (:data:`GRID`; those of :data:`FULL` together, the others as shipped) with the
    best space-group top-1 over all patterns (those not given a cell keep the network's answer), crystal system
    breaking ties; ``only``: that one threshold (or :data:`ONLY`'s set) chosen, the others as shipped, and every
    value's scores listed (the full grid: ~6 min of CPU for 300 records)."""
    y = np.array([r["space_group"] for r in records])
    cs = np.vectorize(crystal_system_of)
    shipped = IndexSettings()
    varied = FULL if only is None else ONLY.get(only, (only,))
    axes = {k: (v if k in varied else (getattr(shipped, k),)) for k, v in GRID.items()}
    best, grid = None, []
    for values in itertools.product(*axes.values()):
        s = IndexSettings(**dict(zip(axes, values)))
        net, ix = _answers(records, s)
        key = (float(np.mean(ix == y)), float(np.mean(cs(ix) == cs(y))))
        grid.append({**dict(zip(axes, values)), "indexed_sg": round(key[0], 4), "indexed_cs": round(key[1], 4)})
        if best is None or key > best[0]:
            best = (key, s, net)
    (sg, cs_acc), s, net = best
    return {**{k: getattr(s, k) for k in GRID},
            "network_sg": round(float(np.mean(net == y)), 4), "network_cs": round(float(np.mean(cs(net) == cs(y))), 4),
            "indexed_sg": round(sg, 4), "indexed_cs": round(cs_acc, 4), "lattices": summarise(records, s),
            **({"grid": grid} if only else {})}


def null_records(n_lists: int, seed: int, lambda_ref: float) -> list[dict]:
    """The chance level of indexing: ``n_lists`` line lists of 6–20 lines at random 2θ (uniform in 2θ or in Q over
    10–70°, Cu Kα), each lattice's best cell with its M20 and :attr:`~difcon_jax.match.indexing.Indexing.significance`.
    No cell of such a list means anything; ``min_significance`` is set above what they reach."""
    rng = np.random.default_rng(seed)
    q_lo, q_hi = (line_q(np.array([10.0, 70.0]), 0.0, lambda_ref)[0])
    out = []
    for i in range(n_lists):
        n = int(rng.integers(6, 21))
        if i % 2:  # uniform in Q = 1/d²: as dense at high angles as a cell's calculated lines
            q = rng.uniform(q_lo, q_hi, n)
            tt = np.degrees(2 * np.arcsin(np.sqrt(q) * lambda_ref / 2))
        else:
            tt = rng.uniform(10.0, 70.0, n)
        found = {k: index_lines(np.sort(tt), k, lambda_ref) for k in LATTICES}
        out.append({"lines": n, "uniform_in": "Q" if i % 2 else "2theta",
                    "found": {k: (v.as_dict() | {"m20": float(v.m20)}) if v else None for k, v in found.items()}})
    return out


def null_summary(records: list[dict]) -> dict:
    """How many random line lists each ``min_significance`` of :data:`GRID` (and M20 alone) would give a cell, and
    the largest significance an accepted random cell reached."""
    def given(s):
        return sum(choose_lattice(_found(r), s) is not None for r in records)
    sig = [choose_lattice(_found(r), IndexSettings(min_significance=0.0)) for r in records]
    return {"n": len(records), "given_by_m20_alone": given(IndexSettings(min_significance=0.0)),
            "max_significance": round(max([c.significance for c in sig if c is not None], default=0.0), 3),
            "given": {str(v): given(IndexSettings(min_significance=v)) for v in GRID["min_significance"]}}


def _record(x, w, grid: Grid, sg: int, volume: float, settings: IndexSettings = IndexSettings()) -> dict:
    """One pattern's indexing: each lattice's best cell and, for those found, every extinction class's violations
    and empty absences."""
    found = index_all(x, w, grid, settings=settings)
    violations = {}
    for k, v in found.items():
        if v is not None:
            q, g = line_q(v.two_theta, v.zero, grid.lambda_ref)
            q_min = float(line_q(grid.centres[w > 0][:1], v.zero, grid.lambda_ref)[0][0])
            violations[k] = {str(n): [f.violations, f.empty]
                             for n, f in group_violations(v.cell, q, g * IndexSettings().tolerance, k, q_min,
                                                          v.centring).items()}
    return {"space_group": sg, "lattice": lattice_of(sg), "volume": volume,
            "found": {k: (v.as_dict() | {"m20": float(v.m20)}) if v else None for k, v in found.items()},
            "violations": violations}


def textbook_records(model: str, grid: Grid) -> list[dict]:
    """The textbook set of ``evaluate`` (evaluate/textbook.py: every phase rendered by the lab simulator with and
    without Kα2), indexed, with the network's probabilities for the library's population (known phases)."""
    predictor = Predictor.load(model)
    ts = textbook_set(predictor.cfg, 1234 + 3)  # the seed evaluate's textbook axis uses
    volumes = [st.volume for _, st in textbook_structures()] * 2
    records = []
    for x, sg, vol in zip(ts.profiles, ts.space_group, volumes):
        nz = np.flatnonzero(x)
        w = np.zeros_like(x)
        w[nz.min():nz.max() + 1] = 1
        records.append(_record(x, w, grid, int(sg), vol))
    p_sg = predictor(ts.profiles, blend=False, prior="library")["space_group"]
    for rec, p_row in zip(records, p_sg):
        rec["p_network"] = [float(v) for v in p_row]
    return records


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--table", help="peak table with the model's splits (e.g. runs/real_fill2)")
    p.add_argument("--model", default="difcon_jax/pretrained/difcon_cpu")
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--split", choices=("test", "validation"), default="validation")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--out", default=None)
    p.add_argument("--choose", default=None, help="a saved run: print the thresholds it chooses")
    p.add_argument("--only", choices=(*GRID, *ONLY), default=None,
                   help="with --choose: that threshold alone (the others as shipped), every value's scores listed")
    p.add_argument("--score", default=None, help="a saved run: print its scores with the shipped thresholds")
    p.add_argument("--null", type=int, default=0, help="N random line lists (the chance level): how many each "
                   "min_significance would give a cell")
    p.add_argument("--trial-zeros", type=lambda v: tuple(float(x) for x in v.split(",")),
                   default=IndexSettings().trial_zeros, help="zero shifts (degrees, comma-separated) the trial cells "
                   "are made at (IndexSettings.trial_zeros; the records are of this search)")
    p.add_argument("--textbook", action="store_true", help="the textbook phases (lab simulator, with and without "
                   "Kα2) instead of table structures: their scores with the shipped thresholds")
    a = p.parse_args()
    if a.choose:
        print(json.dumps({"benchmark": "indexing_axis_choose",
                          **choose(json.load(open(a.choose))["records"], a.only)}))
        return
    if a.null:
        records = null_records(a.null, a.seed, Grid.of(Predictor.load(a.model).cfg.augment).lambda_ref)
        if a.out:
            with open(a.out, "w") as f:
                json.dump({"records": records}, f)
        print(json.dumps({"benchmark": "indexing_null", **null_summary(records)}))
        return
    if a.score:
        print(json.dumps({"benchmark": "indexing_axis_score", **score(json.load(open(a.score))["records"])}))
        return
    cfg = Predictor.load(a.model).cfg
    grid = Grid.of(cfg.augment)
    if a.textbook:
        records = textbook_records(a.model, grid)
        print(json.dumps({"benchmark": "indexing_textbook", **score(records)}))
        return
    table = load_peak_table(a.table)
    want = Split.EQUIVARIANCE_TEST if a.split == "test" else Split.VALIDATION
    rng = np.random.default_rng(a.seed)
    rows = np.sort(rng.permutation(np.flatnonzero(np.asarray(table.split) == want))[:a.n])
    records, xs, t0 = [], [], time.time()
    for r in rows:
        m = np.asarray(table.mask[r])
        lab = render_lab_pattern(rng, np.asarray(table.two_theta[r])[m], np.asarray(table.intensity[r])[m],
                                 np.asarray(table.po_cos2[r])[m], np.asarray(table.po_weight[r])[m],
                                 lambda_ref=grid.lambda_ref, ka2=bool(rng.random() < 0.8))
        x = to_model_input(lab, cfg.augment)
        lo, hi = float(lab.two_theta.min()), float(lab.two_theta.max())
        w = ((grid.centres >= lo) & (grid.centres <= hi)).astype(np.float32)
        sg = int(table.space_group[r])
        xs.append(x)
        records.append({"row": int(r), **_record(x, w, grid, sg, conventional_volume(sg, table.reduced_cell[r]),
                                                 IndexSettings(trial_zeros=a.trial_zeros))})
    sec = (time.time() - t0) / max(len(rows), 1)
    p_sg = Predictor.load(a.model)(np.stack(xs), blend=False, prior="natural")["space_group"]
    for rec, p_row in zip(records, p_sg):
        rec["p_network"] = [round(float(v), 5) for v in p_row]
    summary = {"benchmark": "indexing_axis", "split": a.split, "n": len(records), "seconds_per_pattern": round(sec, 3),
               **summarise(records, IndexSettings())}
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"summary": summary, "records": records}, f)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

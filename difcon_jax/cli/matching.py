"""``difcon-jax identify`` (measured files → named phases, refined cells, fits) and ``library build``
(reference databases from CIF folders or archives)."""

from __future__ import annotations

import argparse
import math
import os
import sys

from difcon_jax.cli.common import check_plot_folder, report_file_errors, strict_json
from difcon_jax.crystal.symmetry import crystal_system_of
from difcon_jax.errors import InputError
from difcon_jax.evaluate.calibration import record_library_frequency
from difcon_jax.files import atomic_write_text
from difcon_jax.inference.library import LIBRARY_FILE, REFERENCES_FILE, read_library, representation_digest
from difcon_jax.inference.model_dir import load_model
from difcon_jax.match.conditions import conditions_note
from difcon_jax.match.database import build_database, embed_database, write_database
from difcon_jax.match.export import export_identifications, value_with_su
from difcon_jax.match.identify import identify
from difcon_jax.match.orders import describe_one_spacing
from difcon_jax.match.plot import plot_identifications
from difcon_jax.match.search import IdentifySettings
from difcon_jax.patterns.doublet import SHOWN_WITH_KA2


def texture_note(refined: dict) -> str:
    """The fitted preferred orientation when it is one worth reading (March–Dollase r outside 0.9–1.1): its
    direction and r (March–Dollase: r < 1 plates whose normals lie along it, r > 1 needles along it)."""
    r = refined.get("po_r", 1.0)
    if 0.9 <= r <= 1.1:
        return ""
    return f"  texture along {refined.get('po_axis', 'c*')} r {r:.2f}"


def format_cell(cell, sigma, space_group: int) -> str:
    """The refined cell as a crystallographer writes it: the free parameters of the crystal system only."""

    cs = crystal_system_of(space_group)
    names = ("a", "b", "c", "α", "β", "γ")
    show = {6: (0,), 5: (0, 2), 4: (0, 2), 3: (0, 2), 2: (0, 1, 2), 1: (0, 1, 2, 4), 0: range(6)}[cs]
    if cs == 4 and abs(cell[5] - 120) > 1:  # rhombohedral setting: a and α
        show = (0, 3)
    return " ".join(f"{names[i]}={value_with_su(cell[i], sigma[i])}{'Å' if i < 3 else '°'}" for i in show)


def indexing_lines(ix: dict | None) -> list[str]:
    """The lines that show a novel phase's own cell (``identify``'s ``indexing`` record: indexed from its peak
    positions, its answer Pawley-fitted), or none."""
    if not ix:
        return []
    angles = "".join(f" {n}={v:.3f}°" for n, v in zip("αβγ", ix["cell"][3:]) if abs(v - 90.0) > 1e-6)
    out = [f"indexed cell: {ix['lattice']} {ix['centring']}, "
           f"{' '.join(f'{n}={v:.4f}' for n, v in zip('abc', ix['cell'][:3]))} Å{angles}, V {ix['volume']:.1f} Å³, "
           f"M20 {ix['m20']:.0f}, {ix['lines_indexed']} lines indexed; {ix['allowed_groups']} groups its absences "
           "and centring allow" + (f"; {ix['empty_absences']} calculated positions empty where the answer's "
                                  "absences forbid every reflection" if ix.get("empty_absences") else "")]
    if ix.get("answer_cell"):
        ac = ix["answer_cell"]
        out.append(f"the answer's cell: cubic {ac['centring']}, a={ac['a']:.4f} Å — its lines include every line of "
                   "the indexed primitive cell, so the positions alone do not choose between them")
    if ix.get("pawley_note"):
        out.append(f"note: {ix['pawley_note']}")
    if "pawley" in ix:
        pw = ix["pawley"]
        upto = f", fitted to {pw['two_theta_max']:.1f}°" if "two_theta_max" in pw else ""
        out.append(f"Pawley fit ({pw['space_group']['symbol']}, {pw['reflections']} reflections{upto}): "
                   f"{format_cell(pw['cell'], pw['cell_sigma'], pw['space_group']['number'])}  Rwp {pw['rwp']:.3f}  "
                   f"χ²ν {pw['reduced_chi2']:.2f}")
    return out


def symmetry_differs_note(r: dict) -> str | None:
    """The line that says why a matched pattern's symmetry answer is not phase 1's own group (candidates of
    another group fitted about as well, and the vote — fits within τ of the best, with the network — went to
    them; or phase 1's refined cell is metrically of a higher system, :mod:`difcon_jax.match.metric`), or None
    when they agree."""
    sym = r["symmetry"]
    if not r["phases"] or sym["space_group"]["number"] == r["phases"][0]["space_group"]["number"]:
        return None
    g = sym["space_group"]["number"]
    m = sym.get("metric")
    if m is not None:  # the answer is the higher lattice's: say what the fit of phase 1 shows
        cell = " ".join(f"{v:g}" for v in m["cell"][:3])
        return (f"not phase 1's {r['phases'][0]['space_group']['symbol']}: {m['shows']} "
                f"({m['system']} a b c = {cell} Å): {m['allowed_groups']} {m['system']} groups allow its lines"
                + (f" ({m['reads']})" if m.get("reads") else "")
                + f"; the fits' vote was {m['matched_group']['symbol']}")
    rival = next((c for c in r["candidates"] if c["space_group"]["number"] == g), None)
    fits = f"{rival['name']} {rival['space_group']['symbol']} fits with Rwp {rival['rwp']:.3f} against " \
           f"{r['phases'][0]['rwp']:.3f}; " if rival else ""
    return (f"not phase 1's {r['phases'][0]['space_group']['symbol']}: {fits}the fits' vote with the network: "
            + ", ".join(f"{v['symbol']} {v['p']:.2f}" for v in sym.get("votes", [])[:3]))


def _print_result(r: dict) -> None:
    sym = r["symmetry"]
    print(f"{r['file']}")
    if r.get("note"):
        print(f"  note: {r['note']}")
    if r.get("one_spacing"):
        print(f"  note: {describe_one_spacing(r['one_spacing'])}")
    if not r["phases"] and r["candidates"]:
        c = r["candidates"][0]
        where = "" if r.get("note") else " in the library"  # the note says why (too few lines, diverged fits)
        print(f"  no match{where} (best: {c['name']} {c['space_group']['symbol']}, Rwp {c['rwp']:.3f}, "
              f"Rwp over its lines {c['rwp_lines']:.3f}, {100 * c['explained']:.0f} % of the signal explained)")
    for k, p in enumerate(r["phases"], 1):
        print(f"  phase {k}: {p['name']} [{p['code']}]{conditions_note(p)} {p['formula']}  "
              f"{p['space_group']['symbol']} "
              f"(#{p['space_group']['number']})  {format_cell(p['cell'], p['cell_sigma'], p['space_group']['number'])}")
        # a library built without a model has no representations: no similarity to show
        sim = f"similarity {p['similarity']:.3f}  " if math.isfinite(p["similarity"]) else ""
        print(f"           Rwp {p['rwp']:.3f}  χ²ν {p['reduced_chi2']:.2f}  {sim}"
              f"{100 * p['weight_fraction']:.0f} wt% ({100 * p['intensity_fraction']:.0f} % of the intensity)"
              + texture_note(p["refined"]) + (f"  at bound: {', '.join(p['at_bound'])}" if p["at_bound"] else ""))
    if r["unexplained_peaks"]:
        more = len(r["unexplained_peaks"]) - 12  # a long list is cut, and says so
        print(f"  unexplained peaks (2θ): {', '.join(f'{t:.2f}' for t in r['unexplained_peaks'][:12])}"
              + (f" and {more} more (--json lists all)" if more > 0 else ""))
    print(f"  symmetry: {sym['crystal_system']}, {sym['space_group']['symbol']} (#{sym['space_group']['number']}) "
          f"— {sym['source']}")
    why = symmetry_differs_note(r)
    if why:
        print(f"  {why}")
    for line in indexing_lines(r.get("indexing")):
        print(f"  {line}")
    if sym.get("unverified_votes"):
        print("  the failed fits' vote (unverified): " + ", ".join(f"{v['symbol']} {v['p']:.2f}"
                                                               for v in sym["unverified_votes"][:3]))
    net = r["network"]
    # the network's own answer as predict's network lines show it (its heads blended with the library's neighbours)
    print("  network (heads + library vote): "
          + ", ".join(f"{c['label']} {c['p']:.2f}" for c in net["crystal_system"][:2])
          + "; " + ", ".join(f"{s['symbol']} {s['p']:.2f}" for s in net["space_group"][:3])
          + (f" ({SHOWN_WITH_KA2})" if net.get("ka2_added") else ""))
    if "lattice_estimate" in net and not r["phases"]:  # a novel phase: the network's cell is all there is
        c = net["lattice_estimate"]
        print(f"  lattice estimate (network, reduced primitive cell, unrefined): a {c['a']:.2f} b {c['b']:.2f} "
              f"c {c['c']:.2f} Å, α {c['alpha']:.1f} β {c['beta']:.1f} γ {c['gamma']:.1f}°, V {c['volume']:.0f} Å³")
    others = other_candidates(r)
    if others:
        print("  other candidates: " + "; ".join(others[:4]))


def other_candidates(r: dict) -> list[str]:
    """The candidates after phase 1, one item per phase and group (entries of one mineral in one space group —
    AMCSD holds many — are one alternative, not four): 'Titanite C2/c Rwp 0.219 (3 entries, to 0.241)'."""
    groups: dict[tuple[str, str], list[float]] = {}
    for c in r["candidates"]:
        if not r["phases"] or c["code"] != r["phases"][0]["code"]:
            groups.setdefault((c["name"], c["space_group"]["symbol"]), []).append(c["rwp"])
    return [f"{name} {sym} Rwp {min(rwp):.3f}" + (f" ({len(rwp)} entries, to {max(rwp):.3f})" if len(rwp) > 1 else "")
            for (name, sym), rwp in groups.items()]


def cmd_identify(args) -> int:
    if args.top < 1:
        raise InputError(f"--top {args.top}", "must be at least 1")
    if args.candidates < 1:
        raise InputError(f"--candidates {args.candidates}", "must be at least 1")
    if args.first_phase_tries < 1:
        raise InputError(f"--first-phase-tries {args.first_phase_tries}", "must be at least 1")
    check_plot_folder(args.plot)
    if args.export and os.path.exists(args.export) and not os.path.isdir(args.export):
        raise InputError(f"--export {args.export}", "exists and is not a folder")
    for src in args.cif_dir or ():
        if not args.export:
            raise InputError(f"--cif-dir {src}", "is read only with --export (where the refined CIFs' atoms come from)")
        if not os.path.exists(src):
            raise InputError(f"--cif-dir {src}", "no such file or folder")
    settings = IdentifySettings(candidates=args.candidates, max_phases=args.max_phases,
                                first_phase_tries=args.first_phase_tries)
    results, errors = identify(args.files, args.model, args.library, args.elements, args.only_elements,
                               args.exclude_elements, args.top, args.wavelength, settings, index=args.index,
                               non_ambient=args.non_ambient)
    report_file_errors(errors)
    if args.json:
        print(strict_json([{k: v for k, v in r.items() if not k.startswith("_")} for r in results]))
    else:
        for r in results:
            _print_result(r)
    if args.plot and results:
        print(f"wrote {plot_identifications(results, args.plot)}", file=sys.stderr)
    if args.export and results:
        written, notes = export_identifications(results, args.export, args.cif_dir or ())
        for n in notes:
            print(f"note: {n}", file=sys.stderr)
        print(f"wrote {len(written)} files to {args.export} (fits, reflection lists, refined CIFs)", file=sys.stderr)
    return 1 if errors else 0


def _knn_settings(args, cfg) -> dict:
    """The kNN vote predict blends in (k neighbours, softmax temperature τ, weight α): each given flag, else
    the model's own library's setting, else its configuration's ``eval.library_*`` (issue 9)."""
    own = read_library(args.model)
    default = own if own else {"k": cfg.eval.library_k, "tau": cfg.eval.library_tau, "alpha": cfg.eval.library_alpha}
    given = {"k": args.knn_k, "tau": args.knn_tau, "alpha": args.knn_alpha}
    knn = {name: given[name] if given[name] is not None else default[name] for name in given}
    if int(knn["k"]) < 1 or not float(knn["tau"]) > 0 or not 0 <= float(knn["alpha"]) <= 1:
        raise InputError("--knn-k/--knn-tau/--knn-alpha", f"need k ≥ 1, τ > 0 and 0 ≤ α ≤ 1 (got {knn['k']}, "
                         f"{knn['tau']}, {knn['alpha']})")
    return {"k": int(knn["k"]), "tau": float(knn["tau"]), "alpha": float(knn["alpha"])}


def cmd_library_build(args) -> int:
    if not args.model and any(v is not None for v in (args.knn_k, args.knn_tau, args.knn_alpha)):
        raise InputError("--knn-k/--knn-tau/--knn-alpha", "set the vote of a model's representations: give --model")
    if args.model:  # the model and its vote settings checked before the CIFs are parsed (minutes)
        cfg, model, params = load_model(args.model)
        knn = _knn_settings(args, cfg)
    db, skipped = build_database(args.cif_dir, args.out, args.workers, args.max_peaks)
    if args.model:
        db = embed_database(db, cfg, model, params, views=args.views)
        db.meta["model_digest"] = representation_digest(params)
        db.meta["views"] = args.views
        db.meta["knn"] = knn  # the kNN vote predict blends in
        write_database(args.out, db)
        own_file = os.path.join(os.path.abspath(args.model), REFERENCES_FILE)
        if os.path.abspath(args.out) == own_file and not os.path.exists(os.path.join(args.model, LIBRARY_FILE)):
            # the model's own library now (read_library reads a library.npz first)
            path = record_library_frequency(args.model, db.space_group)
            if path:
                print(f"wrote {path}: the library's space-group frequencies (the prior of 'library' answers)")
    if skipped:
        report = args.out + ".skipped.tsv"
        atomic_write_text(report, "item\treason\n" + "".join(f"{i}\t{r}\n" for i, r in skipped))
        print(f"skipped {len(skipped)} (see {report})", file=sys.stderr)
    size = os.path.getsize(args.out) / 1e6
    print(f"wrote {args.out}: {len(db)} entries, {size:.1f} MB"
          + (", with representations" if db.h is not None else ", no representations (retrieval by profile)"))
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("identify", help="name the phases of measured patterns, refine them and show the fit")
    p.add_argument("files", nargs="+")
    p.add_argument("--model", default=None,
                   help="model folder (default: the packaged model and its library: AMCSD minerals, AFLOW prototypes)")
    p.add_argument("--library", default=None, help="a reference database (.npz from `library build`)")
    p.add_argument("--elements", default=None, help="elements every candidate must contain, e.g. Fe,O")
    p.add_argument("--only-elements", default=None, help="candidates may contain only these elements")
    p.add_argument("--exclude-elements", default=None, help="candidates may contain none of these, e.g. H,C")
    p.add_argument("--non-ambient", action="store_true",
                   help="also search the entries determined at low or high temperature or under pressure that are "
                        "another polymorph of a mineral the library holds at ambient conditions (left out by default)")
    p.add_argument("--top", type=int, default=5, help="candidates listed per file")
    p.add_argument("--candidates", type=int, default=50, help="candidates retrieved and fitted per phase")
    p.add_argument("--max-phases", type=int, default=3)
    p.add_argument("--first-phase-tries", type=int, default=IdentifySettings.first_phase_tries,
                   help="when the best candidate's mixture explains too little, try the next candidates whose own "
                        "lines fit as the first phase, this many first phases in all (default %(default)s)")
    p.add_argument("--index", action=argparse.BooleanOptionalAction, default=True,
                   help="index patterns nothing in the library matches (cubic to monoclinic cells from the peak "
                        "positions), keep their answer to the groups the cell's absences allow and show its Pawley "
                        "fit (default; --no-index: the network's answer alone)")
    p.add_argument("--wavelength", type=float, default=None, help="Å, for files without wavelength metadata")
    p.add_argument("--json", action="store_true")
    p.add_argument("--plot", default=None, metavar="PNG")
    p.add_argument("--export", default=None, metavar="DIR",
                   help="write each file's fit (STEM.fit.csv: 2θ, d, observed, calculated, difference, each phase), "
                        "each phase's reflections (STEM.phaseK.hkl.csv) and its reference CIF with the refined cell "
                        "(STEM.phaseK.cif, the start of a Rietveld refinement) into DIR")
    p.add_argument("--cif-dir", action="append", default=None, metavar="SRC",
                   help="with --export: a folder or archive holding the library's own CIFs (the one it was built "
                        "from), for the refined CIFs; looked in before the folders the library was built from")
    p.set_defaults(func=cmd_identify)

    lib = sub.add_parser("library", help="reference databases for identify")
    lsub = lib.add_subparsers(dest="library_cmd", required=True)
    b = lsub.add_parser("build", help="a reference database from CIF folders, archives or files")
    b.add_argument("--cif-dir", action="append", required=True, metavar="SRC")
    b.add_argument("--out", required=True, help="the database file (.npz)")
    b.add_argument("--model", default=None, help="add this model's representations (retrieval by similarity)")
    b.add_argument("--views", type=int, default=8, help="augmented views averaged per entry")
    b.add_argument("--max-peaks", type=int, default=96)
    b.add_argument("--knn-k", type=int, default=None, help="neighbours in predict's library vote (default: the "
                   "model's own library, else its config's eval.library_k)")
    b.add_argument("--knn-tau", type=float, default=None, help="softmax temperature of their similarities")
    b.add_argument("--knn-alpha", type=float, default=None, help="weight of the vote in predict's answer (0–1)")
    b.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 1)))
    b.set_defaults(func=cmd_library_build)

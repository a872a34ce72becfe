"""The evidence as files a crystallographer takes into other software (``identify --export DIR``).

For each identified file ``STEM``:

* ``STEM.fit.csv`` — the fit as columns: 2θ at the file's own wavelength (degrees), d (Å), 2θ on the model's grid
  (degrees at its λ_ref, Cu Kα), the observed profile as it was fitted (background removed by the shared SNIP,
  resampled onto the grid, maximum 1), the calculated profile, their difference and each phase's own part — what
  ``--plot`` draws, as numbers (with no match, the best candidate's failed fit);
* ``STEM.phaseK.hkl.csv`` — phase K's reflections as the fit placed them: h k l in the reference's own setting, d
  (Å) from the refined cell, the Bragg 2θ at the file's wavelength, the fitted line position on the grid (zero
  shift and displacement included: the plot's ticks) and the reference's |F|²·m relative to its strongest
  reflection (no Lorentz–polarisation, no texture);
* ``STEM.phaseK.cif`` — the reference structure with the refined cell (standard uncertainties in the last digits),
  atoms and symmetry operations copied from the reference's own CIF: the starting model of a Rietveld refinement
  (GSAS-II, TOPAS, FullProf). Written only when that CIF is at hand — the library stores cells and reflections,
  not atoms — found through the library's build folders or ``--cif-dir`` (folders or archives);
* for a pattern nothing matched but indexing gave a cell (:mod:`~difcon_jax.match.novel`): the Pawley fit as a
  ``pawley`` column of ``STEM.fit.csv``, ``STEM.indexed.hkl.csv`` — its reflections (h k l in the answer group's
  standard setting, d from the refined cell, 2θ, the fitted line position and the extracted intensity) — and
  ``STEM.indexed.cif``: the refined cell and the space group with its operations, no atoms, and the extracted
  intensities as a ``_refln`` loop — where a structure solution (EXPO, FOX, GSAS-II) starts.

Host-side NumPy and gemmi; every file written atomically.
"""

from __future__ import annotations

import math
import os
import re
import tarfile
import zipfile

import gemmi
import numpy as np

from difcon_jax.crystal.reduced_cell import cell_volume
from difcon_jax.crystal.structure import MAX_CIF_BYTES, atom_block
from difcon_jax.data.sources import read_archive_member
from difcon_jax.errors import InputError
from difcon_jax.files import atomic_write_text, read_user_file
from difcon_jax.grid import Grid
from difcon_jax.match.conditions import conditions_note
from difcon_jax.match.pattern_model import reflection_q
from difcon_jax.patterns.preprocess import convert_wavelength

_CELL_TAGS = ("_cell_length_a", "_cell_length_b", "_cell_length_c",
              "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma")


def value_with_su(v: float, s: float) -> str:
    """``4.98912(31)``: a value with its standard uncertainty in its last two digits (CIF notation)."""

    if not s > 0 or not math.isfinite(s):
        return f"{v:.4f}"
    digits = max(0, min(6, 1 - int(math.floor(math.log10(s)))))
    return f"{v:.{digits}f}({round(s * 10 ** digits):d})"


def two_theta_at(d: np.ndarray, wavelength: float) -> np.ndarray:
    """2θ (degrees) of spacings ``d`` (Å) at ``wavelength`` (Å); NaN where the wavelength cannot reach them."""
    s = wavelength / (2 * np.asarray(d, np.float64))
    return np.where(s < 1, 2 * np.degrees(np.arcsin(np.minimum(s, 1.0))), np.nan)


def _csv(header: list[str], columns: list[str], rows: list[str]) -> str:
    """Comment lines (#), the column names, the rows (already formatted)."""
    return "\n".join([f"# {h}" for h in header] + [",".join(columns)] + rows) + "\n"


def fit_table(r: dict) -> str:
    """``STEM.fit.csv`` text of one identify result ``r`` (the keys of :func:`~difcon_jax.match.identify.identify`,
    curves included): the measured range's grid points, one row each."""
    grid = Grid.from_dict(r["grid"])
    tt = grid.centres.astype(np.float64)
    keep = (r["_weight"] > 0) & (tt > 0)
    d = grid.lambda_ref / (2 * np.sin(np.radians(tt[keep] / 2)))
    y = np.asarray(r["_profile"], np.float64)[keep]
    model = np.asarray(r["_model"], np.float64)[keep] if r["phases"] else np.zeros_like(y)
    cols = [convert_wavelength(tt[keep], grid.lambda_ref, r["wavelength"])[0], d, tt[keep], y, model, y - model]
    cols += [np.asarray(m, np.float64)[keep] for m in r["_phase_models"]]
    names = ["two_theta", "d_spacing", "two_theta_grid", "observed", "calculated", "difference"]
    names += [f"phase_{k + 1}" for k in range(len(r["phases"]))]
    header = [f"difcon-jax identify: {os.path.basename(r['file'])}",
              f"two_theta: degrees at the file's wavelength {r['wavelength']:.5f} A; d_spacing: A; two_theta_grid: "
              f"degrees at {grid.lambda_ref} A (the model's grid)",
              "observed: the measured pattern as fitted (background removed, resampled onto the grid, maximum 1); "
              "calculated: the fit; phase_K: phase K's part of it"]
    header += [f"phase_{k + 1}: {p['name']} [{p['code']}]{conditions_note(p)} {p['formula']} "
               f"{p['space_group']['symbol']} "
               f"(#{p['space_group']['number']}), Rwp {p['rwp']:.4f}, {100 * p['weight_fraction']:.1f} wt%"
               for k, p in enumerate(r["phases"])]
    best = r.get("_best")  # with no match, the best candidate's fit is the evidence of why not (as --plot draws it)
    if best is not None:
        cols.append(np.asarray(best["_model"], np.float64)[keep])
        names.append("best_candidate")
        header.append(f"best_candidate: {best['name']} [{best['code']}] {best['space_group']['symbol']}, Rwp "
                      f"{best['rwp']:.4f}: fitted, but no match")
    if not r["phases"]:
        header.append("no phase of the library matched: calculated is zero")
    ix = r.get("_indexing")
    if ix is not None and "_model" in ix:  # a novel phase: the Pawley fit of its indexed cell
        cols.append(np.asarray(ix["_model"], np.float64)[keep])
        names.append("pawley")
        pw = ix["pawley"]
        header.append(f"pawley: the Pawley fit of the indexed cell ({ix['lattice']} {ix['centring']}) in "
                      f"{pw['space_group']['symbol']} (#{pw['space_group']['number']}), Rwp {pw['rwp']:.4f}"
                      + (f" over 2theta <= {pw['two_theta_max']:.2f} (grid)" if "two_theta_max" in pw else ""))
    fmt = ["{:.5f}", "{:.6f}", "{:.5f}"] + ["{:.6g}"] * (len(cols) - 3)  # angles to 1e-5°, d to 1e-6 Å
    return _csv(header, names, [",".join(f.format(v) for f, v in zip(fmt, row)) for row in np.stack(cols, axis=1)])


def reflection_table(r: dict, k: int) -> str:
    """``STEM.phaseK.hkl.csv`` text: phase ``k`` (0-based) of result ``r``, one row per stored reflection."""
    p = r["phases"][k]
    hkl = np.asarray(r["_hkl"][k], np.int64)
    d = 1 / np.sqrt(reflection_q(hkl, p["cell"]))
    f2m = np.asarray(r["_f2m"][k], np.float64)
    rows = np.column_stack([hkl, d, two_theta_at(d, r["wavelength"]), r["_ticks"][k], 100 * f2m / f2m.max()])
    rows = rows[np.argsort(-rows[:, 3], kind="stable")]  # by decreasing d, as reflection lists are read
    header = [f"{p['name']} [{p['code']}] {p['formula']} {p['space_group']['symbol']} (#{p['space_group']['number']}) "
              f"fitted to {os.path.basename(r['file'])}",
              "h k l: the reference's own setting; d_spacing: A, refined cell; two_theta: Bragg angle at the file's "
              f"wavelength {r['wavelength']:.5f} A; two_theta_fitted: the line as fitted on the model's grid (zero "
              "shift and displacement included); f2m_relative: |F|^2 x multiplicity, strongest = 100",
              f"the library keeps the {len(hkl)} strongest reflections of this reference"]
    names = ["h", "k", "l", "d_spacing", "two_theta", "two_theta_fitted", "f2m_relative"]
    return _csv(header, names, [f"{int(h)},{int(kk)},{int(l)},{dd:.6f},{t:.5f},{tf:.5f},{f:.3f}"
                                for h, kk, l, dd, t, tf, f in rows])


def _indexed_rows(r: dict) -> np.ndarray:
    """[P, 7] rows of the indexed cell's Pawley reflections (h, k, l, d Å, Bragg 2θ at the file's wavelength, the
    fitted line position on the grid, intensity relative to the strongest = 100), by decreasing d."""
    ix = r["_indexing"]
    hkl = np.asarray(ix["_hkl"], np.int64)
    d = 1 / np.sqrt(reflection_q(hkl, ix["pawley"]["cell"]))
    inten = np.asarray(ix["_intensities"], np.float64)
    rows = np.column_stack([hkl, d, two_theta_at(d, r["wavelength"]), ix["_ticks"],
                            100 * inten / max(float(inten.max()), 1e-30)])
    return rows[np.argsort(-rows[:, 3], kind="stable")]


def indexed_reflection_table(r: dict) -> str:
    """``STEM.indexed.hkl.csv`` text: the Pawley reflections of result ``r``'s indexed cell."""
    pw = r["_indexing"]["pawley"]
    header = [f"Pawley fit of the indexed cell of {os.path.basename(r['file'])} in {pw['space_group']['symbol']} "
              f"(#{pw['space_group']['number']}), Rwp {pw['rwp']:.4f}",
              "h k l: the space group's standard setting; d_spacing: A, refined cell; two_theta: Bragg angle at the "
              f"file's wavelength {r['wavelength']:.5f} A; two_theta_fitted: the line as fitted on the model's grid; "
              "intensity: extracted (free in the fit; reflections closer than a line width share theirs "
              "arbitrarily), strongest = 100"]
    names = ["h", "k", "l", "d_spacing", "two_theta", "two_theta_fitted", "intensity"]
    return _csv(header, names, [f"{int(h)},{int(k)},{int(l)},{d:.6f},{t:.5f},{tf:.5f},{i:.3f}"
                                for h, k, l, d, t, tf, i in _indexed_rows(r)])


def indexed_cif(r: dict) -> str:
    """``STEM.indexed.cif`` text: result ``r``'s indexed and Pawley-refined cell (standard uncertainties in the
    last digits) with the answer's space group and its operations (gemmi), no atoms, and the extracted intensities
    as a ``_refln`` loop."""
    ix, pw = r["_indexing"], r["_indexing"]["pawley"]
    sg = gemmi.find_spacegroup_by_number(int(pw["space_group"]["number"]))
    name = os.path.splitext(os.path.basename(r["file"]))[0] or "pattern"
    doc = gemmi.cif.Document()
    block = doc.add_new_block(re.sub(r"[^A-Za-z0-9_]", "_", f"{name}_indexed"))
    for tag, v, s in zip(_CELL_TAGS, pw["cell"], pw["cell_sigma"]):
        block.set_pair(tag, value_with_su(v, s))
    block.set_pair("_cell_volume", f"{float(cell_volume(pw['cell'])):.3f}")
    block.set_pair("_space_group_name_H-M_alt", gemmi.cif.quote(sg.hm))
    block.set_pair("_space_group_IT_number", str(sg.number))
    ops = block.init_loop("_space_group_symop_", ["operation_xyz"])
    for op in sg.operations():
        ops.add_row([gemmi.cif.quote(op.triplet())])
    refl = block.init_loop("_refln_", ["index_h", "index_k", "index_l", "d_spacing", "intensity_meas"])
    for h, k, l, d, _, _, i in _indexed_rows(r):
        refl.add_row([str(int(h)), str(int(k)), str(int(l)), f"{d:.6f}", f"{i:.3f}"])
    note = [f"# difcon-jax identify: {os.path.basename(r['file'])}: no library phase matched; cell indexed from the "
            f"peak positions ({ix['lattice']} {ix['centring']}, M20 {ix['m20']:.0f}, {ix['lines_indexed']} lines)",
            f"# Pawley fit in {pw['space_group']['symbol']}: Rwp {pw['rwp']:.4f}, reduced chi2 "
            f"{pw['reduced_chi2']:.3f}; no atoms (a cell, a space group hypothesis and extracted intensities)"]
    return "\n".join(note) + "\n" + doc.as_string()


def _strip_first(path: str) -> str | None:
    parts = path.replace("\\", "/").split("/", 1)
    return parts[1] if len(parts) == 2 else None


def find_reference_cif(source: str, roots) -> tuple[str, bytes] | None:
    """(path, bytes) of a library entry's own CIF (its ``source``: a path relative to the parent of the folder or
    archive it was built from, ``archive!member`` for archive members), looked for under each of ``roots`` as
    given and without its first component (a root naming the build folder itself), or a root that is the archive
    itself; None when none holds it."""
    path, _, member = source.partition("!")
    tries = [path] if os.path.isabs(path) else []
    for root in roots:
        if os.path.isfile(root) and os.path.basename(root) == os.path.basename(path):
            tries.append(root)
        tries += [os.path.join(root, p) for p in (path, _strip_first(path)) if p]
    for t in tries:
        if not os.path.isfile(t):
            continue
        try:
            raw = read_archive_member(t, member) if member else read_user_file(t, MAX_CIF_BYTES)
        except (InputError, KeyError, OSError, tarfile.TarError, zipfile.BadZipFile):
            continue
        return (f"{t}!{member}" if member else t), raw
    return None


def refined_cif(r: dict, k: int, where: str, raw: bytes) -> str:
    """The reference CIF ``raw`` (read from ``where``) of phase ``k`` of result ``r`` with its cell replaced by the
    refined one; atoms, symmetry and everything else as the reference gives them."""
    p = r["phases"][k]
    block = atom_block(raw.decode("utf-8-sig", errors="replace"), where)
    for tag, v, s in zip(_CELL_TAGS, p["cell"], p["cell_sigma"]):
        block.set_pair(tag, value_with_su(v, s))
    volume = float(cell_volume(p["cell"]))
    rho = block.find_value("_exptl_crystal_density_diffrn")  # the same atoms in the refined volume
    if rho is not None and math.isfinite(gemmi.cif.as_number(rho)):
        rho_new = gemmi.cif.as_number(rho) * float(cell_volume(p["reference_cell"])) / volume
        block.set_pair("_exptl_crystal_density_diffrn", f"{rho_new:.4f}")
    block.set_pair("_cell_volume", f"{volume:.3f}")
    note = [f"# difcon-jax identify: {p['name']} [{p['code']}] fitted to {os.path.basename(r['file'])}",
            f"# Rwp {p['rwp']:.4f} (over its own lines {p['rwp_lines']:.4f}), {100 * p['weight_fraction']:.1f} wt%; "
            f"cell refined from {' '.join(f'{v:g}' for v in p['reference_cell'])} (the reference's own setting)",
            f"# atoms, occupancies, displacement parameters and symmetry as in {where} (not refined)"]
    return "\n".join(note) + "\n" + block.as_string()


def _unique_stem(file: str, used: set) -> str:
    stem = os.path.splitext(os.path.basename(file))[0] or "pattern"
    out, n = stem, 2
    while out in used:
        out, n = f"{stem}_{n}", n + 1
    used.add(out)
    return out


def export_identifications(results: list[dict], folder: str, cif_dirs=()) -> tuple[list[str], list[str]]:
    """Write every result's evidence files into ``folder`` (created if needed); returns (paths written, notes):
    a note names each matched phase whose reference CIF was not found (its fit and reflections are still written)."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:  # a file in the way, no permission: one line naming the folder
        raise InputError(folder, f"cannot make the export folder ({e.strerror or e})") from None
    written, notes, used = [], [], set()
    for r in results:
        stem = _unique_stem(r["file"], used)
        written.append(atomic_write_text(os.path.join(folder, f"{stem}.fit.csv"), fit_table(r)))
        ix = r.get("_indexing")
        if ix is not None and "_hkl" in ix:
            written.append(atomic_write_text(os.path.join(folder, f"{stem}.indexed.hkl.csv"),
                                             indexed_reflection_table(r)))
            written.append(atomic_write_text(os.path.join(folder, f"{stem}.indexed.cif"), indexed_cif(r)))
        for k, p in enumerate(r["phases"]):
            base = os.path.join(folder, f"{stem}.phase{k + 1}")
            written.append(atomic_write_text(f"{base}.hkl.csv", reflection_table(r, k)))
            found = find_reference_cif(p["source"], list(cif_dirs) + list(r.get("_reference_roots", ())))
            if found is None:
                notes.append(f"{r['file']}: phase {k + 1} {p['name']} [{p['code']}]: its CIF ({p['source']}) was not "
                             "found, no refined CIF written (give the folder with --cif-dir)")
                continue
            try:
                written.append(atomic_write_text(f"{base}.cif", refined_cif(r, k, *found)))
            except InputError as e:
                notes.append(f"{r['file']}: phase {k + 1} {p['name']}: {e}")
    return written, notes

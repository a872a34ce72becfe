"""The conditions a reference structure was determined at, read from its CIF, and the search's preference for the
entries determined at ambient conditions (host side, NumPy).

A laboratory powder pattern is measured at room temperature and pressure. AMCSD holds many minerals several times:
at ambient conditions and along temperature or pressure series, some of them across a phase transition (covellite
P6₃/mmc at 295 K, Cmcm at 8 K; wüstite Fm-3m at 298 K, R-3 at 12 K and C2/m at 10 K). A low-symmetry entry of the
same phase fits an ambient pattern at least as well (it has more free cell parameters and its distortion is below
the profile's width), so without a preference the answer drifts to the non-ambient group. Search-match programs
offer the same choice (the ICDD PDF's "ambient" subfile). Here an entry determined away from ambient conditions is
left out of the search when the library holds ambient entries of the same name and none of them has its space
group: a polymorph other than the room-temperature one (``identify --non-ambient`` keeps all). A non-ambient entry
of the ambient phase's own group stays — the same phase with a cell a few per cent off, which a solid solution's
strained cell may fit best (the answer names it with its conditions) — and so does a phase known only at high
pressure or temperature.

Where the conditions come from: the CIF's ``_diffrn_ambient_temperature`` / ``_cell_measurement_temperature`` (K)
and ``_diffrn_ambient_pressure`` / ``_cell_measurement_pressure`` (kPa), else AMCSD's notes in
``_publ_section_title`` ("Sample: T = 8 K", "Note: T = 300 C", "Sample: P = 18 kbar"); a temperature of a
sample's preparation, annealing or quench ("quenched from T = 300 C") is not a measurement's. Unknown = NaN,
taken as ambient (most structures are determined at room conditions and say nothing).
"""

from __future__ import annotations

import re

import gemmi
import numpy as np

#: a measurement between these temperatures (K) is at room temperature
AMBIENT_T_K = (270.0, 320.0)
#: ... and at most this pressure (GPa; 100 bar: a volume strain of a few 10⁻⁴ at most in a mineral's cell)
AMBIENT_P_GPA = 0.01

_NUMBER = r"(-?\d*\.?\d+)"
_T_RE = re.compile(r"\bT\s*=\s*" + _NUMBER + r"\s*(?:°|deg(?:rees?)?\.?)?\s*(K|C)(?![A-Za-z])")
_P_RE = re.compile(r"\b[Pp]\s*=\s*" + _NUMBER + r"\s*(GPa|Gpa|kbar|MPa|kPa|bar|atm)\b")
_P_UNITS_GPA = {"gpa": 1.0, "kbar": 0.1, "mpa": 1e-3, "kpa": 1e-6, "bar": 1e-4, "atm": 1.01325e-4}
#: a temperature after these words (on the same line) is the sample's history, not the measurement's
_HISTORY = re.compile(r"prepar|anneal|quench|synthes|grown|heated to|formed", re.I)

_T_TAGS = ("_diffrn_ambient_temperature", "_cell_measurement_temperature")
_P_TAGS = ("_diffrn_ambient_pressure", "_cell_measurement_pressure")


def _in_measurement_clause(text: str, start: int) -> bool:
    clause = re.split(r"[;\n]", text[:start])[-1]
    return not _HISTORY.search(clause)


def conditions_from_notes(text: str) -> tuple[float, float]:
    """(temperature K, pressure GPa) written in free text such as AMCSD's title notes; NaN where not given."""
    t = p = float("nan")
    for m in _T_RE.finditer(text):
        if _in_measurement_clause(text, m.start()):
            t = float(m.group(1)) + (273.15 if m.group(2) == "C" else 0.0)
            break
    for m in _P_RE.finditer(text):
        if _in_measurement_clause(text, m.start()):
            p = float(m.group(1)) * _P_UNITS_GPA[m.group(2).lower()]
            break
    return t, p


def conditions_from_cif(block) -> tuple[float, float]:
    """(temperature K, pressure GPa) of a gemmi CIF block: its diffraction tags first, then its title's notes."""
    def number(tags):
        for tag in tags:
            v = block.find_value(tag)
            if v not in (None, "?", "."):
                x = gemmi.cif.as_number(v)
                if np.isfinite(x):
                    return float(x)
        return float("nan")

    t, p = number(_T_TAGS), number(_P_TAGS)
    p = p * 1e-6 if np.isfinite(p) else p  # CIF pressures are in kPa
    title = block.find_value("_publ_section_title")
    if title not in (None, "?", ".") and not (np.isfinite(t) and np.isfinite(p)):
        nt, np_ = conditions_from_notes(gemmi.cif.as_string(title))
        t = t if np.isfinite(t) else nt
        p = p if np.isfinite(p) else np_
    return t, p


def is_ambient(conditions: np.ndarray) -> np.ndarray:
    """bool[N]: entries (conditions float[N, 2]: K, GPa; NaN unknown) determined at room temperature and pressure,
    or with nothing said."""
    c = np.asarray(conditions, np.float64)
    t, p = c[:, 0], c[:, 1]
    with np.errstate(invalid="ignore"):
        away = (t < AMBIENT_T_K[0]) | (t > AMBIENT_T_K[1]) | (p > AMBIENT_P_GPA)
    return ~away


def ambient_preferred(names: np.ndarray, conditions: np.ndarray, space_groups: np.ndarray) -> np.ndarray:
    """bool[N]: the entries the search takes by default — every ambient entry, and a non-ambient one unless ambient
    entries of its name (compared without case) exist and none has its space group (int[N], 1–230)."""
    amb = is_ambient(conditions)
    if amb.all():  # a library that says nothing of conditions (Materials Project, user CIFs)
        return amb
    keys = [str(n).casefold() for n in names]
    groups: dict[str, set] = {}
    for k, a, g in zip(keys, amb, np.asarray(space_groups).tolist()):
        if a:
            groups.setdefault(k, set()).add(g)
    other_polymorph = (k in groups and g not in groups[k] for k, g in zip(keys, np.asarray(space_groups).tolist()))
    return amb | ~np.fromiter(other_polymorph, bool, len(keys))


def describe(conditions) -> str:
    """'8 K', '18 GPa', '873 K, 4.5 GPa' for a non-ambient entry; '' otherwise (printed beside the phase)."""
    t, p = (float(v) for v in conditions)
    if is_ambient(np.array([[t, p]]))[0]:
        return ""
    parts = []
    if np.isfinite(t) and not AMBIENT_T_K[0] <= t <= AMBIENT_T_K[1]:
        parts.append(f"{t:.0f} K")
    if np.isfinite(p) and p > AMBIENT_P_GPA:
        parts.append(f"{p:.3g} GPa")
    return ", ".join(parts)


def conditions_note(phase: dict) -> str:
    """' (determined at 8 K)' after a phase record's name when its entry is non-ambient, '' otherwise (the text
    output and the exported fit's header)."""
    return f" (determined at {phase['determined_at']})" if phase.get("determined_at") else ""

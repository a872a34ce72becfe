"""Reading measured powder patterns: two/three-column text (.xy, .xye, .csv, .dat, .txt, RRUFF) here, and
the instrument formats (Bruker .raw/.brml/.uxd, Rigaku .rasx/.ras, PANalytical .xrdml, GSAS) through
geddes in :mod:`difcon_jax.patterns.vendor`.

The text reader is our own because measured text files carry what generic readers drop: a wavelength in a
header line (RRUFF), a stray malformed line to skip and report rather than fail on.

Every problem is an :class:`InputError` whose text names the file and the problem in one line.
"""

from __future__ import annotations

import dataclasses
import os
import re

import numpy as np

from difcon_jax.crystal.radiation import WAVELENGTHS
from difcon_jax.errors import InputError
from difcon_jax.files import read_user_file
from difcon_jax.patterns.vendor import FORMATS, read_vendor

MAX_BYTES = 200 * 1024 * 1024
MAX_POINTS = 1_000_000
MIN_POINTS = 20
#: how far below zero a pattern may dip, as a share of its maximum: a background-subtracted export carries the
#: counting noise of the subtracted background around zero; a difference curve or a wrong column dips about as far
#: as it rises
NEGATIVE_SHARE = 0.25
_WAVELENGTH_RE = re.compile(r"(?:wavelength|lambda|λ)\s*(?:\(?[AÅ]\)?)?\s*[=:]?\s*([0-9]+\.[0-9]+)", re.I)


@dataclasses.dataclass(frozen=True)
class Measured:
    """two_theta (degrees, strictly increasing), intensity (counts, ≥ 0), wavelength (Å) and where it came
    from: 'file', 'argument' or 'default' (the caller warns loudly about the last)."""

    two_theta: np.ndarray
    intensity: np.ndarray
    wavelength: float
    wavelength_source: str
    source: str
    skipped_lines: tuple[int, ...] = ()  # 1-based numbers of malformed data lines that were dropped
    scans: int = 1  # scans/ranges in the file; the first is read
    # counts added to every point of a background-subtracted file so that its noise below zero is ≥ 0 (a constant:
    # the background removal takes it away again); the caller reports it
    offset: float = 0.0


def _validate(path, tt, y) -> tuple[np.ndarray, np.ndarray, float]:
    """(2θ increasing, intensity ≥ 0, the offset added to lift a background-subtracted file's noise to ≥ 0)."""
    if len(tt) < MIN_POINTS:
        raise InputError(path, f"only {len(tt)} data points (need at least {MIN_POINTS})")
    if len(tt) > MAX_POINTS:
        raise InputError(path, f"{len(tt)} data points exceed the limit of {MAX_POINTS}")
    if not (np.all(np.isfinite(tt)) and np.all(np.isfinite(y))):
        raise InputError(path, "non-finite values (NaN or inf) in the data")
    d = np.diff(tt)
    if np.all(d < 0):  # written from the high angle down (some exports): the same pattern
        tt, y, d = tt[::-1], y[::-1], -d[::-1]
    if np.any(d == 0):
        raise InputError(path, f"duplicate 2θ values (first at {tt[1:][d == 0][0]:g}°)")
    if np.any(d < 0):
        raise InputError(path, "2θ values are not increasing")
    if tt[0] < 0 or tt[-1] > 180:
        raise InputError(path, f"2θ range {tt[0]:g}–{tt[-1]:g}° is outside 0–180°")
    if np.max(y) <= 0:
        raise InputError(path, "all intensities are zero" if np.min(y) == 0 else
                         f"no positive intensities (minimum {np.min(y):g}); expected counts")
    offset = 0.0
    if np.min(y) < 0:
        if -np.min(y) > NEGATIVE_SHARE * np.max(y):
            raise InputError(path, f"negative intensities down to {np.min(y):g} against a maximum of {np.max(y):g}; "
                             f"expected counts (a background-subtracted pattern may dip below zero by its noise, "
                             f"not by more than {100 * NEGATIVE_SHARE:g} % of its maximum)")
        offset = float(-np.min(y))
    return tt.astype(np.float64), y.astype(np.float64) + offset, offset


_COMMA_NUMBER = re.compile(r"[+-]?\d+(,\d*)?([eE][+-]?\d+)?")


def _decimal_comma(lines: list[str]) -> bool:
    """Whether the data lines write decimal commas ('10,02 1234,5' or '10,02;1234,5', as European locales
    export): judged on the first 200 lines that start like a number, all of which must read that way."""
    data = [s for s in (ln.strip() for ln in lines) if re.match(r"[+-]?\d", s)][:200]
    if not data:
        return False
    with_comma = 0
    for s in data:
        tokens = [t for t in re.split(r"[\s;]+", s) if t]
        if len(tokens) < 2 or not all(_COMMA_NUMBER.fullmatch(t) for t in tokens[:2]):
            return False
        with_comma += any("," in t for t in tokens[:2])
    return with_comma > 0.5 * len(data)


def text_encoding(raw: bytes) -> str:
    """The encoding of a text file's bytes: UTF-16/32 by their byte-order mark, UTF-16 without one by its
    zero bytes (every other byte of ASCII text; Windows software writes such exports), else UTF-8 (a UTF-8
    byte-order mark dropped)."""
    for bom, name in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
                      (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            return name
    head = raw[:4096]
    if len(head) >= 8:
        odd, even = head[1::2], head[0::2]
        if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    return "utf-8-sig"


def _read_text(path: str, raw: bytes):
    encoding = text_encoding(raw)
    if encoding != "utf-8-sig":
        try:
            raw = raw.decode(encoding).encode("utf-8")
        except UnicodeDecodeError:
            raise InputError(path, f"looks like {encoding.upper()} text but does not decode as it") from None
    if b"\x00" in raw[:65536]:
        raise InputError(path, "binary file, not a text pattern")
    if raw.count(b"\n") > MAX_POINTS + 10_000:  # refuse before parsing millions of lines
        raise InputError(path, f"more than {MAX_POINTS} data lines; not a single powder pattern")
    text = raw.decode("utf-8-sig", errors="replace")
    if text.count("\ufffd") > 0.01 * max(1, len(text)):
        raise InputError(path, "binary or non-text content (not UTF-8 or UTF-16 text)")
    lines = text.splitlines()
    comma = _decimal_comma(lines)
    rows, header, bad = [], [], []
    for number, line in enumerate(lines, 1):
        s = line.strip()
        if not s:
            continue
        parts = re.split(r"[\s;]+", s.replace(",", ".")) if comma else re.split(r"[\s,;]+", s)
        try:
            vals = [float(p) for p in parts[:3] if p != ""]
        except ValueError:
            if not rows:
                header.append(s)
                continue
            if s[0] in "#!;/":  # trailing comment
                continue
            bad.append(number)
            continue
        if len(vals) < 2:
            bad.append(number)
            continue
        rows.append(vals[:2])
    if not rows:
        if bad:
            raise InputError(path, "one column only; expected 2θ and intensity columns")
        raise InputError(path, "no numeric data" if header else "empty file")
    # a stray malformed line (a lost separator, a truncated write) is dropped and reported; more is an error
    if len(bad) > max(2, 0.01 * len(rows)):
        raise InputError(path, f"{len(bad)} malformed data lines (first: line {bad[0]}); expected 2θ and intensity")
    arr = np.asarray(rows, dtype=np.float64)
    lam = None
    for h in header:
        m = _WAVELENGTH_RE.search(h)
        if m:
            lam = float(m.group(1))
            break
    return arr[:, 0], arr[:, 1], lam, tuple(bad)


def read_pattern(path: str, wavelength: float | None = None, default_wavelength: float = WAVELENGTHS["CuKa"]) -> Measured:
    """Read a measured pattern. Wavelength precedence: the file's metadata, then ``wavelength``, then
    ``default_wavelength`` (reported as 'default' so the caller can warn)."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    raw = read_user_file(path, MAX_BYTES)
    if ext in FORMATS or raw.lstrip()[:5] == b"<?xml":
        tt, y, lam_file, scans = read_vendor(path, raw, ext)
        bad = ()
    else:
        tt, y, lam_file, bad = _read_text(path, raw)
        scans = 1
    tt, y, offset = _validate(path, tt, y)
    if lam_file is not None and 0.1 < lam_file < 5:
        return Measured(tt, y, lam_file, "file", path, bad, scans, offset)
    if wavelength is not None:
        return Measured(tt, y, float(wavelength), "argument", path, bad, scans, offset)
    return Measured(tt, y, float(default_wavelength), "default", path, bad, scans, offset)

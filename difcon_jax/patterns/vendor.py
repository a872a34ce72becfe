"""Instrument formats: Bruker .raw (RAW3/RAW4), .brml and .uxd; Rigaku .rasx and .ras; PANalytical .xrdml;
GSAS .gsa/.gsas/.fxye.

The arrays come from **geddes** (PyPI, Rust, MIT, maintained): it decodes each format's declared layout,
bounds every record and archive member, refuses non-2θ scans and XML document types, and applies XRDML
attenuation factors. geddes reports no wavelength, so this module reads the tube's Kα lines from the
metadata fields each vendor documents (Bruker RAW3: DIFFRAC^plus XCH V5.0 appendix A, file header bytes
616–655; RAW4: the type-30 hardware segment; BRML ``WaveLengthAlpha1/2/Ratio``; RASX
``WavelengthKalpha1/2``; RAS ``*HW_XG_WAVE_LENGTH_ALPHA1/2``; UXD ``_WL1/_WL2/_WLRATIO``; XRDML
``usedWavelength``). Metadata reading never raises: a field that is absent or implausible gives ``None``,
and the caller falls back to ``--wavelength`` or, loudly, to Cu.

The wavelength returned is the Kα mean (α1 + r·α2)/(1 + r), the quantity the model's 2θ axis is built on
(λ = 1.5418 Å for Cu).
"""

from __future__ import annotations

import io
import re
import struct
import xml.etree.ElementTree as ET
import zipfile

import numpy as np

from difcon_jax.crystal.radiation import KA2_RATIO, WAVELENGTHS
from difcon_jax.errors import InputError

FORMATS = {
    ".raw": "Bruker RAW", ".brml": "Bruker BRML", ".uxd": "Bruker UXD", ".rasx": "Rigaku RASX",
    ".ras": "Rigaku RAS", ".xrdml": "PANalytical XRDML", ".gsa": "GSAS", ".gsas": "GSAS", ".fxye": "GSAS",
}
MAX_MEMBER_BYTES = 256 * 1024 * 1024  # the same bound geddes puts on an archive member


def read_vendor(path: str, raw: bytes, ext: str) -> tuple[np.ndarray, np.ndarray, float | None, int]:
    """(2θ degrees, counts, Kα-mean wavelength in Å or None, number of scans) of the first scan in an
    instrument file; the caller says so when there are more (ranges of a RAW file, scans of an XRDML)."""
    fmt = FORMATS.get(ext, "PANalytical XRDML")
    try:
        import geddes  # the Rust extension is loaded only when an instrument file is read
    except ImportError:
        raise InputError(path, f"reading {fmt} files needs the geddes package (pip install geddes)") from None
    hint = "pattern" + (ext if ext in FORMATS else ".xrdml")
    try:
        pattern = geddes.read_bytes(raw, hint)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - a Rust panic surfaces as a BaseException subclass
        message = " ".join(str(e).split()) or type(e).__name__
        raise InputError(path, f"not a readable {fmt} file ({message})") from None
    tt = np.asarray(pattern.x, dtype=np.float64)
    y = np.asarray(pattern.y, dtype=np.float64)
    return tt, y, wavelength_from_metadata(raw, ext), _count_scans(geddes, raw, hint)


def _count_scans(geddes, raw: bytes, hint: str, limit: int = 64) -> int:
    """How many scans geddes can read (at most ``limit``): index 1, 2, ... until one is refused."""
    n = 1
    while n < limit:
        try:
            geddes.read_bytes(raw, hint, index=n)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - out of range (or unreadable): no further scan
            break
        n += 1
    return n


def kalpha_mean(a1, a2=None, ratio=None) -> float | None:
    """Intensity-weighted Kα mean (Å) from a file's Kα1, Kα2 and Kα2/Kα1 ratio; None when implausible.

    A missing Kα2 means a monochromated Kα1 beam; a missing ratio is the natural 0.5."""
    try:
        a1 = float(a1)
        a2 = a1 if a2 in (None, "") or float(a2) <= 0 else float(a2)
        r = KA2_RATIO if ratio in (None, "") or not 0 <= float(ratio) <= 1 else float(ratio)
    except (TypeError, ValueError):
        return None
    lam = (a1 + r * a2) / (1 + r)
    if not (np.isfinite(lam) and 0.1 < lam < 5 and abs(a2 - a1) < 0.05 * a1):
        return None
    return float(lam)


def _anode(name: bytes | str) -> float | None:
    symbol = (name.decode("ascii", "ignore") if isinstance(name, bytes) else name).strip("\x00 ").title()
    return WAVELENGTHS.get(f"{symbol}Ka")


def _raw_wavelength(raw: bytes) -> float | None:
    """RAW3: file header 616 (mean), 624 (α1), 632 (α2), 648 (ratio), 608 (anode). RAW4: hardware segment
    (type 30) +72 mean, +80 α1, +88 α2, +104 ratio, +116 anode; segments follow the 61-byte header."""
    fields = None
    if raw.startswith(b"RAW1.01") and len(raw) >= 712:
        mean, a1, a2, _, ratio = struct.unpack_from("<5d", raw, 616)
        fields = (mean, a1, a2, ratio, raw[608:612])
    elif raw.startswith(b"RAW4.00"):
        at = 61
        for _ in range(4096):  # metadata segments until the first range (type 0 or 160)
            if at + 8 > len(raw):
                break
            kind, length = struct.unpack_from("<II", raw, at)
            if kind in (0, 160) or length < 8:
                break
            if kind == 30 and length >= 120 and at + 120 <= len(raw):
                mean, a1, a2, _, ratio = struct.unpack_from("<5d", raw, at + 72)
                fields = (mean, a1, a2, ratio, raw[at + 116:at + 120])
                break
            at += length
    if fields is None:
        return None
    mean, a1, a2, ratio, anode = fields
    return kalpha_mean(a1, a2, ratio) or kalpha_mean(mean) or _anode(anode)


def _members(raw: bytes, pattern: str) -> list[bytes]:
    out = []
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for info in z.infolist():
            if re.search(pattern, info.filename) and info.file_size <= MAX_MEMBER_BYTES:
                out.append(z.read(info))
    return out


def _xml(blob: bytes):
    if b"<!DOCTYPE" in blob or b"<!ENTITY" in blob:  # no entity expansion from user files
        raise ValueError("XML document type declarations are not read")
    root = ET.fromstring(blob)
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def _first(root, tag: str, attr: str | None = None):
    el = root.find(f".//{tag}")
    if el is None:
        return None
    return el.get(attr) if attr else (el.text or "").strip()


def _brml_wavelength(raw: bytes) -> float | None:
    for blob in _members(raw, r"RawData\d*\.xml$"):
        root = _xml(blob)
        a1 = _first(root, "WaveLengthAlpha1", "Value")
        if a1 is not None:
            return kalpha_mean(a1, _first(root, "WaveLengthAlpha2", "Value"),
                               _first(root, "WaveLengthRatio", "Value"))
        if _first(root, "TubeMaterial"):
            return _anode(_first(root, "TubeMaterial"))
    return None


def _rasx_wavelength(raw: bytes) -> float | None:
    for blob in _members(raw, r"Me(?:a)?surementConditions\d*\.xml$"):  # Rigaku spells it "Mesurement"
        root = _xml(blob)
        a1 = _first(root, "WavelengthKalpha1")
        if a1:
            return kalpha_mean(a1, _first(root, "WavelengthKalpha2"))
        if _first(root, "TargetName"):
            return _anode(_first(root, "TargetName"))
    return None


def _text_field(text: str, key: str) -> str | None:
    m = re.search(rf"^\s*{key}\s*[= ]\s*\"?([-+0-9.eE]+)", text, re.M)
    return m.group(1) if m else None


def _ras_wavelength(raw: bytes) -> float | None:
    head = raw[:65536].decode("latin-1")
    a1 = _text_field(head, r"\*HW_XG_WAVE_LENGTH_ALPHA1")
    return kalpha_mean(a1, _text_field(head, r"\*HW_XG_WAVE_LENGTH_ALPHA2")) if a1 else None


def _uxd_wavelength(raw: bytes) -> float | None:
    head = raw[:65536].decode("latin-1")
    a1 = _text_field(head, "_WL1")
    return kalpha_mean(a1, _text_field(head, "_WL2"), _text_field(head, "_WLRATIO")) if a1 else None


def _xrdml_wavelength(raw: bytes) -> float | None:
    root = _xml(raw)
    if root.find(".//usedWavelength") is None:
        return None
    return kalpha_mean(_first(root, "usedWavelength/kAlpha1"), _first(root, "usedWavelength/kAlpha2"),
                       _first(root, "usedWavelength/ratioKAlpha2KAlpha1"))


_METADATA = {".raw": _raw_wavelength, ".brml": _brml_wavelength, ".rasx": _rasx_wavelength,
             ".ras": _ras_wavelength, ".uxd": _uxd_wavelength, ".xrdml": _xrdml_wavelength}


def wavelength_from_metadata(raw: bytes, ext: str) -> float | None:
    """The file's Kα-mean wavelength (Å), or None when its metadata has none (GSAS never does)."""
    # an XML file under another extension was sniffed as XRDML by the caller
    reader = _METADATA.get(ext) if ext in FORMATS else _xrdml_wavelength
    if reader is None:
        return None
    try:
        return reader(raw)
    except (ET.ParseError, zipfile.BadZipFile, struct.error, ValueError, OSError, EOFError):
        return None

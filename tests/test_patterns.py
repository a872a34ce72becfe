"""Measured-pattern input: formats, wavelength handling, conversion, and one-line errors for bad files."""

import numpy as np
import pytest

from difcon_jax.errors import InputError
from difcon_jax.patterns import read_pattern, to_model_input
from difcon_jax.patterns.preprocess import convert_wavelength

XRDML = """<?xml version="1.0" encoding="UTF-8"?>
<xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/1.5">
 <xrdMeasurement measurementType="Scan">
  <usedWavelength intended="K-Alpha 1">
   <kAlpha1 unit="Angstrom">0.7093</kAlpha1><kAlpha2 unit="Angstrom">0.71359</kAlpha2>
   <ratioKAlpha2KAlpha1>0.5</ratioKAlpha2KAlpha1>
  </usedWavelength>
  <scan><dataPoints>
   <positions axis="2Theta" unit="deg"><startPosition>5.0</startPosition><endPosition>44.95</endPosition></positions>
   <commonCountingTime unit="seconds">1.0</commonCountingTime>
   <counts unit="counts">{counts}</counts>
  </dataPoints></scan>
 </xrdMeasurement>
</xrdMeasurements>
"""


def _peaks(x, centres):
    return 10 + sum(1000 * np.exp(-0.5 * ((x - c) / 0.05) ** 2) for c in centres)


def test_text_formats_and_wavelength_header(tmp_path):
    x = np.arange(10, 80, 0.02)
    y = _peaks(x, [20, 30, 45])
    f = tmp_path / "a.xye"
    f.write_text("# sample A\n# Wavelength = 1.5406\n2theta intensity esd\n" +
                 "\n".join(f"{a:.3f} {b:.2f} {np.sqrt(b):.2f}" for a, b in zip(x, y)))
    m = read_pattern(f)
    assert m.wavelength == pytest.approx(1.5406) and m.wavelength_source == "file" and len(m.two_theta) == len(x)
    g = tmp_path / "b.csv"
    g.write_text("2theta,counts\n" + "\n".join(f"{a},{b}" for a, b in zip(x, y)))
    assert read_pattern(g, wavelength=1.79).wavelength_source == "argument"
    assert read_pattern(g).wavelength_source == "default"


def test_a_stray_malformed_line_is_dropped_and_reported(tmp_path):
    x = np.arange(10, 80, 0.05)
    lines = [f"{a:.3f} {b:.1f}" for a, b in zip(x, _peaks(x, [30]))]
    lines[84] = "14.11851260"  # a lost separator, as in one of the shared thin-film files
    f = tmp_path / "d.xy"
    f.write_text("\r\n".join(lines))
    m = read_pattern(f)
    assert m.skipped_lines == (85,) and len(m.two_theta) == len(x) - 1
    lines[10:40] = ["7"] * 30
    f.write_text("\n".join(lines))
    with pytest.raises(InputError, match="malformed data lines"):
        read_pattern(f)


def test_xrdml_and_wavelength_conversion(tmp_path):
    lam_mo = (0.7093 + 0.5 * 0.71359) / 1.5
    d = 2.0
    tt_mo = 2 * np.degrees(np.arcsin(lam_mo / (2 * d)))
    x = np.linspace(5.0, 44.95, 800)
    f = tmp_path / "scan.xrdml"
    f.write_text(XRDML.format(counts=" ".join(f"{v:.1f}" for v in _peaks(x, [tt_mo]))))
    m = read_pattern(f)
    assert m.wavelength == pytest.approx(lam_mo) and m.wavelength_source == "file"
    prof = to_model_input(m)
    tt_cu = 2 * np.degrees(np.arcsin(1.54184 / (2 * d)))
    x_cu = (np.arange(12000) + 0.5) * 0.01
    win = np.abs(x_cu - x_cu[np.argmax(prof)]) < 0.5
    centroid = (x_cu[win] * prof[win]).sum() / prof[win].sum()
    assert abs(centroid - tt_cu) < 0.02  # the peak lands at the Cu angle of d = 2 Å
    tt, ok = convert_wavelength(np.array([150.0]), 1.54184, 0.7)
    assert not ok[0] or tt[0] < 150


def test_model_input_range_background_and_normalisation(tmp_path):
    x = np.arange(20, 60, 0.05)
    y = 200 + 2 * x + _peaks(x, [25, 40]) - 10
    f = tmp_path / "c.xy"
    f.write_text("\n".join(f"{a} {b}" for a, b in zip(x, y)))
    prof = to_model_input(read_pattern(f))
    assert prof.shape == (12000,) and prof.max() == pytest.approx(1.0)
    assert prof[:1990].max() == 0 and prof[6010:].max() == 0  # outside the measured range: zero-padded
    assert np.median(prof[2100:2400]) < 0.02  # sloped background removed between the peaks


BAD = {
    "empty.xy": (b"", "empty file"),
    "onecol.xy": (b"1\n2\n3\n", "one column"),
    "text.xy": (b"no numbers here\nat all\n", "no numeric data"),
    "nan.xy": ("\n".join(f"{i} {'nan' if i == 5 else i}" for i in range(40)).encode(), "non-finite"),
    "desc.xy": ("\n".join(f"{40 - i} 1" for i in range(40)).encode(), "not increasing"),
    "dup.xy": ("\n".join(f"{max(i, 1)} 1" for i in range(40)).encode(), "duplicate"),
    "neg.xy": ("\n".join(f"{i} {i - 20}" for i in range(40)).encode(), "negative"),
    "junk.xy": (bytes(range(256)) * 20, "binary"),
    "huge.xy": (b"1 1\n" * 1_020_000, "more than"),
    "scan.raw": (b"RAW4.00", "not supported"),
    "bad.xrdml": (b"<?xml version='1.0'?><a><b></a>", "not valid XRDML"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_give_one_line(tmp_path, name):
    content, expected = BAD[name]
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_pattern(f)
    msg = str(info.value)
    assert msg.startswith(str(f)) and expected in msg and "\n" not in msg

"""Measured-pattern input: formats, wavelength handling, conversion, and one-line errors for bad files."""

import numpy as np
import pytest

from difcon_jax.errors import InputError
from difcon_jax.patterns import read_pattern, to_model_input
from difcon_jax.patterns.preprocess import convert_wavelength
from difcon_jax.patterns.vendor import kalpha_mean
from tests.helpers import vendor_files

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
    scan = XRDML[XRDML.index("  <scan>"):XRDML.index("</scan>") + len("</scan>")]
    second = scan.replace("<startPosition>5.0<", "<startPosition>50.0<").replace("44.95<", "89.95<")
    f.write_text(XRDML.replace(scan, scan + "\n" + second).format(counts=" ".join(["7"] * 800)))
    m2 = read_pattern(f)  # two scans: the first is read and the count reported (predict warns)
    assert m2.scans == 2 and m2.two_theta[0] == 5.0 and m2.two_theta[-1] == pytest.approx(44.95)
    tt, ok = convert_wavelength(np.array([150.0]), 1.54184, 0.7)
    assert not ok[0] or tt[0] < 150


# (writer, extension, Kα1, Kα2, ratio): one tube per format, so a wrong field cannot pass by coincidence
VENDOR_CASES = {
    "bruker_raw3": (vendor_files.bruker_raw3, ".raw", 1.540598, 1.544426, 0.5),
    "bruker_raw4": (vendor_files.bruker_raw4, ".raw", 0.709319, 0.713609, 0.52),
    "bruker_brml": (vendor_files.bruker_brml, ".brml", 1.788996, 1.792850, 0.5),
    "rigaku_rasx": (vendor_files.rigaku_rasx, ".rasx", 2.289760, 2.293663, None),
    "rigaku_ras": (vendor_files.rigaku_ras, ".ras", 0.559420, 0.563813, None),
    "bruker_uxd": (vendor_files.bruker_uxd, ".uxd", 1.936046, 1.939980, 0.48),
}


@pytest.mark.parametrize("case", sorted(VENDOR_CASES))
def test_instrument_formats_read_data_and_wavelength(tmp_path, case):
    writer, ext, a1, a2, ratio = VENDOR_CASES[case]
    lam = (a1 + (0.5 if ratio is None else ratio) * a2) / (1.5 if ratio is None else 1 + ratio)
    d = 2.5  # Å: one reflection, placed at this tube's angle
    tt = 2 * np.degrees(np.arcsin(lam / (2 * d)))
    x = np.round(np.arange(max(2.0, tt - 15), tt + 15, 0.02), 4)
    y = np.round(_peaks(x, [tt]), 1)
    args = (x, y, a1, a2) if ratio is None else (x, y, a1, a2, ratio)
    f = tmp_path / f"scan{ext}"
    f.write_bytes(writer(*args))
    m = read_pattern(f, wavelength=1.0)  # the file's own wavelength wins over the argument
    np.testing.assert_allclose(m.two_theta, x, atol=1e-9)
    np.testing.assert_allclose(m.intensity, y, rtol=1e-6)
    assert m.wavelength_source == "file" and m.wavelength == pytest.approx(lam, abs=1e-6) and m.scans == 1
    prof = to_model_input(m)
    x_cu = (np.arange(12000) + 0.5) * 0.01
    assert abs(x_cu[np.argmax(prof)] - 2 * np.degrees(np.arcsin(1.54184 / (2 * d)))) < 0.03


def test_instrument_file_without_wavelength_falls_back(tmp_path):
    raw = bytearray(vendor_files.bruker_raw3(np.arange(10, 30, 0.05), np.full(400, 5.0), 0.0, 0.0, anode=b""))
    f = tmp_path / "nolambda.raw"
    f.write_bytes(bytes(raw))
    assert read_pattern(f).wavelength_source == "default"
    assert read_pattern(f, wavelength=0.7093).wavelength_source == "argument"
    raw[608:610] = b"Co"  # wavelengths zero but the anode named: its tabulated Kα mean
    f.write_bytes(bytes(raw))
    m = read_pattern(f)
    assert m.wavelength_source == "file" and m.wavelength == pytest.approx(1.79026)
    assert kalpha_mean(1.5406, 1.5444) == pytest.approx((1.5406 + 0.5 * 1.5444) / 1.5)
    assert kalpha_mean(1.5406) == pytest.approx(1.5406) and kalpha_mean(9.0) is None and kalpha_mean("x") is None


def test_model_input_range_background_and_normalisation(tmp_path):
    x = np.arange(20, 60, 0.05)
    y = 200 + 2 * x + _peaks(x, [25, 40]) - 10
    f = tmp_path / "c.xy"
    f.write_text("\n".join(f"{a} {b}" for a, b in zip(x, y)))
    prof = to_model_input(read_pattern(f))
    assert prof.shape == (12000,) and prof.max() == pytest.approx(1.0)
    assert prof[:1990].max() == 0 and prof[6010:].max() == 0  # outside the measured range: zero-padded
    assert np.median(prof[2100:2400]) < 0.02  # sloped background removed between the peaks


def test_descending_two_theta_and_subtracted_background_are_read(tmp_path):
    """A file written from the high angle down is the same pattern; a background-subtracted one whose noise dips
    below zero is lifted by a constant (reported), which the background removal takes away again."""
    x = np.arange(20, 60, 0.05)
    rng = np.random.default_rng(0)
    y = _peaks(x, [25, 40]) + rng.normal(0, 5, x.size)
    assert y.min() < 0
    up, down = tmp_path / "up.xy", tmp_path / "down.xy"
    up.write_text("\n".join(f"{a} {b}" for a, b in zip(x, y)))
    down.write_text("\n".join(f"{a} {b}" for a, b in zip(x[::-1], y[::-1])))
    m_up, m_down = read_pattern(up), read_pattern(down)
    assert np.array_equal(m_up.two_theta, m_down.two_theta) and np.array_equal(m_up.intensity, m_down.intensity)
    assert m_up.offset == pytest.approx(-y.min()) and m_up.intensity.min() == 0
    assert np.allclose(m_up.intensity - m_up.offset, y)
    lifted = to_model_input(m_up)
    shifted = tmp_path / "shifted.xy"  # the same counts written with a constant added by the user
    shifted.write_text("\n".join(f"{a} {b - y.min()}" for a, b in zip(x, y)))
    m_shifted = read_pattern(shifted)
    assert m_shifted.offset == 0 and np.allclose(to_model_input(m_shifted), lifted, atol=1e-6)


BAD = {
    "empty.xy": (b"", "empty file"),
    "onecol.xy": (b"1\n2\n3\n", "one column"),
    "text.xy": (b"no numbers here\nat all\n", "no numeric data"),
    "nan.xy": ("\n".join(f"{i} {'nan' if i == 5 else i}" for i in range(40)).encode(), "non-finite"),
    "zigzag.xy": ("\n".join(f"{i + 5 * (i % 2)} 1" for i in range(40)).encode(), "not increasing"),
    "dup.xy": ("\n".join(f"{max(i, 1)} 1" for i in range(40)).encode(), "duplicate"),
    "neg.xy": ("\n".join(f"{i} {i - 20}" for i in range(40)).encode(), "negative intensities down to -20"),
    "allneg.xy": ("\n".join(f"{i} {-1 - i}" for i in range(40)).encode(), "no positive intensities"),
    "junk.xy": (bytes(range(256)) * 20, "binary"),
    "huge.xy": (b"1 1\n" * 1_020_000, "more than"),
    "scan.raw": (b"RAW4.00", "not a readable Bruker RAW file"),
    "old.raw": (b"RAW2" + bytes(800), "versions 1 and 2 are unsupported"),
    "bad.xrdml": (b"<?xml version='1.0'?><a><b></a>", "not a readable PANalytical XRDML file"),
    "junk.brml": (bytes(range(256)) * 4, "not a readable Bruker BRML file"),
    "cut.rasx": (vendor_files.rigaku_rasx(np.arange(10, 20, 0.1), np.ones(100), 1.5406, 1.5444)[:300],
                 "not a readable Rigaku RASX file"),
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

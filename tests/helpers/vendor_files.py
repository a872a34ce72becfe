"""Writers for the instrument formats, laid out byte for byte as the vendors document them, so that the
readers are tested on files built here rather than on downloads.

Bruker RAW3 follows DIFFRAC^plus XCH V5.0 (2002) user manual, appendix A (712-byte file header, 304-byte
range header); RAW4 follows the segment layout of DIFFRAC.SUITE files (61-byte header, type-30 hardware
segment, 160-byte range header). BRML and RASX are ZIP archives of XML as written by DIFFRAC.SUITE and
SmartLab Studio II; RAS and UXD are their text formats. Every writer takes the 2θ grid (degrees), the
counts and the tube's Kα1/Kα2 wavelengths (Å) with the Kα2/Kα1 ratio.
"""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np


def _lam_mean(a1, a2, ratio):
    return (a1 + ratio * a2) / (1 + ratio)


def bruker_raw3(x, y, a1, a2, ratio=0.5, anode=b"Cu") -> bytes:
    head = bytearray(712)
    head[0:7] = b"RAW1.01"
    struct.pack_into("<II", head, 8, 1, 1)  # file status "done", one range
    head[608:608 + len(anode)] = anode
    struct.pack_into("<5d", head, 616, _lam_mean(a1, a2, ratio), a1, a2, 0.0, ratio)
    rng = bytearray(304)
    step = float(x[1] - x[0])
    struct.pack_into("<IIdd", rng, 0, 304, len(y), x[0] / 2, x[0])
    struct.pack_into("<d", rng, 176, step)
    struct.pack_into("<f", rng, 192, 1.0)
    struct.pack_into("<I", rng, 196, 0)  # scan type 0: locked coupled
    struct.pack_into("<d", rng, 240, _lam_mean(a1, a2, ratio))
    struct.pack_into("<III", rng, 248, 0, 4, 0)  # no varying parameters, 4-byte records, no extra header
    return bytes(head + rng) + np.asarray(y, "<f4").tobytes()


def bruker_raw4(x, y, a1, a2, ratio=0.5, anode=b"Mo") -> bytes:
    head = bytearray(61)
    head[0:8] = b"RAW4.00\x00"
    hw = bytearray(120)
    struct.pack_into("<II", hw, 0, 30, 120)  # HardwareConfiguration segment
    struct.pack_into("<5d", hw, 72, _lam_mean(a1, a2, ratio), a1, a2, 0.0, ratio)
    hw[116:116 + len(anode)] = anode
    rng = bytearray(160)
    struct.pack_into("<I", rng, 0, 0)  # range marker
    rng[32:32 + 14] = b"Locked Coupled"
    struct.pack_into("<ddIf", rng, 72, float(x[0]), float(x[1] - x[0]), len(y), 1.0)
    struct.pack_into("<d", rng, 112, _lam_mean(a1, a2, ratio))
    struct.pack_into("<II", rng, 136, 4, 0)  # 4-byte records, no drive segments
    return bytes(head + hw + rng) + np.asarray(y, "<f4").tobytes()


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buf.getvalue()


def bruker_brml(x, y, a1, a2, ratio=0.5) -> bytes:
    rows = "\n".join(f"<Datum>1,1,{t:.5f},{t / 2:.5f},{c:.1f}</Datum>" for t, c in zip(x, y))
    raw = f"""<?xml version="1.0" encoding="utf-8"?>
<RawData xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <DataRoutes><DataRoute RouteFlag="Measured">
  <ScanInformation ScanName="Coupled TwoTheta/Theta"><MeasurementPoints>{len(y)}</MeasurementPoints></ScanInformation>
  <DataViews>
   <RawDataView xsi:type="FixedRawDataView" Start="0" Length="2"/>
   <RawDataView xsi:type="VaryingRawDataView" Start="2" Length="2">
    <Recording><FieldDefinitions xsi:type="ScanAxisFieldDefinition" AxisId="TwoTheta" FieldName="TwoTheta"/>
    <FieldDefinitions xsi:type="ScanAxisFieldDefinition" AxisId="Theta" FieldName="Theta"/></Recording>
   </RawDataView>
   <RawDataView xsi:type="RecordedRawDataView" Start="4" Length="1"/>
  </DataViews>
  {rows}
 </DataRoute></DataRoutes>
 <FixedInformation><Instrument><PrimaryTracks><TrackInfoData><MountedOptics>
  <InfoData xsi:type="TubeMountInfoData"><Tube><TubeMaterial>Co</TubeMaterial>
   <WaveLengthAlpha1 Value="{a1}" Unit="Å"/><WaveLengthAlpha2 Value="{a2}" Unit="Å"/>
   <WaveLengthBeta Value="1.62079" Unit="Å"/><WaveLengthRatio Value="{ratio}"/>
  </Tube></InfoData>
 </MountedOptics></TrackInfoData></PrimaryTracks></Instrument></FixedInformation>
</RawData>"""
    container = """<?xml version="1.0" encoding="utf-8"?>
<DataContainer><RawDataReferenceList><string>Experiment0/RawData0.xml</string></RawDataReferenceList></DataContainer>"""
    return _zip({"Experiment0/DataContainer.xml": container, "Experiment0/RawData0.xml": raw})


def rigaku_rasx(x, y, a1, a2) -> bytes:
    root = """<?xml version="1.0" encoding="utf-8"?>
<RasxRoot><Data0><ContentHashList Name="Profile0.txt"/><ContentHashList Name="MesurementConditions0.xml"/></Data0></RasxRoot>"""
    cond = f"""<?xml version="1.0" encoding="utf-8"?>
<MeasurementConditions>
 <GeneralInformation><SampleName>test</SampleName></GeneralInformation>
 <ScanInformation><AxisName>TwoThetaTheta</AxisName><Mode>Continuous</Mode></ScanInformation>
 <HWConfigurations><XrayGenerator><TargetName>Cr</TargetName>
  <WavelengthKalpha1>{a1}</WavelengthKalpha1><WavelengthKalpha2>{a2}</WavelengthKalpha2>
  <WavelengthKbeta>2.08487</WavelengthKbeta></XrayGenerator></HWConfigurations>
</MeasurementConditions>"""
    profile = "\n".join(f"{t:.4f}\t{c:.1f}\t1" for t, c in zip(x, y))
    return _zip({"root.xml": root, "Data0/MesurementConditions0.xml": cond, "Data0/Profile0.txt": profile})


def rigaku_ras(x, y, a1, a2) -> bytes:
    head = ["*RAS_DATA_START", "*RAS_HEADER_START", f'*HW_XG_WAVE_LENGTH_ALPHA1 "{a1}"',
            f'*HW_XG_WAVE_LENGTH_ALPHA2 "{a2}"', '*MEAS_SCAN_AXIS_X "TwoThetaTheta"',
            f'*MEAS_DATA_COUNT "{len(y)}"', "*RAS_HEADER_END", "*RAS_INT_START"]
    body = [f"{t:.4f} {c:.1f} 1.0000" for t, c in zip(x, y)]
    return "\r\n".join(head + body + ["*RAS_INT_END", "*RAS_DATA_END", ""]).encode()


def bruker_uxd(x, y, a1, a2, ratio=0.5) -> bytes:
    head = ["; test pattern", f"_WL1={a1:.6f}", f"_WL2={a2:.6f}", f"_WLRATIO={ratio:.6f}",
            "_2THETACOUNTS"]
    return "\n".join(head + [f"  {t:.4f}  {c:.1f}" for t, c in zip(x, y)] + [""]).encode()


WRITERS = {".raw": bruker_raw3, ".brml": bruker_brml, ".rasx": rigaku_rasx, ".ras": rigaku_ras,
           ".uxd": bruker_uxd}

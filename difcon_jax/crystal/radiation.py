"""X-ray sources: characteristic wavelengths (Å) and Kα1/Kα2 doublets.

Values follow the usual tables (the same as pymatgen's ``WAVELENGTHS``, so agreement tests compare like
with like). ``CuKa`` = 1.5418 Å is the paper's wavelength: the intensity-weighted Kα mean.
"""

from __future__ import annotations

# Single lines, Å.
WAVELENGTHS: dict[str, float] = {
    "CuKa": 1.54184, "CuKa1": 1.54056, "CuKa2": 1.54439, "CuKb1": 1.39222,
    "MoKa": 0.71073, "MoKa1": 0.70930, "MoKa2": 0.71359, "MoKb1": 0.63229,
    "CoKa": 1.79026, "CoKa1": 1.78896, "CoKa2": 1.79285, "CoKb1": 1.63079,
    "FeKa": 1.93735, "FeKa1": 1.93604, "FeKa2": 1.93998, "FeKb1": 1.75661,
    "CrKa": 2.29100, "CrKa1": 2.28970, "CrKa2": 2.29361, "CrKb1": 2.08487,
    "AgKa": 0.560885, "AgKa1": 0.559421, "AgKa2": 0.563813, "AgKb1": 0.497082,
}

#: Kα2/Kα1 intensity ratio (the 2p1/2 : 2p3/2 occupancy ratio, 1:2).
KA2_RATIO = 0.5


def nearest_anode(wavelength: float) -> str:
    """The anode whose Kα mean is closest to ``wavelength`` (Å): which doublet a file's peaks carry."""
    return min((k[:-2] for k in WAVELENGTHS if k.endswith("Ka")), key=lambda a: abs(WAVELENGTHS[a + "Ka"] - wavelength))


def resolve_radiation(spec: str | float) -> list[tuple[float, float]]:
    """Lines ``[(wavelength Å, relative weight), ...]`` for a source.

    ``spec``: a number in Å, a name from :data:`WAVELENGTHS` (``"CuKa"``), or ``"<Anode>Ka12"``
    (``"CuKa12"``) for the Kα1 + Kα2 doublet with weights 1 and :data:`KA2_RATIO`.
    """
    if isinstance(spec, (int, float)):
        lam = float(spec)
    else:
        text = str(spec).strip()
        if text.endswith("Ka12"):
            anode = text[:-4]
            if f"{anode}Ka1" not in WAVELENGTHS:
                raise ValueError(f"unknown X-ray source {text!r}")
            return [(WAVELENGTHS[f"{anode}Ka1"], 1.0), (WAVELENGTHS[f"{anode}Ka2"], KA2_RATIO)]
        if text in WAVELENGTHS:
            lam = WAVELENGTHS[text]
        else:
            try:
                lam = float(text)
            except ValueError:
                raise ValueError(
                    f"unknown X-ray source {text!r} (a wavelength in Å or one of {', '.join(WAVELENGTHS)})"
                ) from None
    if not 0.05 <= lam <= 5.0:
        raise ValueError(f"wavelength {lam} Å is outside 0.05–5 Å")
    return [(lam, 1.0)]

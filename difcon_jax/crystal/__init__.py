"""Crystal structures (CIF via gemmi, random crystals via pyxtal), symmetry labels, stick patterns."""

from difcon_jax.crystal.radiation import WAVELENGTHS, resolve_radiation
from difcon_jax.crystal.stick import StickPattern, stick_pattern
from difcon_jax.crystal.structure import Structure, StructureLimits, read_cif, structure_from_cif_text
from difcon_jax.crystal.symmetry import (
    CRYSTAL_SYSTEMS,
    SymmetryLabels,
    crystal_system_of,
    extinction_group_of,
    extinction_group_table,
    labels_for_number,
)

__all__ = [
    "CRYSTAL_SYSTEMS", "Structure", "StructureLimits", "StickPattern", "SymmetryLabels", "WAVELENGTHS",
    "crystal_system_of", "extinction_group_of", "extinction_group_table", "labels_for_number", "read_cif",
    "resolve_radiation", "stick_pattern", "structure_from_cif_text",
]

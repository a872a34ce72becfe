"""Peak-table dataset: file format, builders (CIF folders, pyxtal synthesis), structure-level splits."""

from difcon_jax.data.peak_table import PeakTable, load_peak_table, write_peak_table
from difcon_jax.data.split import SPLIT_NAMES, Split, split_of

__all__ = ["PeakTable", "SPLIT_NAMES", "Split", "load_peak_table", "split_of", "write_peak_table"]

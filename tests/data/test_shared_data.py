"""Checks on the real CIFs in ../shared/data (skipped when the folder is absent)."""

import csv

from difcon_jax.crystal import read_cif
from difcon_jax.errors import InputError


def test_labels_match_materials_project_cod(shared_data):
    folder = shared_data / "structures" / "mp_cod_1500"
    rows = list(csv.DictReader(open(folder / "labels.csv")))[::25]
    agree = total = 0
    for row in rows:
        try:
            st = read_cif(folder / row["file"])
        except InputError:
            continue
        total += 1
        agree += st.space_group == int(row["space_group"])
    assert total >= 50 and agree / total > 0.95, (agree, total)

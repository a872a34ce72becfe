import collections

from difcon_jax.crystal.symmetry import (
    CRYSTAL_SYSTEMS,
    crystal_system_of,
    derive_extinction_groups,
    extinction_group_of,
    extinction_group_table,
    labels_for_number,
)


def test_crystal_system_boundaries():
    edges = {1: 0, 2: 0, 3: 1, 15: 1, 16: 2, 74: 2, 75: 3, 142: 3, 143: 4, 167: 4, 168: 5, 194: 5, 195: 6, 230: 6}
    for n, cs in edges.items():
        assert crystal_system_of(n) == cs, n


def test_committed_table_is_the_derived_one():
    assert list(extinction_group_table()) == derive_extinction_groups()


def test_table_partitions_space_groups():
    table = extinction_group_table()
    assert len(table) == 112  # documented in symmetry.py: 108 by crystal family, 101 quoted in literature
    members = [n for row in table for n in row["space_groups"]]
    assert sorted(members) == list(range(1, 231))
    for row in table:
        assert {CRYSTAL_SYSTEMS[crystal_system_of(n)] for n in row["space_groups"]} == {row["crystal_system"]}
    by_cs = collections.Counter(row["crystal_system"] for row in table)
    assert by_cs["triclinic"] == 1 and by_cs["monoclinic"] == 6 and by_cs["cubic"] == 17


def test_known_classes():
    # Same reflection conditions -> same class; different conditions -> different classes.
    assert extinction_group_of(14) != extinction_group_of(13)  # P21/c vs P2/c
    assert extinction_group_of(62) != extinction_group_of(63)
    assert extinction_group_of(225) == extinction_group_of(216) == extinction_group_of(196)  # F lattice only
    assert extinction_group_of(227) == extinction_group_of(203)  # Fd-3m, Fd-3
    assert extinction_group_of(143) != extinction_group_of(168)  # trigonal P vs hexagonal P: split by system
    lab = labels_for_number(62)
    assert lab.space_group_symbol == "Pnma" and lab.crystal_system_name == "orthorhombic"
    assert "Pnma" in lab.extinction_group_symbol


def test_rhombohedral_symbols_are_written_with_r():
    from difcon_jax.crystal.symmetry import space_group_symbol

    assert [space_group_symbol(n) for n in (146, 155, 160, 166, 167)] == ["R3", "R32", "R3m", "R-3m", "R-3c"]

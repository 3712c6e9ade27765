"""The building tiles' data version is a generation that every statement writing buildings
moves on (insert, update, delete, truncate), even with the empty search path of a restore;
reading it is one row, not a count over the table."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geodata.maps.tiles import VERSION_SQL
from tests import factories as f


def _version(conn: Connection) -> str:
    return str(conn.execute(text(VERSION_SQL["buildings"])).scalar_one())


def test_every_kind_of_write_moves_the_generation_on(conn: Connection) -> None:
    versions = [_version(conn)]
    building = f.building(conn, "generation", f.square(0, 0, 1, 1))
    versions.append(_version(conn))
    conn.execute(text("UPDATE buildings SET floors = 9 WHERE id = :id"), {"id": building})
    versions.append(_version(conn))
    conn.execute(text("DELETE FROM buildings WHERE id = :id"), {"id": building})
    versions.append(_version(conn))
    conn.execute(text("TRUNCATE buildings CASCADE"))
    versions.append(_version(conn))
    assert len(set(versions)) == len(versions), versions


def test_a_statement_that_writes_nothing_else_leaves_it(conn: Connection) -> None:
    before = _version(conn)
    conn.execute(text("SELECT count(*) FROM buildings"))
    f.village(conn, "9900000901", f.square(0, 0, 1, 1))
    assert _version(conn) == before


def test_the_trigger_works_with_an_empty_search_path(conn: Connection) -> None:
    # The function alone (the other triggers on buildings are not this test's subject), on a
    # table of the test's own, as a restore would run it: with nothing on the search path.
    conn.execute(text("CREATE TEMP TABLE written (x int)"))
    conn.execute(
        text(
            "CREATE TRIGGER tile_generation AFTER INSERT ON written FOR EACH STATEMENT"
            " EXECUTE FUNCTION public.tile_generation_moved('buildings')"
        )
    )
    before = _version(conn)
    conn.execute(text("SET LOCAL search_path = ''"))
    conn.execute(text("INSERT INTO pg_temp.written VALUES (1)"))
    conn.execute(text("SET LOCAL search_path = public"))
    assert _version(conn) != before


def test_the_version_is_read_without_a_count(conn: Connection) -> None:
    plan = "\n".join(conn.execute(text("EXPLAIN " + VERSION_SQL["buildings"])).scalars())
    assert " on buildings" not in plan  # no scan of the table
    assert "tile_generations" in plan


@pytest.mark.parametrize("layer", ["buildings"])
def test_each_layer_has_its_row(conn: Connection, layer: str) -> None:
    found = conn.execute(
        text("SELECT generation FROM tile_generations WHERE layer = :l"), {"l": layer}
    ).scalar_one_or_none()
    assert found is not None

"""The schema's own guarantees: valid geometry, SRID and type, foreign keys, versions."""

from __future__ import annotations

import os

import pytest
from alembic import command
from sqlalchemy import Connection, insert, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from geodata import db
from geodata import models as m
from geodata.auth import audit
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from tests import factories as f

BOWTIE = "POLYGON((120.60 31.30, 120.61 31.31, 120.61 31.30, 120.60 31.31, 120.60 31.30))"


def test_every_table_exists_with_its_spatial_index(conn: Connection) -> None:
    tables = set(inspect(conn).get_table_names())
    assert set(m.Base.metadata.tables) <= tables
    indexed = conn.execute(
        text(
            "SELECT tablename FROM pg_indexes "
            "WHERE indexdef ILIKE '%USING gist (geom)%' ORDER BY tablename"
        )
    ).scalars()
    geo_tables = {t.name for t in m.Base.metadata.sorted_tables if "geom" in t.c}
    assert geo_tables == set(indexed)


def test_geometry_columns_carry_type_and_srid(conn: Connection) -> None:
    rows = conn.execute(
        text(
            "SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns "
            "WHERE f_table_schema='public'"
        )
    ).all()
    found = {r.f_table_name: (r.type, r.srid) for r in rows if r.f_geometry_column == "geom"}
    mercator = {(r.f_table_name, r.type, r.srid) for r in rows if r.f_geometry_column != "geom"}
    assert mercator == {("buildings", "POLYGON", 3857)}  # derived from geom, for tiles
    assert found["villages"] == ("MULTIPOLYGON", 4326)
    assert found["grids"] == ("MULTIPOLYGON", 4326)
    assert found["buildings"] == ("POLYGON", 4326)
    assert found["roads"] == ("LINESTRING", 4326)
    assert found["entrances"] == ("POINT", 4326)
    assert found["checkpoints"] == ("POINT", 4326)


def test_self_intersecting_polygon_is_refused(conn: Connection) -> None:
    with pytest.raises(IntegrityError, match="geom_valid"):
        conn.execute(
            text(
                "INSERT INTO buildings (source_id, geom) "
                "VALUES ('bad', ST_GeomFromText(:wkt, 4326))"
            ),
            {"wkt": BOWTIE},
        )


def test_empty_geometry_is_refused(conn: Connection) -> None:
    with pytest.raises(IntegrityError, match="geom_valid"):
        conn.execute(
            text(
                "INSERT INTO buildings (source_id, geom) "
                "VALUES ('empty', ST_GeomFromText('POLYGON EMPTY', 4326))"
            )
        )


def test_wrong_srid_is_refused(conn: Connection) -> None:
    with pytest.raises(DBAPIError, match="SRID"):
        conn.execute(
            text(
                "INSERT INTO buildings (source_id, geom) "
                "VALUES ('srid', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 3857))"
            )
        )


def test_wrong_geometry_type_is_refused(conn: Connection) -> None:
    with pytest.raises(DBAPIError, match="type"):
        conn.execute(
            text(
                "INSERT INTO buildings (source_id, geom) "
                "VALUES ('point', ST_GeomFromText('POINT(120.6 31.3)', 4326))"
            )
        )


def test_foreign_key_to_unknown_building_is_refused(conn: Connection) -> None:
    with pytest.raises(IntegrityError, match="fk_households_building_id_buildings"):
        conn.execute(
            insert(m.Household).values(
                source_id="orphan", building_id=999_999_999, members=2, status="normal"
            )
        )


def test_grid_leader_must_be_known_staff(conn: Connection) -> None:
    vid = f.village(conn, "9900000101", f.square(0, 0, 1, 1))
    gid = f.grid(conn, vid, "990000010101", f.square(0, 0, 1, 1))
    with pytest.raises(IntegrityError, match="fk_grids_leader_id_staff"):
        conn.execute(text("UPDATE grids SET leader_id = 424242 WHERE id = :id"), {"id": gid})


def test_source_id_is_unique_per_table(conn: Connection) -> None:
    f.building(conn, "same", f.square(0, 0, 0.01, 0.01))
    with pytest.raises(IntegrityError, match="uq_buildings_source_id"):
        f.building(conn, "same", f.square(0.1, 0.1, 0.11, 0.11))


def test_negative_members_and_unknown_state_are_refused(conn: Connection) -> None:
    with pytest.raises(IntegrityError, match="members_nonnegative"):
        conn.execute(insert(m.Household).values(source_id="neg", members=-1, status="normal"))


def test_unknown_enum_value_is_refused_by_the_database(conn: Connection) -> None:
    cid = f.compound(conn, "c", f.square(0, 0, 0.1, 0.1))
    with pytest.raises(IntegrityError, match="entrance_state"):
        conn.execute(
            text(
                "INSERT INTO entrances (source_id, compound_id, state, since, geom) VALUES "
                "('e', :cid, 'half-open', now(), ST_SetSRID(ST_MakePoint(120.6, 31.3), 4326))"
            ),
            {"cid": cid},
        )


def test_entrance_belongs_to_exactly_one_owner(conn: Connection) -> None:
    with pytest.raises(IntegrityError, match="one_owner"):
        conn.execute(
            text(
                "INSERT INTO entrances (source_id, state, since, geom) VALUES "
                "('nobody', 'open', now(), ST_SetSRID(ST_MakePoint(120.6, 31.3), 4326))"
            )
        )


def test_concurrent_edit_becomes_a_conflict(session: Session, conn: Connection) -> None:
    vid = f.village(conn, "9900000102", f.square(0, 0, 1, 1))
    village = session.get_one(m.Village, vid)
    assert village.version == 1
    # Someone else saves first.
    conn.execute(text("UPDATE villages SET version = version + 1 WHERE id = :id"), {"id": vid})
    village.name = "renamed"
    with pytest.raises(StaleDataError):
        session.flush()


def test_version_is_bumped_on_update(session: Session, conn: Connection) -> None:
    vid = f.village(conn, "9900000103", f.square(0, 0, 1, 1))
    village = session.get_one(m.Village, vid)
    village.name = "renamed"
    session.flush()
    assert village.version == 2


def test_migrations_match_the_models(conn: Connection) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from geoalchemy2 import alembic_helpers

    context = MigrationContext.configure(
        conn, opts={"include_object": alembic_helpers.include_object, "compare_type": True}
    )
    assert compare_metadata(context, m.Base.metadata) == []


def test_beds_used_cannot_exceed_beds(conn: Connection) -> None:
    with pytest.raises(IntegrityError, match="beds_used_within_beds"):
        conn.execute(
            text(
                "INSERT INTO isolation_sites (source_id, name, beds, beds_used, geom) VALUES "
                "('iso', 'site', 10, 11, ST_SetSRID(ST_MakePoint(120.6, 31.3), 4326))"
            )
        )


def test_web_mercator_outline_follows_the_outline(conn: Connection) -> None:
    square = "POLYGON((114.30 30.58, 114.301 30.58, 114.301 30.581, 114.30 30.581, 114.30 30.58))"
    moved = "POLYGON((114.31 30.58, 114.311 30.58, 114.311 30.581, 114.31 30.581, 114.31 30.58))"
    building_id = conn.execute(
        text(
            "INSERT INTO buildings (source_id, geom) "
            "VALUES ('mercator', ST_GeomFromText(:wkt, 4326)) RETURNING id"
        ),
        {"wkt": square},
    ).scalar_one()
    for wkt in (square, moved):
        conn.execute(
            text("UPDATE buildings SET geom = ST_GeomFromText(:wkt, 4326) WHERE id = :id"),
            {"wkt": wkt, "id": building_id},
        )
        gap = conn.execute(
            text(
                "SELECT ST_HausdorffDistance(geom_3857, ST_Transform(geom, 3857)) "
                "FROM buildings WHERE id = :id"
            ),
            {"id": building_id},
        ).scalar_one()
        assert gap == 0


def test_audit_columns_named_in_the_audit_module_are_the_tables() -> None:
    table = m.AuditEvent.__table__
    assert set(audit.EVENTS.c.keys()) == set(table.c.keys())
    for name, named in audit.EVENTS.c.items():
        assert type(named.type) is type(table.c[name].type), name


def test_a_town_migrated_past_0007_gets_its_households_rewritten(cluster: LocalCluster) -> None:
    """0007 fills a column of every household; `migrate.upgrade` then rewrites the table (a
    new file, no dead rows), and the column holds each household's latest visit."""
    name = f"wangge_upgrade_{os.getpid()}"
    cluster.drop_database(name)
    cluster.ensure_database(name)
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=name))
    try:
        with owner.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), "0006")
            conn.execute(
                text(
                    "INSERT INTO households (source_id, members, status) "
                    "SELECT 'h' || g, 1, 'normal' FROM generate_series(1, 300) AS g"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO visits (source_id, household_id, visited_at, result) "
                    "SELECT 'v' || h.id || '-' || d, h.id, now() - make_interval(days => d), "
                    "'seen_all' FROM households AS h, generate_series(1, 2) AS d "
                    "WHERE h.id % 3 = 0"
                )
            )
            file_before = conn.execute(text("SELECT pg_relation_filenode('households')")).scalar()
        migrate.upgrade(owner, app_role=APP_ROLE)
        with owner.connect() as conn:
            assert conn.execute(text("SELECT pg_relation_filenode('households')")).scalar() != (
                file_before
            )
            assert (
                conn.execute(
                    text(
                        "SELECT count(*) FROM households h WHERE h.last_visited_at IS DISTINCT"
                        " FROM (SELECT max(v.visited_at) FROM visits v WHERE v.household_id = h.id)"
                    )
                ).scalar()
                == 0
            )
            assert (
                conn.execute(
                    text("SELECT count(*) FROM households WHERE last_visited_at IS NOT NULL")
                ).scalar()
                == 100
            )
    finally:
        owner.dispose()
        cluster.drop_database(name)

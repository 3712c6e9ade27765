"""Small hand-made rows for tests that need only a few features."""

from __future__ import annotations

from datetime import UTC, datetime

from shapely import MultiPolygon, Point, Polygon, box
from sqlalchemy import Connection, insert
from sqlalchemy.sql.expression import ColumnElement, func

from geodata import models as m
from geodata import vocab as v

NOW = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def ewkt(geom: Polygon | MultiPolygon | Point) -> ColumnElement[object]:
    return func.ST_GeomFromText(geom.wkt, 4326)


def village(conn: Connection, code: str, geom: Polygon | MultiPolygon) -> int:
    multi = geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])
    return int(
        conn.execute(
            insert(m.Village)
            .values(
                source_id=f"test:village/{code}",
                code=code,
                name=f"Village {code}",
                kind=v.VillageKind.VILLAGE,
                geom=ewkt(multi),
            )
            .returning(m.Village.id)
        ).scalar_one()
    )


def grid(conn: Connection, village_id: int, code: str, geom: Polygon) -> int:
    return int(
        conn.execute(
            insert(m.Grid)
            .values(
                source_id=f"test:grid/{code}",
                village_id=village_id,
                code=code,
                geom=ewkt(MultiPolygon([geom])),
            )
            .returning(m.Grid.id)
        ).scalar_one()
    )


def compound(conn: Connection, name: str, geom: Polygon, village_id: int | None = None) -> int:
    return int(
        conn.execute(
            insert(m.Compound)
            .values(
                source_id=f"test:compound/{name}",
                name=name,
                kind=v.CompoundKind.RESIDENTIAL,
                closure=v.Closure.SEALED_MANAGED,
                village_id=village_id,
                geom=ewkt(geom),
            )
            .returning(m.Compound.id)
        ).scalar_one()
    )


def building(conn: Connection, name: str, geom: Polygon, grid_id: int | None = None) -> int:
    return int(
        conn.execute(
            insert(m.Building)
            .values(source_id=f"test:building/{name}", floors=3, grid_id=grid_id, geom=ewkt(geom))
            .returning(m.Building.id)
        ).scalar_one()
    )


def entrance(
    conn: Connection, name: str, point: Point, state: v.EntranceState, *, compound_id: int
) -> int:
    return int(
        conn.execute(
            insert(m.Entrance)
            .values(
                source_id=f"test:entrance/{name}",
                compound_id=compound_id,
                state=state,
                since=NOW,
                geom=ewkt(point),
            )
            .returning(m.Entrance.id)
        ).scalar_one()
    )


def household(conn: Connection, name: str, building_id: int | None, grid_id: int | None) -> int:
    return int(
        conn.execute(
            insert(m.Household)
            .values(
                source_id=f"test:household/{name}",
                building_id=building_id,
                grid_id=grid_id,
                members=3,
                status=v.HouseholdStatus.NORMAL,
            )
            .returning(m.Household.id)
        ).scalar_one()
    )


# A 1 km square near Suzhou, split in two grids.
ORIGIN = (120.60, 31.30)
KM_LON = 1 / 95.0  # about one kilometre of longitude at 31°N
KM_LAT = 1 / 111.0


def square(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """A box given in kilometres from ORIGIN."""
    lon, lat = ORIGIN
    return box(lon + x0 * KM_LON, lat + y0 * KM_LAT, lon + x1 * KM_LON, lat + y1 * KM_LAT)

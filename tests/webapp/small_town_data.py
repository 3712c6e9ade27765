"""A small town of two villages near Wuhan for the web app's tests: two grids, a compound,
entrances, a checkpoint with markup in its name, and personal rows that must never reach a
layer; and the reading of a response's Content-Security-Policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shapely import LineString, MultiPolygon, Point, Polygon, box
from sqlalchemy import Connection, insert, text, update
from sqlalchemy.sql.expression import ColumnElement, func

from geodata import models as m
from geodata import vocab as v

PREFIX = "webapp-test:"
XSS_CHECKPOINT = "<img src=x onerror=alert(1)>"
XSS_VILLAGE = '"><script>alert(2)</script>'
SINCE = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)

# Values that must never appear in a layer: a resident's, a staff member's, an editor's.
PERSONAL_VALUES = (
    "Resident Zhang Secret",
    "320412199001011234",
    "13912345678",
    "13800000001",
    "Staff Wang Secret",
    "Editor Li Secret",
)
PERSONAL_KEYS = {"phone", "id_number", "changed_by", "leader", "leader_id", "members", "resident"}

# Village A (two grids) and village B (one compound), about 1 km each, near Wuhan.
VILLAGE_A = box(114.300, 30.580, 114.310, 30.590, ccw=False)  # clockwise on purpose
VILLAGE_B = box(114.312, 30.580, 114.322, 30.590)
GRID_A1 = box(114.300, 30.580, 114.305, 30.590)
GRID_A2 = box(114.305, 30.580, 114.310, 30.590)
COMPOUND_B = box(114.314, 30.582, 114.318, 30.586)


@dataclass(frozen=True)
class SmallTown:
    village_a: int
    village_b: int
    grid_ids: tuple[int, ...]
    checkpoint_entrance: int


def _geom(geom: Polygon | MultiPolygon | Point | LineString) -> ColumnElement[Any]:
    return func.ST_GeomFromText(geom.wkt, 4326)


def _one(conn: Connection, statement: Any) -> int:
    return int(conn.execute(statement).scalar_one())


def insert_test_town(conn: Connection) -> SmallTown:
    """Two villages, two grids, a compound, three entrances, two checkpoints, a road, and a
    household with a resident and a grid leader whose details no layer may show."""
    village_a = _one(
        conn,
        insert(m.Village)
        .values(
            source_id=f"{PREFIX}village/A",
            code="WT-A",
            name="East Lake Village",
            kind=v.VillageKind.VILLAGE,
            population=1200,
            geom=_geom(MultiPolygon([VILLAGE_A])),
        )
        .returning(m.Village.id),
    )
    village_b = _one(
        conn,
        insert(m.Village)
        .values(
            source_id=f"{PREFIX}village/B",
            code="WT-B",
            name=XSS_VILLAGE,
            kind=v.VillageKind.COMMUNITY,
            geom=_geom(MultiPolygon([VILLAGE_B])),
        )
        .returning(m.Village.id),
    )
    grid_ids = tuple(
        _one(
            conn,
            insert(m.Grid)
            .values(
                source_id=f"{PREFIX}grid/{code}",
                village_id=village_a,
                code=code,
                name=f"Grid {code}",
                geom=_geom(MultiPolygon([shape])),
            )
            .returning(m.Grid.id),
        )
        for code, shape in (("WT-A1", GRID_A1), ("WT-A2", GRID_A2))
    )
    leader = _one(
        conn,
        insert(m.Staff)
        .values(
            source_id=f"{PREFIX}staff/leader",
            name="Staff Wang Secret",
            role=v.StaffRole.GRID_LEADER,
            village_id=village_a,
            grid_id=grid_ids[0],
            phone="13800000001",
        )
        .returning(m.Staff.id),
    )
    conn.execute(update(m.Grid).where(m.Grid.id == grid_ids[0]).values(leader_id=leader))
    compound = _one(
        conn,
        insert(m.Compound)
        .values(
            source_id=f"{PREFIX}compound/B",
            name="Riverside Compound",
            kind=v.CompoundKind.RESIDENTIAL,
            closure=v.Closure.SEALED_MANAGED,
            village_id=village_b,
            geom=_geom(COMPOUND_B),
        )
        .returning(m.Compound.id),
    )
    entrances: dict[v.EntranceState, int] = {}
    for state, name, point, owner in (
        (v.EntranceState.OPEN, "West gate", Point(114.3005, 30.5850), {"village_id": village_a}),
        (
            v.EntranceState.CHECKPOINT,
            "East gate",
            Point(114.3095, 30.5850),
            {"village_id": village_a},
        ),
        (
            v.EntranceState.SEALED,
            "Compound gate",
            Point(114.3160, 30.5820),
            {"compound_id": compound},
        ),
    ):
        entrances[state] = _one(
            conn,
            insert(m.Entrance)
            .values(
                source_id=f"{PREFIX}entrance/{name}",
                name=name,
                state=state,
                since=SINCE,
                changed_by="Editor Li Secret",
                geom=_geom(point),
                **owner,
            )
            .returning(m.Entrance.id),
        )
    for name, kind, checkpoint_state, point, village, entrance in (
        (
            XSS_CHECKPOINT,
            v.CheckpointKind.VILLAGE_GATE,
            v.CheckpointState.ACTIVE,
            Point(114.3097, 30.5860),
            village_a,
            entrances[v.EntranceState.CHECKPOINT],
        ),
        (
            "North road checkpoint",
            v.CheckpointKind.ROAD,
            v.CheckpointState.CLOSED,
            Point(114.3200, 30.5885),
            village_b,
            None,
        ),
    ):
        conn.execute(
            insert(m.Checkpoint).values(
                source_id=f"{PREFIX}checkpoint/{kind}",
                name=name,
                kind=kind,
                state=checkpoint_state,
                staff_per_shift=2,
                radius_m=50.0,
                village_id=village,
                entrance_id=entrance,
                geom=_geom(point),
            )
        )
    conn.execute(
        insert(m.Road).values(
            source_id=f"{PREFIX}road/1",
            highway="residential",
            name="Lakeside Road",
            geom=_geom(LineString([(114.298, 30.5875), (114.324, 30.5875)])),
        )
    )
    _scope_personal_tables(conn, grid_ids)
    household = _one(
        conn,
        insert(m.Household)
        .values(
            source_id=f"{PREFIX}household/1",
            grid_id=grid_ids[0],
            members=3,
            status=v.HouseholdStatus.HOME_QUARANTINE,
        )
        .returning(m.Household.id),
    )
    conn.execute(
        insert(m.Resident).values(
            source_id=f"{PREFIX}resident/1",
            household_id=household,
            grid_id=grid_ids[0],
            name="Resident Zhang Secret",
            id_number="320412199001011234",
            phone="13912345678",
        )
    )
    return SmallTown(
        village_a=village_a,
        village_b=village_b,
        grid_ids=grid_ids,
        checkpoint_entrance=entrances[v.EntranceState.CHECKPOINT],
    )


def _scope_personal_tables(conn: Connection, grid_ids: tuple[int, ...]) -> None:
    """Row-level security lets this transaction see and write only these grids' personal rows."""
    conn.execute(
        text("SELECT set_config('wangge.grid_ids', :ids, true)"),
        {"ids": ",".join(str(g) for g in grid_ids)},
    )


def csp_of(response: Any) -> dict[str, str]:
    """A response's Content-Security-Policy, directive by directive."""
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))

"""Who keeps a synthetic town: teams, staff, checkpoints, shifts and the people on them,
patrols, isolation sites."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import shapely
from numpy.typing import NDArray

from geodata.samples import people
from geodata.samples.columnar import Table, local_ids, nullable
from geodata.samples.history import history_start
from geodata.samples.synthetic.layout import Floats, Ints, Layout, lerp
from geodata.samples.synthetic.places import geometries, multipolygons, polygons
from geodata.vocab import CheckpointKind, CheckpointState, Period, StaffRole, TeamKind

StrArray = NDArray[np.str_]

GRID_WORKERS = 2
"""Workers of each grid besides its leader."""
STAFF_PER_GRID = 1 + GRID_WORKERS
PATROL_STAFF = 4
SHIFT_HOURS = 8
SHIFTS = 24 // SHIFT_HOURS
CHECKPOINT_RADII_M = np.array([30.0, 50.0, 80.0, 100.0])
NIGHT_RING = 0.15
"""The night patrol zone is the village's outer ring, this fraction of its side wide."""
VILLAGES_PER_ISOLATION_SITE = 10


@dataclass(frozen=True)
class Duty:
    teams: Table
    staff: Table
    checkpoints: Table
    shifts: Table
    shift_staff: Table
    patrol_zones: Table
    isolation_sites: Table

    @property
    def first_grid_staff(self) -> Ints:
        """Local staff id of each grid's leader; its workers follow it."""
        grids = int(np.count_nonzero(self.staff.columns["role"] == StaffRole.GRID_LEADER.value))
        return np.arange(grids, dtype=np.int64) * STAFF_PER_GRID + 1


def _teams(layout: Layout, village_names: StrArray, grid_names: StrArray) -> tuple[Table, Ints]:
    """A team per grid, a patrol team per village, a checkpoint team per village with checkpoints.

    Returns the table and the local id of each village's checkpoint team (0 if none).
    """
    villages = len(village_names)
    staffed = np.flatnonzero(np.bincount(layout.checkpoint_village, minlength=villages))
    grids = len(grid_names)
    kind = np.concatenate(
        [
            np.full(grids, TeamKind.HOUSEHOLD_VISIT.value),
            np.full(villages, TeamKind.PATROL.value),
            np.full(len(staffed), TeamKind.CHECKPOINT.value),
        ]
    )
    village = np.concatenate([layout.grid_village, np.arange(villages), staffed])
    name = np.concatenate(
        [
            np.strings.add(grid_names, "工作组"),
            np.strings.add(village_names, "巡逻队"),
            np.strings.add(village_names[staffed], "卡口组"),
        ]
    )
    table = Table(
        "teams",
        {"id": local_ids(len(kind)), "name": name, "kind": kind, "village_id": village + 1},
        refs={"village_id": "villages"},
        source_kind="team",
    )
    checkpoint_team = np.zeros(villages, dtype=np.int64)
    checkpoint_team[staffed] = grids + villages + np.arange(len(staffed)) + 1
    return table, checkpoint_team


def _staff(
    rng: np.random.Generator,
    layout: Layout,
    *,
    checkpoint_team: Ints,
    checkpoint_staff: Ints,
) -> Table:
    """Grid staff first (leader, then workers, grid by grid), then patrols, then checkpoints'."""
    grids, villages = len(layout.grid_village), len(layout.village_bounds)
    grid = np.repeat(np.arange(grids), STAFF_PER_GRID)
    grid_role = np.tile(
        [StaffRole.GRID_LEADER.value] + [StaffRole.GRID_WORKER.value] * GRID_WORKERS, grids
    )
    patrol_village = np.repeat(np.arange(villages), PATROL_STAFF)
    per_village = np.bincount(
        layout.checkpoint_village, weights=checkpoint_staff, minlength=villages
    ).astype(np.int64)
    guard_village = np.repeat(np.arange(villages), per_village)
    village = np.concatenate([layout.grid_village[grid], patrol_village, guard_village])
    team = np.concatenate([grid + 1, grids + patrol_village + 1, checkpoint_team[guard_village]])
    role = np.concatenate(
        [
            grid_role,
            np.full(len(patrol_village), StaffRole.PATROL.value),
            np.full(len(guard_village), StaffRole.CHECKPOINT_STAFF.value),
        ]
    )
    n = len(role)
    in_grid = np.arange(n) < len(grid)
    grid_id = np.concatenate([grid + 1, np.zeros(n - len(grid), dtype=np.int64)])
    return Table(
        "staff",
        {
            "id": local_ids(n),
            "name": people.chinese_names_by_sex(rng, rng.random(n) < 0.6),
            "role": role,
            "village_id": village + 1,
            "team_id": team,
            "grid_id": nullable(grid_id, ~in_grid),
            "phone": people.mobile_numbers(rng, n),
        },
        refs={"village_id": "villages", "team_id": "teams", "grid_id": "grids"},
        source_kind="staff",
    )


def _checkpoints(
    rng: np.random.Generator, layout: Layout, village_names: StrArray
) -> tuple[Table, Ints]:
    """Checkpoint k of a village at its village entrance k (entrances list village gates first)."""
    v = layout.checkpoint_village
    n = len(v)
    first_gate = np.searchsorted(layout.village_entrance_village, np.arange(len(village_names)))
    gate = first_gate[v] + layout.checkpoint_index
    per_shift = rng.integers(2, 5, n)
    name = np.strings.add(
        np.strings.add(village_names[v], (layout.checkpoint_index + 1).astype(np.str_)), "号卡口"
    )
    table = Table(
        "checkpoints",
        {
            "id": local_ids(n),
            "name": name,
            "kind": np.full(n, CheckpointKind.VILLAGE_GATE.value),
            "state": np.full(n, CheckpointState.ACTIVE.value),
            "staff_per_shift": per_shift,
            "radius_m": CHECKPOINT_RADII_M[rng.integers(0, len(CHECKPOINT_RADII_M), n)],
            "village_id": v + 1,
            "entrance_id": gate + 1,
            "geom": geometries(shapely.points(layout.village_entrance_xy[gate])),
        },
        refs={"village_id": "villages", "entrance_id": "entrances"},
        source_kind="checkpoint",
    )
    return table, per_shift


def _shifts(per_shift: Ints, reference: date, days: int) -> Table:
    """Three eight-hour shifts a day at every checkpoint, the reference day and the ``days - 1``
    days before it; a checkpoint's shifts in time order, checkpoint by checkpoint."""
    slots = days * SHIFTS
    n = len(per_shift) * slots
    checkpoint = np.repeat(np.arange(len(per_shift)), slots)
    hours = np.tile(np.arange(slots) * SHIFT_HOURS, len(per_shift)).astype("timedelta64[h]")
    starts = np.datetime64(reference, "s") - np.timedelta64(days - 1, "D") + hours
    return Table(
        "checkpoint_shifts",
        {
            "id": local_ids(n),
            "checkpoint_id": checkpoint + 1,
            "starts_at": starts,
            "ends_at": starts + np.timedelta64(SHIFT_HOURS, "h"),
            "staff_count": per_shift[checkpoint],
        },
        refs={"checkpoint_id": "checkpoints"},
    )


def _shift_staff(shifts: Table, staff: Table, per_shift: Ints) -> Table:
    """The people on every shift, as many as its head count: a checkpoint's staff (its
    village's checkpoint staff, listed checkpoint by checkpoint as the checkpoints go, which
    are in village order) are SHIFTS crews of its ``staff_per_shift`` people, crew k keeping
    shift k of every day, so nobody is on two shifts at once or works over 8 hours in 24."""
    role = staff.columns["role"]
    first_guard = int(np.argmax(role == StaffRole.CHECKPOINT_STAFF.value)) + 1
    first = first_guard + np.concatenate([[0], np.cumsum(SHIFTS * per_shift)[:-1]])
    checkpoint = shifts.columns["checkpoint_id"] - 1
    starts = shifts.columns["starts_at"]
    crew = (starts - starts.astype("datetime64[D]")).astype("timedelta64[h]").astype(
        np.int64
    ) // SHIFT_HOURS
    count = shifts.columns["staff_count"]
    shift = np.repeat(np.arange(len(count)), count)
    seat = np.arange(len(shift)) - np.repeat(np.cumsum(count) - count, count)
    person = first[checkpoint[shift]] + crew[shift] * per_shift[checkpoint[shift]] + seat
    return Table(
        "shift_staff",
        {
            "id": local_ids(len(shift)),
            "shift_id": shift + 1,
            "staff_id": person,
            "starts_at": starts[shift],
            "ends_at": shifts.columns["ends_at"][shift],
        },
        refs={"shift_id": "checkpoint_shifts", "staff_id": "staff"},
    )


def _with_patrols(
    shifts: Table, shift_staff: Table, staff: Table, villages: int, reference: date, days: int
) -> tuple[Table, Table]:
    """The checkpoints' shifts, then a shift on every patrol zone each duty day (06:00-18:00
    by day, 18:00-06:00 by night, town time): the village's first two patrols by day, the
    other two by night, 12 hours in any 24; and the people on all of them. Times are wall
    clock in China, as every synthetic timestamp (columnar.UTC_OFFSET)."""
    first = int(np.argmax(staff.columns["role"] == StaffRole.PATROL.value)) + 1
    day = np.arange(days)
    starts = {
        period: np.array(
            [
                np.datetime64(
                    datetime.combine(reference - timedelta(days=days - 1 - int(d)), at), "s"
                )
                for d in day
            ]
        )
        for period, at in ((0, time(6)), (1, time(18)))
    }
    zone = np.arange(2 * villages)  # day zones, then night zones (_patrol_zones)
    period = zone // villages
    zone_of = np.repeat(zone, days)
    start = np.concatenate([starts[int(p)] for p in period])
    cp = shifts.columns["checkpoint_id"]
    n_cp, n_zone = len(cp), len(zone_of)
    no_cp, no_zone = np.zeros(n_zone, np.int64), np.zeros(n_cp, np.int64)
    merged = Table(
        "checkpoint_shifts",
        {
            "id": local_ids(n_cp + n_zone),
            "checkpoint_id": nullable(
                np.concatenate([cp, no_cp]), np.arange(n_cp + n_zone) >= n_cp
            ),
            "patrol_zone_id": nullable(
                np.concatenate([no_zone, zone_of + 1]), np.arange(n_cp + n_zone) < n_cp
            ),
            "starts_at": np.concatenate([shifts.columns["starts_at"], start]),
            "ends_at": np.concatenate([shifts.columns["ends_at"], start + np.timedelta64(12, "h")]),
            "staff_count": np.concatenate([shifts.columns["staff_count"], np.full(n_zone, 2)]),
        },
        refs={"checkpoint_id": "checkpoints", "patrol_zone_id": "patrol_zones"},
    )
    village = zone_of % villages
    person = first + PATROL_STAFF * village[:, None] + 2 * (zone_of // villages)[:, None]
    person = (person + np.arange(2)).ravel()
    shift = np.repeat(n_cp + np.arange(n_zone), 2)
    on = shift_staff.columns
    people = Table(
        "shift_staff",
        {
            "id": local_ids(len(on["id"]) + len(shift)),
            "shift_id": np.concatenate([on["shift_id"], shift + 1]),
            "staff_id": np.concatenate([on["staff_id"], person]),
            "starts_at": np.concatenate([on["starts_at"], np.repeat(start, 2)]),
            "ends_at": np.concatenate(
                [on["ends_at"], np.repeat(start + np.timedelta64(12, "h"), 2)]
            ),
        },
        refs=shift_staff.refs,
    )
    return merged, people


def _inset(bounds: Floats, fraction: float) -> Floats:
    x0, y0, x1, y1 = bounds.T
    return np.stack(
        [
            lerp(x0, x1, np.full(len(x0), fraction)),
            lerp(y0, y1, np.full(len(x0), fraction)),
            lerp(x0, x1, np.full(len(x0), 1 - fraction)),
            lerp(y0, y1, np.full(len(x0), 1 - fraction)),
        ],
        axis=1,
    )


def _patrol_zones(layout: Layout, village_names: StrArray) -> Table:
    """By day the whole village; by night its outer ring, along the roads at its edge."""
    vb = layout.village_bounds
    villages = len(vb)
    ring = geometries(
        shapely.polygons(
            shapely.get_exterior_ring(polygons(vb)),
            holes=shapely.get_exterior_ring(polygons(_inset(vb, NIGHT_RING)))[:, None],
        )
    )
    geom = np.concatenate(
        [multipolygons(vb), geometries(shapely.multipolygons(ring, indices=np.arange(villages)))]
    )
    village = np.tile(np.arange(villages), 2)
    period = np.repeat([Period.DAY.value, Period.NIGHT.value], villages)
    return Table(
        "patrol_zones",
        {
            "id": local_ids(2 * villages),
            "name": np.strings.add(
                village_names[village],
                np.where(period == Period.DAY.value, "日间巡逻区", "夜间巡逻区"),
            ),
            "period": period,
            "team_id": len(layout.grid_village) + village + 1,
            "village_id": village + 1,
            "geom": geom,
        },
        refs={"team_id": "teams", "village_id": "villages"},
        source_kind="patrol_zone",
    )


def _isolation_sites(rng: np.random.Generator, layout: Layout, village_names: StrArray) -> Table:
    """A site near the south-west corner of every tenth village."""
    village = np.arange(0, len(village_names), VILLAGES_PER_ISOLATION_SITE)
    n = len(village)
    vb = layout.village_bounds[village]
    xy = np.stack(
        [lerp(vb[:, 0], vb[:, 2], np.full(n, 0.03)), lerp(vb[:, 1], vb[:, 3], np.full(n, 0.03))],
        axis=1,
    )
    return Table(
        "isolation_sites",
        {
            "id": local_ids(n),
            "name": np.strings.add(village_names[village], "集中隔离点"),
            "beds": rng.integers(20, 81, n),
            "reserve_rooms": rng.integers(0, 11, n),
            "geom": geometries(shapely.points(xy)),
        },
        source_kind="isolation_site",
    )


def build_duty(
    rng: np.random.Generator,
    layout: Layout,
    *,
    village_names: StrArray,
    grid_names: StrArray,
    reference: date,
    shift_days: int = 1,
) -> Duty:
    teams, checkpoint_team = _teams(layout, village_names, grid_names)
    checkpoints, per_shift = _checkpoints(rng, layout, village_names)
    made = np.datetime64(history_start(reference).astimezone(UTC).replace(tzinfo=None), "s")
    checkpoints = replace(
        checkpoints, columns={**checkpoints.columns, "created_at": np.full(len(checkpoints), made)}
    )
    staff = _staff(
        rng, layout, checkpoint_team=checkpoint_team, checkpoint_staff=per_shift * SHIFTS
    )
    shifts = _shifts(per_shift, reference, shift_days)
    on_shifts = _shift_staff(shifts, staff, per_shift)
    shifts, on_shifts = _with_patrols(
        shifts, on_shifts, staff, len(layout.village_bounds), reference, shift_days
    )
    return Duty(
        teams=teams,
        staff=staff,
        checkpoints=checkpoints,
        shifts=shifts,
        shift_staff=on_shifts,
        patrol_zones=_patrol_zones(layout, village_names),
        isolation_sites=_isolation_sites(rng, layout, village_names),
    )

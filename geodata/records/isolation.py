"""Isolation beds in the records: the beds of each site free at a moment, the people waiting
for a bed, their distances to the sites, and the assignment of people to beds (proposed,
then applied) by `geodata.analysis.isolation`.

A bed is taken at a moment when an assignment's range [starts_at, ends_at) holds it; a
quarantine that ends frees its bed at its release (migration 0016). Which beds are taken is
read through `isolation_beds_taken`, which sees every grid's assignments (bed ids only), so
that a caller under row security by grid counts beds as they are. `isolation_sites.beds_used`
is kept by the database: the site's ordinary beds taken now.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geodata.analysis.coverage.metric import project_geoms, project_xy
from geodata.analysis.coverage.network import RoadNetwork
from geodata.analysis.isolation import assign, hand_out_beds
from geodata.analysis.isolation.routes import Distances, travel_m
from geodata.analysis.utm import utm_epsg
from geodata.errors import ConflictError

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

DOUBLE_BOOKING = "bed_assignments_no_double_booking"
ONE_BED_A_TIME = "bed_assignments_one_bed_a_time"


# -- beds per site ------------------------------------------------------------------------
@dataclass(frozen=True)
class SiteBeds:
    """A site's beds at a moment. `beds`: all its beds, `reserve_beds` those in reserve
    rooms; `taken`: beds held then (reserve ones included); `free`: ordinary beds free,
    `free_reserve`: reserve beds free (beds = taken + free + free_reserve)."""

    id: int
    site: str
    name: str
    beds: int
    reserve_beds: int
    taken: int
    free: int
    free_reserve: int

    def public(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "name": self.name,
            "beds": self.beds,
            "reserve_beds": self.reserve_beds,
            "taken": self.taken,
            "free": self.free,
            "free_reserve": self.free_reserve,
        }


BEDS_AT = """
SELECT s.id, s.source_id, s.name, count(b.id) AS beds,
       count(b.id) FILTER (WHERE r.reserve) AS reserve_beds,
       count(t.bed_id) AS taken,
       count(b.id) FILTER (WHERE NOT r.reserve AND t.bed_id IS NULL) AS free,
       count(b.id) FILTER (WHERE r.reserve AND t.bed_id IS NULL) AS free_reserve
FROM isolation_sites s
LEFT JOIN isolation_beds b ON b.site_id = s.id
LEFT JOIN isolation_rooms r ON r.id = b.room_id
LEFT JOIN isolation_beds_taken(CAST(:at AS timestamptz)) t ON t.bed_id = b.id
GROUP BY s.id ORDER BY s.id
"""


def moment(conn: Connection, at: datetime | None) -> datetime:
    """`at`, or the transaction's now (the time the database's triggers count with)."""
    if at is not None:
        if at.tzinfo is None:
            raise ValueError("at must carry a time zone")
        return at
    found: datetime = conn.execute(text("SELECT now()")).scalar_one()
    return found


def beds_at(conn: Connection, at: datetime | None = None) -> list[SiteBeds]:
    """Every site's beds, taken and free at `at` (default now; any past moment): one
    statement. A site without rooms (`isolation_beds_for_sites()` not run) has no bed."""
    rows = conn.execute(text(BEDS_AT), {"at": moment(conn, at)}).all()
    return [
        SiteBeds(
            id=int(r.id),
            site=str(r.source_id),
            name=str(r.name),
            beds=int(r.beds),
            reserve_beds=int(r.reserve_beds),
            taken=int(r.taken),
            free=int(r.free),
            free_reserve=int(r.free_reserve),
        )
        for r in rows
    ]


# -- the people waiting -------------------------------------------------------------------
@dataclass(frozen=True)
class Waiting:
    """People in active concentrated quarantine without a bed, one entry per person in
    quarantine order. `lon`/`lat`: their household's building, else their grid (NaN when
    neither is known)."""

    quarantine_id: Ints
    resident_id: Ints
    resident: list[str]
    household_id: Ints
    grid_id: list[int | None]
    lon: Floats
    lat: Floats

    def __len__(self) -> int:
        return len(self.quarantine_id)


WAITING = """
SELECT q.id AS quarantine_id, r.id AS resident_id, r.source_id AS resident,
       r.household_id, q.grid_id, ST_X(p.pt) AS lon, ST_Y(p.pt) AS lat
FROM quarantines q
JOIN residents r ON r.id = q.resident_id
JOIN households h ON h.id = r.household_id
LEFT JOIN buildings b ON b.id = h.building_id
LEFT JOIN grids g ON g.id = coalesce(q.grid_id, h.grid_id)
CROSS JOIN LATERAL (
    SELECT coalesce(ST_PointOnSurface(b.geom), ST_PointOnSurface(g.geom)) AS pt
) p
WHERE q.type = 'concentrated' AND q.status = 'active'
  AND q.starts_at <= :at AND q.ends_at > :at
  AND (CAST(:grids AS bigint[]) IS NULL OR q.grid_id = ANY (CAST(:grids AS bigint[])))
  AND NOT EXISTS (
      SELECT 1 FROM bed_assignments a
      WHERE a.resident_id = q.resident_id AND (a.ends_at IS NULL OR a.ends_at > :at)
  )
ORDER BY q.id
"""


def waiting(
    conn: Connection, *, at: datetime | None = None, grid_ids: frozenset[int] | None = None
) -> Waiting:
    """The people waiting for a bed at `at` (default now): active concentrated quarantines
    (started, not ended) whose person holds no bed then or later; of `grid_ids` only (None:
    every grid the connection may read)."""
    grids = None if grid_ids is None else sorted(grid_ids)
    rows = conn.execute(text(WAITING), {"at": moment(conn, at), "grids": grids}).all()
    return Waiting(
        quarantine_id=np.array([r.quarantine_id for r in rows], dtype=np.int64),
        resident_id=np.array([r.resident_id for r in rows], dtype=np.int64),
        resident=[str(r.resident) for r in rows],
        household_id=np.array([r.household_id for r in rows], dtype=np.int64),
        grid_id=[None if r.grid_id is None else int(r.grid_id) for r in rows],
        lon=np.array([np.nan if r.lon is None else r.lon for r in rows], dtype=np.float64),
        lat=np.array([np.nan if r.lat is None else r.lat for r in rows], dtype=np.float64),
    )


# -- distances ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Sites:
    id: Ints
    site: list[str]
    lon: Floats
    lat: Floats


def sites(conn: Connection) -> Sites:
    rows = conn.execute(
        text("SELECT id, source_id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM isolation_sites"
             " ORDER BY id")
    ).all()  # fmt: skip
    return Sites(
        id=np.array([r.id for r in rows], dtype=np.int64),
        site=[str(r.source_id) for r in rows],
        lon=np.array([r.lon for r in rows], dtype=np.float64),
        lat=np.array([r.lat for r in rows], dtype=np.float64),
    )


def _epsg(lon: Floats, lat: Floats) -> int:
    """The UTM zone of the centre of the extent of the points."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return utm_epsg(0.0, 0.0)
    return utm_epsg(
        float((lon[ok].min() + lon[ok].max()) / 2), float((lat[ok].min() + lat[ok].max()) / 2)
    )


def road_network(conn: Connection, epsg: int) -> RoadNetwork | None:
    """The `roads` table as a network in `epsg`; None when there are no roads."""
    wkb = conn.execute(text("SELECT ST_AsBinary(geom) FROM roads ORDER BY id")).scalars().all()
    if not wkb:
        return None
    lines = shapely.from_wkb(np.asarray([bytes(w) for w in wkb], dtype=object))
    return RoadNetwork.from_lines(project_geoms(lines, epsg))


def distances(conn: Connection, people: Waiting, at_sites: Sites) -> Distances:
    """People × sites in metres: along the roads when the `roads` table has rows (straight
    where no route joins them), else straight, in the UTM zone of the places."""
    n, m = len(people), len(at_sites.id)
    if not n or not m:
        return Distances(np.zeros((n, m)), np.zeros((n, m), dtype=np.bool_))
    lon = np.concatenate([people.lon, at_sites.lon])
    lat = np.concatenate([people.lat, at_sites.lat])
    epsg = _epsg(lon, lat)
    xy = np.full((len(lon), 2), np.nan)
    ok = np.isfinite(lon) & np.isfinite(lat)
    xy[ok] = project_xy(lon[ok], lat[ok], epsg)
    return travel_m(xy[:n], xy[n:], road_network(conn, epsg))


# -- the proposal -------------------------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    quarantine_id: int
    resident_id: int
    resident: str
    grid_id: int | None
    site_id: int
    site: str
    bed_id: int
    bed: str
    """room/label, e.g. 012/1"""
    distance_m: float
    by_road: bool


@dataclass(frozen=True)
class SiteLoad:
    site: str
    free: int
    free_reserve: int
    assigned: int
    reserve_used: int


@dataclass(frozen=True)
class Proposal:
    """Who goes to which bed. `unplaced`: the residents (source ids) left without one (beds
    short, or no site they can reach)."""

    status: str
    at: datetime
    keep_families: bool
    use_reserve: bool
    total_distance_m: float
    placements: list[Placement]
    unplaced: list[str]
    unplaced_quarantines: list[int]
    sites: list[SiteLoad]
    solve_s: float
    assignment_ids: list[int] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "total_distance_m": round(self.total_distance_m, 1),
            "assignments": [
                {
                    "resident": p.resident,
                    "site": p.site,
                    "bed": p.bed,
                    "distance_m": round(p.distance_m, 1),
                    "bed_id": p.bed_id,
                    "by_road": p.by_road,
                }
                for p in self.placements
            ],
            "at": self.at.isoformat(),
            "keep_families": self.keep_families,
            "use_reserve": self.use_reserve,
            "waiting": len(self.placements) + len(self.unplaced),
            "unplaced": self.unplaced,
            "sites": [vars(s) for s in self.sites],
        }


@dataclass(frozen=True)
class FreeBeds:
    """Per site (in `Sites` order) its free bed ids, ordinary ones first (by room and
    label), then reserve ones; their names; and how many are reserve."""

    ids: list[list[int]]
    names: dict[int, str]
    reserve: Ints


FREE_BEDS = """
SELECT b.id, b.site_id, r.number || '/' || b.label AS name, r.reserve
FROM isolation_beds b JOIN isolation_rooms r ON r.id = b.room_id
WHERE NOT EXISTS (
    SELECT 1 FROM isolation_beds_taken(CAST(:at AS timestamptz), true) t WHERE t.bed_id = b.id
)
ORDER BY b.site_id, r.reserve, r.number, b.label, b.id
"""


def free_beds(conn: Connection, at_sites: Sites, at: datetime) -> FreeBeds:
    """The beds free from `at` on (no assignment holds them then or later)."""
    index = {int(s): k for k, s in enumerate(at_sites.id.tolist())}
    ids: list[list[int]] = [[] for _ in index]
    reserve = np.zeros(len(index), dtype=np.int64)
    names: dict[int, str] = {}
    for row in conn.execute(text(FREE_BEDS), {"at": at}).all():
        k = index[int(row.site_id)]
        ids[k].append(int(row.id))
        names[int(row.id)] = str(row.name)
        reserve[k] += bool(row.reserve)
    return FreeBeds(ids, names, reserve)


def propose(
    conn: Connection,
    *,
    at: datetime | None = None,
    grid_ids: frozenset[int] | None = None,
    keep_families: bool = False,
    use_reserve: bool = False,
) -> Proposal:
    """The people waiting (of `grid_ids`; None: all the connection reads) assigned to the
    beds free from `at` (default now) on: the most people placed, then the least total
    distance; with `keep_families` a household's waiting members go to one site or none;
    reserve beds only with `use_reserve`. Writes nothing."""
    when = moment(conn, at)
    at_sites = sites(conn)
    people = waiting(conn, at=when, grid_ids=grid_ids)
    beds = free_beds(conn, at_sites, when)
    dist = distances(conn, people, at_sites)
    free = np.array([len(b) for b in beds.ids], dtype=np.int64)
    solved = assign(
        dist.metres,
        free,
        people.household_id,
        keep_families=keep_families,
        reserve_beds=beds.reserve,
        use_reserve=use_reserve,
    )
    bed_of = hand_out_beds(solved.site, beds.ids, people.household_id)
    placements: list[Placement] = []
    unplaced: list[str] = []
    unplaced_quarantines: list[int] = []
    for k, (at_site, bed) in enumerate(zip(solved.site.tolist(), bed_of, strict=True)):
        if at_site < 0 or bed is None:
            unplaced.append(people.resident[k])
            unplaced_quarantines.append(int(people.quarantine_id[k]))
            continue
        placements.append(
            Placement(
                quarantine_id=int(people.quarantine_id[k]),
                resident_id=int(people.resident_id[k]),
                resident=people.resident[k],
                grid_id=people.grid_id[k],
                site_id=int(at_sites.id[at_site]),
                site=at_sites.site[at_site],
                bed_id=int(bed),
                bed=beds.names[int(bed)],
                distance_m=float(dist.metres[k, at_site]),
                by_road=bool(dist.by_road[k, at_site]),
            )
        )
    loads = [
        SiteLoad(
            site=at_sites.site[j],
            free=int(free[j] - beds.reserve[j]),
            free_reserve=int(beds.reserve[j]),
            assigned=int(solved.load[j]),
            reserve_used=int(solved.reserve_used[j]),
        )
        for j in range(len(at_sites.id))
    ]
    return Proposal(
        status=solved.status,
        at=when,
        keep_families=keep_families,
        use_reserve=use_reserve,
        total_distance_m=solved.total_distance_m,
        placements=placements,
        unplaced=unplaced,
        unplaced_quarantines=unplaced_quarantines,
        sites=loads,
        solve_s=solved.solve_s,
    )


# -- applying it --------------------------------------------------------------------------
def lock_sites(conn: Connection) -> None:
    """Hold every site's row until the transaction ends: applies (and edits of the sites)
    run one after the other, each reading the beds the one before left free."""
    conn.execute(text("SELECT id FROM isolation_sites ORDER BY id FOR UPDATE"))


INSERT = """
INSERT INTO bed_assignments (bed_id, resident_id, quarantine_id, grid_id, starts_at, assigned_by)
SELECT u.bed_id, u.resident_id, u.quarantine_id, u.grid_id, CAST(:at AS timestamptz), :by
FROM unnest(CAST(:beds AS bigint[]), CAST(:residents AS bigint[]),
            CAST(:quarantines AS bigint[]), CAST(:grids AS bigint[]))
     AS u(bed_id, resident_id, quarantine_id, grid_id)
RETURNING id
"""


def _refusal(conn: Connection, exc: IntegrityError, proposal: Proposal) -> ConflictError | None:
    """The conflict an insert met, naming the beds (or people) taken meanwhile. Read again
    after the insert was rolled back: under row security PostgreSQL leaves the key out of
    the error."""
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if constraint == DOUBLE_BOOKING:
        taken = set(
            conn.execute(
                text("SELECT bed_id FROM isolation_beds_taken(CAST(:at AS timestamptz), true)"),
                {"at": proposal.at},
            ).scalars()
        )
        beds = [f"bed {p.bed} of site {p.site}" for p in proposal.placements if p.bed_id in taken]
        return ConflictError(f"{', '.join(beds) or 'a bed'}: taken meanwhile; propose again")
    if constraint == ONE_BED_A_TIME:
        held = set(
            conn.execute(
                text(
                    "SELECT resident_id FROM bed_assignments WHERE resident_id = ANY(:r)"
                    " AND (ends_at IS NULL OR ends_at > :at)"
                ),
                {"r": [p.resident_id for p in proposal.placements], "at": proposal.at},
            ).scalars()
        )
        people = [f"resident {p.resident}" for p in proposal.placements if p.resident_id in held]
        return ConflictError(
            f"{', '.join(people) or 'a person'}: holds a bed already; propose again"
        )
    return None


def apply(
    conn: Connection,
    *,
    actor: str,
    at: datetime | None = None,
    grid_ids: frozenset[int] | None = None,
    keep_families: bool = False,
    use_reserve: bool = False,
) -> Proposal:
    """Under the sites' lock, the proposal made again on the beds free now, and its
    assignments written (from `at`, default now, open-ended). A bed or a person taken by a
    writer that did not wait for the lock is a ConflictError, and nothing is written.
    Expects READ COMMITTED (the default): the reads after the lock see the applies before."""
    lock_sites(conn)
    proposal = propose(
        conn, at=at, grid_ids=grid_ids, keep_families=keep_families, use_reserve=use_reserve
    )
    placed = proposal.placements
    if not placed:
        return proposal
    try:
        with conn.begin_nested():
            ids = conn.execute(
                text(INSERT),
                {
                    "at": proposal.at,
                    "by": actor,
                    "beds": [p.bed_id for p in placed],
                    "residents": [p.resident_id for p in placed],
                    "quarantines": [p.quarantine_id for p in placed],
                    "grids": [p.grid_id for p in placed],
                },
            ).scalars()
            made = sorted(int(i) for i in ids)
    except IntegrityError as exc:
        refusal = _refusal(conn, exc, proposal)
        if refusal is None:
            raise
        raise refusal from None
    return replace(proposal, assignment_ids=made)

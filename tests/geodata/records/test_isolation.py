"""Isolation beds in the records: beds taken and free now and at past moments against counts
made here from the assignments; the proposal against scipy's milp on the same distances (the
sample town, along its roads, with sites and people added; enough beds and too few); families
kept together; reserve beds held back unless allowed; straight distances against PostGIS;
an apply written once, the site's beds_used derived, a bed freed at the release."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from shapely import Point
from sqlalchemy import Connection, insert, text

from geodata import models as m
from geodata.records import isolation as iso
from geodata.records import quarantines as quarantines
from tests import factories as f

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
NOW = datetime.now(UTC)


# -- an independent exact solve ------------------------------------------------------------
def milp_optimum(dist: Floats, beds: Ints, household: Ints | None) -> tuple[int, float]:
    """People placed and metres of the lexicographic optimum (the most people, then the
    least distance), by scipy's milp on a dense model: one binary per (unit, site), a unit
    being a person, or a household when `household` is given."""
    n_people, n_sites = dist.shape
    unit_of = (
        np.arange(n_people)
        if household is None
        else np.unique(household, return_inverse=True)[1].ravel()
    )
    n_units = int(unit_of.max()) + 1 if n_people else 0
    if not n_units:
        return 0, 0.0
    size = np.bincount(unit_of, minlength=n_units).astype(float)
    cost = np.zeros((n_units, n_sites))
    np.add.at(cost, unit_of, dist)
    ok = np.isfinite(cost) & (size[:, None] <= beds[None, :])
    cost[~ok] = 0.0
    n = n_units * n_sites
    one_site = LinearConstraint(np.kron(np.eye(n_units), np.ones(n_sites)), 0, 1)
    capacity = LinearConstraint(
        np.kron(size[:, None], np.eye(n_sites)).T.reshape(n_sites, n), -np.inf, beds
    )
    bounds = Bounds(np.zeros(n), ok.ravel().astype(float))
    weight = np.repeat(size, n_sites)
    most = milp(-weight, constraints=[one_site, capacity], bounds=bounds, integrality=np.ones(n))
    assert most.success
    assert most.fun is not None
    placed = round(-most.fun)
    at_least = LinearConstraint(weight[None, :], placed - 0.5, np.inf)
    best = milp(
        cost.ravel(), constraints=[one_site, capacity, at_least], bounds=bounds,
        integrality=np.ones(n),
    )  # fmt: skip
    assert best.success
    assert best.fun is not None
    return placed, float(best.fun)


# -- helpers -------------------------------------------------------------------------------
def add_site(conn: Connection, name: str, lon: float, lat: float, beds: int, reserve: int) -> int:
    site = int(
        conn.execute(
            insert(m.IsolationSite)
            .values(source_id=f"test:isolation_site/{name}", name=name, beds=beds,
                    reserve_rooms=reserve, geom=f.ewkt(Point(lon, lat)))
            .returning(m.IsolationSite.id)
        ).scalar_one()
    )  # fmt: skip
    conn.execute(text("SELECT isolation_beds_for_sites()"))
    return site


def send_to_isolation(conn: Connection, residents: list[str], start: datetime) -> list[int]:
    """Concentrated quarantines of these residents (source ids) from `start`."""
    made = [
        quarantines.add(conn, quarantines.NewQuarantine(resident=r, type="concentrated",
                        reason="close_contact", start=start), actor="test")["id"]
        for r in residents
    ]  # fmt: skip
    return [int(q) for q in made]


def sample_households(conn: Connection, n: int) -> list[str]:
    """All the members of `n` households of 1 to 3 people without a quarantine, spread over
    the town (every 97th such household), in household order."""
    return [
        str(s)
        for s in conn.execute(
            text(
                "WITH h AS (SELECT h.id, row_number() OVER (ORDER BY h.id) k FROM households h"
                " WHERE h.building_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM residents r"
                " JOIN quarantines q ON q.resident_id = r.id WHERE r.household_id = h.id)"
                " AND (SELECT count(*) FROM residents r WHERE r.household_id = h.id)"
                " BETWEEN 1 AND 3)"
                " SELECT r.source_id FROM h JOIN residents r ON r.household_id = h.id"
                " WHERE h.k IN (SELECT k FROM h WHERE k % 97 = 0 ORDER BY k LIMIT :n)"
                " ORDER BY h.id, r.id"
            ),
            {"n": n},
        ).scalars()
    ]


def building_points(conn: Connection, n: int) -> list[tuple[float, float]]:
    rows = conn.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p, row_number()"
            " OVER (ORDER BY id) k FROM buildings) b WHERE k % 700 = 0 ORDER BY k LIMIT :n"
        ),
        {"n": n},
    ).all()
    return [(float(x), float(y)) for x, y in rows]


def block_beds(conn: Connection, site_id: int, n: int) -> None:
    """Take `n` of a site's free ordinary beds with people who are not waiting."""
    conn.execute(
        text(
            "WITH beds AS (SELECT b.id, row_number() OVER (ORDER BY b.id) k FROM isolation_beds b"
            " JOIN isolation_rooms r ON r.id = b.room_id WHERE b.site_id = :s AND NOT r.reserve"
            " AND b.id NOT IN (SELECT bed_id FROM isolation_beds_taken(now(), true))),"
            " people AS (SELECT r.id, r.grid_id, row_number() OVER (ORDER BY r.id DESC) k"
            " FROM residents r WHERE NOT EXISTS (SELECT 1 FROM quarantines q"
            " WHERE q.resident_id = r.id))"
            " INSERT INTO bed_assignments (bed_id, resident_id, grid_id, starts_at)"
            " SELECT beds.id, people.id, people.grid_id, now() - interval '1 day'"
            " FROM beds JOIN people ON people.k = beds.k WHERE beds.k <= :n"
        ),
        {"s": site_id, "n": n},
    )


def check_against_milp(conn: Connection, proposal: iso.Proposal) -> None:
    """The proposal places as many people at as few metres as the exact solve on the same
    distances and free beds, in distinct free beds within each site's."""
    people = iso.waiting(conn)
    sites = iso.sites(conn)
    dist = iso.distances(conn, people, sites).metres
    beds = iso.free_beds(conn, sites, iso.moment(conn, None))
    capacity = np.array([len(b) for b in beds.ids], dtype=np.int64) - (
        0 if proposal.use_reserve else beds.reserve
    )
    household = people.household_id if proposal.keep_families else None
    placed, metres = milp_optimum(dist, capacity, household)
    assert proposal.status == "optimal"
    assert len(proposal.placements) == placed
    assert proposal.total_distance_m == pytest.approx(metres, rel=1e-9, abs=1e-6)
    assert sum(p.distance_m for p in proposal.placements) == pytest.approx(metres, abs=1e-6)
    free = {b for site in beds.ids for b in site}
    bed_ids = [p.bed_id for p in proposal.placements]
    assert len(set(bed_ids)) == len(bed_ids)
    assert set(bed_ids) <= free
    for j, site in enumerate(sites.site):
        assert sum(p.site == site for p in proposal.placements) <= capacity[j]


@dataclass(frozen=True)
class Case:
    added_sites: list[int]
    waiting: list[str]


def sample_case(conn: Connection, *, short: bool) -> Case:
    """The sample town's site and its 12 people waiting, three small sites more and the
    members of 8 households more waiting; `short`: all but 4 of the big site's free beds
    taken, so that the beds fall short."""
    points = building_points(conn, 3)
    sites = [
        add_site(conn, f"small-{k}", lon, lat, beds, 1)
        for k, ((lon, lat), beds) in enumerate(zip(points, (3, 4, 5), strict=True))
    ]
    people = sample_households(conn, 8)
    send_to_isolation(conn, people, NOW - timedelta(hours=2))
    if short:
        big = int(conn.execute(text("SELECT min(id) FROM isolation_sites")).scalar_one())
        block_beds(conn, big, 30)
    return Case(sites, people)


# -- beds at a moment ----------------------------------------------------------------------
def independent_beds(conn: Connection, at: datetime) -> dict[str, tuple[int, int, int, int]]:
    """Per site (beds, taken, free ordinary, free reserve) counted here row by row."""
    beds = conn.execute(
        text(
            "SELECT s.source_id, b.id, r.reserve FROM isolation_beds b"
            " JOIN isolation_rooms r ON r.id = b.room_id JOIN isolation_sites s ON s.id = b.site_id"
        )
    ).all()
    held = {
        int(bed)
        for bed, starts, ends in conn.execute(
            text("SELECT bed_id, starts_at, ends_at FROM bed_assignments")
        ).all()
        if starts <= at and (ends is None or ends > at)
    }
    counts: dict[str, list[int]] = {}
    for site, bed, reserve in beds:
        c = counts.setdefault(str(site), [0, 0, 0, 0])
        c[0] += 1
        if bed in held:
            c[1] += 1
        else:
            c[3 if reserve else 2] += 1
    return {k: (v[0], v[1], v[2], v[3]) for k, v in counts.items()}


def _report(conn: Connection, at: datetime | None) -> dict[str, tuple[int, int, int, int]]:
    return {s.site: (s.beds, s.taken, s.free, s.free_reserve) for s in iso.beds_at(conn, at)}


def test_the_sample_site_now_and_before_its_people_came(sample_conn: Connection) -> None:
    (now,) = iso.beds_at(sample_conn)
    assert (now.beds, now.reserve_beds, now.taken, now.free, now.free_reserve) == (
        130, 10, 86, 34, 10,
    )  # fmt: skip
    assert sample_conn.execute(text("SELECT beds_used FROM isolation_sites")).scalar() == 86
    first = sample_conn.execute(text("SELECT min(starts_at) FROM bed_assignments")).scalar_one()
    for at in (first - timedelta(seconds=1), first, first + timedelta(days=3), NOW):
        assert _report(sample_conn, at) == independent_beds(sample_conn, at)
    (before,) = iso.beds_at(sample_conn, first - timedelta(seconds=1))
    assert (before.taken, before.free) == (0, 120)


def test_beds_now_and_in_the_past_past_ends_and_bookings(sample_conn: Connection) -> None:
    site = add_site(sample_conn, "past", 9.51, 47.16, 3, 1)
    beds = sample_conn.execute(
        text("SELECT id FROM isolation_beds WHERE site_id = :s ORDER BY id"), {"s": site}
    ).scalars().all()  # fmt: skip
    residents = sample_conn.execute(
        text("SELECT id FROM residents r WHERE NOT EXISTS (SELECT 1 FROM bed_assignments a"
             " WHERE a.resident_id = r.id) ORDER BY id DESC LIMIT 4")
    ).scalars().all()  # fmt: skip
    spans = [  # (bed, from, to): ended, still there (reserve bed), booked from tomorrow
        (beds[0], NOW - timedelta(days=10), NOW - timedelta(days=5)),
        (beds[3], NOW - timedelta(days=3), None),
        (beds[1], NOW + timedelta(days=1), None),
    ]
    for (bed, starts, ends), who in zip(spans, residents, strict=False):
        sample_conn.execute(
            text("INSERT INTO bed_assignments (bed_id, resident_id, starts_at, ends_at)"
                 " VALUES (:b, :r, :s, :e)"),
            {"b": bed, "r": who, "s": starts, "e": ends},
        )  # fmt: skip
    key = "test:isolation_site/past"
    expected = {  # (beds, taken, free, free reserve)
        NOW: (4, 1, 3, 0),
        NOW - timedelta(days=7): (4, 1, 2, 1),
        NOW - timedelta(days=4): (4, 0, 3, 1),
        NOW + timedelta(days=2): (4, 2, 2, 0),
    }
    for at, figures in expected.items():
        assert _report(sample_conn, at)[key] == figures == independent_beds(sample_conn, at)[key]
    # free from now on: the bed booked from tomorrow is not offered
    free = iso.free_beds(sample_conn, iso.sites(sample_conn), NOW)
    offered = free.ids[iso.sites(sample_conn).id.tolist().index(site)]
    assert offered == [beds[0], beds[2]]
    assert sample_conn.execute(
        text("SELECT beds_used FROM isolation_sites WHERE id = :s"), {"s": site}
    ).scalar() == 0  # fmt: skip


# -- the proposal --------------------------------------------------------------------------
@pytest.mark.parametrize("keep_families", [False, True])
@pytest.mark.parametrize("short", [False, True])
def test_the_proposal_is_the_exact_optimum(
    sample_conn: Connection, keep_families: bool, short: bool
) -> None:
    case = sample_case(sample_conn, short=short)
    proposal = iso.propose(sample_conn, keep_families=keep_families)
    waiting = 12 + len(case.waiting)
    assert len(proposal.placements) + len(proposal.unplaced) == waiting
    if short:
        assert proposal.unplaced  # 4 + 3 + 4 + 5 beds for 30 people
    else:
        assert not proposal.unplaced
    assert sum(p.by_road for p in proposal.placements) > 0.9 * len(proposal.placements)
    check_against_milp(sample_conn, proposal)


def test_road_distances_are_never_below_the_straight_line(sample_conn: Connection) -> None:
    sample_case(sample_conn, short=False)
    people, sites = iso.waiting(sample_conn), iso.sites(sample_conn)
    along = iso.distances(sample_conn, people, sites)
    sample_conn.execute(text("DELETE FROM roads"))
    straight = iso.distances(sample_conn, people, sites)
    assert along.by_road.all()
    assert not straight.by_road.any()
    assert np.all(along.metres >= straight.metres - 1e-6)
    assert np.median(along.metres / straight.metres) < 2.0  # roads, not detours


# -- a town made by hand: straight distances, families, reserve beds -----------------------
@dataclass(frozen=True)
class HandTown:
    grid: int
    near: int
    far: int


KM = 1000.0


def hand_town(conn: Connection, *, near_beds: int, near_reserve: int) -> HandTown:
    """A 10 km square town without roads, site `near` at its west edge (x = 0), site `far`
    with 5 beds at x = 5 km (both at y = 5 km)."""
    village = f.village(conn, "99001", f.square(0, 0, 10, 10))
    grid = f.grid(conn, village, "9900101", f.square(0, 0, 10, 10))
    lon, lat = f.ORIGIN
    near = add_site(conn, "near", lon, lat + 5 * f.KM_LAT, near_beds, near_reserve)
    far = add_site(conn, "far", lon + 5 * f.KM_LON, lat + 5 * f.KM_LAT, 5, 0)
    return HandTown(grid, near, far)


def household_at(conn: Connection, town: HandTown, name: str, x_km: float, size: int) -> list[str]:
    """A household of `size` people in a building at (x_km, 5 km), all sent to isolation."""
    building = f.building(conn, name, f.square(x_km, 5, x_km + 0.01, 5.01), town.grid)
    household = f.household(conn, name, building, town.grid)
    people = [f"test:resident/{name}-{k}" for k in range(size)]
    for source in people:
        conn.execute(
            insert(m.Resident).values(source_id=source, household_id=household, grid_id=town.grid)
        )
    send_to_isolation(conn, people, NOW - timedelta(hours=1))
    return people


def _sites_of(proposal: iso.Proposal) -> dict[str, str]:
    return {p.resident: p.site.removeprefix("test:isolation_site/") for p in proposal.placements}


def test_straight_distances_match_postgis(conn: Connection) -> None:
    town = hand_town(conn, near_beds=2, near_reserve=0)
    household_at(conn, town, "h", 0.3, 2)
    household_at(conn, town, "s", 7.2, 1)
    people, sites = iso.waiting(conn), iso.sites(conn)
    found = iso.distances(conn, people, sites)
    assert not found.by_road.any()
    geography = np.array(
        conn.execute(
            text(
                "SELECT ST_Distance(ST_PointOnSurface(b.geom)::geography, s.geom::geography)"
                " FROM unnest(CAST(:q AS bigint[])) WITH ORDINALITY AS w(q, k)"
                " JOIN quarantines q ON q.id = w.q JOIN residents r ON r.id = q.resident_id"
                " JOIN households h ON h.id = r.household_id"
                " JOIN buildings b ON b.id = h.building_id"
                " CROSS JOIN isolation_sites s ORDER BY w.k, s.id"
            ),
            {"q": people.quarantine_id.tolist()},
        ).scalars().all()
    ).reshape(found.metres.shape)  # fmt: skip
    np.testing.assert_allclose(found.metres, geography, rtol=2e-3)


def test_keep_families_keeps_a_household_together(conn: Connection) -> None:
    # 2 beds near, a household of two 300 m away and a person alone 100 m away: the least
    # metres put the person alone and one of the household near, the other 5 km away
    town = hand_town(conn, near_beds=2, near_reserve=0)
    family = household_at(conn, town, "family", 0.3, 2)
    alone = household_at(conn, town, "alone", 0.1, 1)
    split = _sites_of(iso.propose(conn))
    assert split[alone[0]] == "near"
    assert sorted(split[p] for p in family) == ["far", "near"]
    kept = iso.propose(conn, keep_families=True)
    together = _sites_of(kept)
    assert [together[p] for p in family] == ["near", "near"]
    assert together[alone[0]] == "far"
    check_against_milp(conn, kept)
    beds = [p.bed for p in kept.placements if p.resident in family]
    assert beds == ["001/1", "002/1"]  # next to each other, in room order


def test_reserve_beds_are_held_back_unless_allowed(conn: Connection) -> None:
    town = hand_town(conn, near_beds=2, near_reserve=1)
    people = household_at(conn, town, "three", 0.2, 3)
    held = iso.propose(conn)
    assert sorted(_sites_of(held).values()) == ["far", "near", "near"]
    assert all(p.bed in ("001/1", "002/1") for p in held.placements if p.site.endswith("near"))
    assert [s.reserve_used for s in held.sites] == [0, 0]
    allowed = iso.propose(conn, use_reserve=True)
    assert [_sites_of(allowed)[p] for p in people] == ["near"] * 3
    assert sorted(p.bed for p in allowed.placements) == ["001/1", "002/1", "003/1"]
    assert [(s.free, s.free_reserve, s.reserve_used) for s in allowed.sites] == [
        (2, 1, 1), (5, 0, 0),
    ]  # fmt: skip
    # with no other site, the reserve bed left empty means one person left waiting
    conn.execute(text("DELETE FROM isolation_sites WHERE id = :s"), {"s": town.far})
    short = iso.propose(conn)
    assert len(short.placements) == 2
    assert len(short.unplaced) == 1


# -- applying ------------------------------------------------------------------------------
def test_an_apply_writes_the_proposal_once_and_beds_used_follows(sample_conn: Connection) -> None:
    case = sample_case(sample_conn, short=False)
    proposed = iso.propose(sample_conn)
    done = iso.apply(sample_conn, actor="test")
    assert [(p.resident, p.bed_id) for p in done.placements] == [
        (p.resident, p.bed_id) for p in proposed.placements
    ]
    assert len(done.assignment_ids) == len(done.placements) == 12 + len(case.waiting)
    rows = sample_conn.execute(
        text("SELECT a.quarantine_id, a.grid_id, q.grid_id AS q_grid, a.ends_at, a.assigned_by,"
             " a.starts_at = now() AS now FROM bed_assignments a JOIN quarantines q"
             " ON q.id = a.quarantine_id WHERE a.id = ANY(:ids)"),
        {"ids": done.assignment_ids},
    ).all()  # fmt: skip
    assert all(r.grid_id == r.q_grid and r.ends_at is None and r.now for r in rows)
    assert {r.assigned_by for r in rows} == {"test"}
    assert len(iso.waiting(sample_conn)) == 0
    again = iso.apply(sample_conn, actor="test")
    assert again.placements == []
    assert again.assignment_ids == []
    used = {
        str(site): int(n)
        for site, n in sample_conn.execute(text("SELECT source_id, beds_used FROM isolation_sites"))
    }
    ordinary_taken = {
        s.site: s.taken - (s.reserve_beds - s.free_reserve) for s in iso.beds_at(sample_conn)
    }
    assert used == ordinary_taken
    assert used["sample:isolation_site/1"] == 86 + sum(
        p.site == "sample:isolation_site/1" for p in done.placements
    )


def test_a_release_frees_the_bed_from_then_on(sample_conn: Connection) -> None:
    held = sample_conn.execute(
        text("SELECT quarantine_id, bed_id FROM bed_assignments ORDER BY id LIMIT 1")
    ).one()
    released_at = NOW - timedelta(minutes=5)
    assert quarantines.release(sample_conn, held.quarantine_id, at=released_at, reason="test",
                               by="test")  # fmt: skip
    ends = sample_conn.execute(
        text("SELECT ends_at FROM bed_assignments WHERE quarantine_id = :q"),
        {"q": held.quarantine_id},
    ).scalar_one()
    assert ends == released_at
    assert iso.beds_at(sample_conn)[0].taken == 85
    assert iso.beds_at(sample_conn, released_at - timedelta(seconds=1))[0].taken == 86
    assert sample_conn.execute(text("SELECT beds_used FROM isolation_sites")).scalar() == 85

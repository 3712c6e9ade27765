"""The people of a synthetic town as table rows: households, residents and door-to-door visits."""

from __future__ import annotations

from datetime import date

import numpy as np
from numpy.typing import NDArray

from geodata.samples import people
from geodata.samples.columnar import Table, local_ids, nullable
from geodata.samples.sorted_groups import first_per_group, position_in_group
from geodata.samples.synthetic.layout import Ints
from geodata.vocab import HouseholdStatus, VisitResult

VACANT_SHARE = 0.04
HOME_QUARANTINE_SHARE = 0.03
MEMBERS = np.array([1, 2, 3, 4, 5, 6], dtype=np.int64)
MEMBERS_P = np.array([0.2, 0.3, 0.25, 0.15, 0.07, 0.03])
"""Members of an occupied household: 2.7 on average, about 2.6 over all households."""

RETURNEE_SHARE = 0.03
CLOSE_CONTACT_SHARE = 0.005
FEVER_SHARE = 0.002
PHONE_SHARE = 0.85
"""Share of members other than the first with a mobile number of their own."""
QUARANTINE_DAYS = 14
ORIGINS = np.array(
    [
        "湖北省武汉市", "湖北省孝感市", "湖北省黄冈市", "北京市", "上海市", "浙江省温州市",
        "广东省深圳市", "广东省东莞市", "湖南省长沙市", "河南省信阳市", "江西省南昌市",
        "四川省成都市", "吉林省长春市", "黑龙江省哈尔滨市",
    ]
)  # fmt: skip

VISITED_SHARE = 0.9
VISIT_DAYS = 14
VISIT_RESULTS = np.array([r.value for r in (VisitResult.SEEN_ALL, VisitResult.PARTIAL,
                                            VisitResult.NOBODY_HOME)])  # fmt: skip
VISIT_RESULTS_P = np.array([0.8, 0.12, 0.08])


def _day(reference: date) -> np.datetime64:
    return np.datetime64(reference, "D")


def households(
    rng: np.random.Generator,
    *,
    building_households: Ints,
    building_grid: Ints,
    building_floors: Ints,
) -> Table:
    """Households of each building, numbered floor by floor (rooms 101, 102, 201, ...)."""
    building = np.repeat(np.arange(len(building_households)), building_households)
    n = len(building)
    k = position_in_group(building_households)
    per_floor = -(-building_households // building_floors)[building]
    room = (1 + k // per_floor) * 100 + 1 + k % per_floor
    vacant = rng.random(n) < VACANT_SHARE
    members = np.where(vacant, 0, rng.choice(MEMBERS, n, p=MEMBERS_P))
    quarantined = ~vacant & (rng.random(n) < HOME_QUARANTINE_SHARE)
    status = np.where(
        vacant,
        HouseholdStatus.VACANT.value,
        np.where(quarantined, HouseholdStatus.HOME_QUARANTINE.value, HouseholdStatus.NORMAL.value),
    )
    return Table(
        "households",
        {
            "id": local_ids(n),
            "building_id": building + 1,
            "grid_id": building_grid[building] + 1,
            "unit": np.full(n, "1"),
            "room": room,
            "members": members,
            "status": status,
        },
        refs={"building_id": "buildings", "grid_id": "grids"},
        source_kind="household",
    )


def residents(rng: np.random.Generator, household: Table, *, reference: date) -> Table:
    """The members of every household, with made-up names, ID and mobile numbers.

    A few are returnees from elsewhere, close contacts or have a fever;
    returnees of the last 14 days, close contacts and everyone in a household
    under home quarantine are quarantined until a date after the reference day.
    """
    members = household.columns["members"]
    of = np.repeat(np.arange(len(members)), members)
    n = len(of)
    first = first_per_group(of)
    today = _day(reference)
    male = rng.random(n) < 0.51
    adult = people.birth_dates(rng, n, on=reference, min_age=22, max_age=85)
    anyone = people.birth_dates(rng, n, on=reference, min_age=0, max_age=90)
    birth = np.where(first, adult, anyone)
    names = people.chinese_names_by_sex(rng, male)
    ids = people.id_numbers(rng, birth, male)
    phones = people.mobile_numbers(rng, n)
    no_phone = ~first & (rng.random(n) >= PHONE_SHARE)

    returnee = rng.random(n) < RETURNEE_SHARE
    origin = ORIGINS[rng.integers(0, len(ORIGINS), n)]
    returned_on = today - rng.integers(0, 22, n).astype("timedelta64[D]")
    close_contact = rng.random(n) < CLOSE_CONTACT_SHARE
    fever = rng.random(n) < FEVER_SHARE

    quarantine = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    recent = returnee & (returned_on > today - np.timedelta64(QUARANTINE_DAYS, "D"))
    quarantine[recent] = returned_on[recent] + np.timedelta64(QUARANTINE_DAYS, "D")
    until = today + rng.integers(1, QUARANTINE_DAYS + 1, n).astype("timedelta64[D]")
    home = household.columns["status"][of] == "home_quarantine"
    quarantine[close_contact | home] = np.fmax(quarantine, until)[close_contact | home]

    return Table(
        "residents",
        {
            "id": local_ids(n),
            "household_id": of + 1,
            "grid_id": household.columns["grid_id"][of],
            "name": names,
            "id_number": ids,
            "phone": nullable(phones, no_phone),
            "returnee": returnee,
            "origin": nullable(origin, ~returnee),
            "returned_on": nullable(returned_on, ~returnee),
            "close_contact": close_contact,
            "fever": fever,
            "quarantine_until": nullable(quarantine, np.isnat(quarantine)),
        },
        refs={"household_id": "households", "grid_id": "grids"},
        source_kind="resident",
    )


def visits(
    rng: np.random.Generator,
    household: Table,
    resident: Table,
    *,
    grid_staff: Ints,
    staff_per_grid: int,
    reference: date,
) -> Table:
    """One door-to-door visit in the last 14 days for most households, by a worker of its grid.

    ``grid_staff`` is the local id of the first staff member of each grid; the
    grid's staff have the ``staff_per_grid`` ids from there.
    """
    visited = np.flatnonzero(rng.random(len(household)) < VISITED_SHARE)
    n = len(visited)
    grid = household.columns["grid_id"][visited] - 1
    vacant = household.columns["members"][visited] == 0
    result = np.where(
        vacant,
        VisitResult.NOBODY_HOME.value,
        VISIT_RESULTS[rng.choice(len(VISIT_RESULTS), n, p=VISIT_RESULTS_P)],
    )
    fevers = np.bincount(
        resident.columns["household_id"] - 1,
        weights=resident.columns["fever"],
        minlength=len(household),
    ).astype(np.int64)[visited]
    fever_count = np.where(result == VisitResult.NOBODY_HOME.value, 0, fevers)
    days = rng.integers(0, VISIT_DAYS, n).astype("timedelta64[D]")
    seconds = rng.integers(8 * 3600, 20 * 3600, n).astype("timedelta64[s]")
    at: NDArray[np.datetime64] = np.datetime64(reference, "s") - days + seconds
    return Table(
        "visits",
        {
            "id": local_ids(n),
            "household_id": visited + 1,
            "grid_id": grid + 1,
            "visited_at": at,
            "worker_id": grid_staff[grid] + rng.integers(0, staff_per_grid, n),
            "result": result,
            "fever_count": fever_count,
        },
        refs={"household_id": "households", "grid_id": "grids", "worker_id": "staff"},
        source_kind="visit",
    )

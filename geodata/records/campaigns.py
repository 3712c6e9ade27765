"""Screening campaigns (排查): a name, a scope of grids (chosen by villages or grids), a start
and a deadline (migration 0015), and their progress per grid.

Progress at a moment `now`, per grid of the campaign:

- `households`: the grid's households;
- `seen`: those with a seen visit (`seen_all` or `partial`) from the start up to `now` (a
  visit after the deadline still counts, late: ask at the deadline for the state then);
- `people_registered`: the residents of the grid's households;
- `people_counted`: per household, the largest `people_seen` of its seen visits in that
  time, capped at the household's registered residents, summed over the grid. The largest
  visit, not the sum of visits: two visits seeing the same two people count two, not four;
  the cap keeps one visit's miscount (or a guest) from counting people nobody registered.
  A visit without `people_seen` (older records) counts nobody.
- `behind_pace`: the share seen is below the share of the campaign's time passed at `now`
  (clamped to [0, 1]); a grid without households is never behind.

The figures are one SQL statement over the campaign's grids: a hash join of the grids'
households with the residents counted per household and the seen visits of the period
aggregated per household (no loop over grids).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from geodata.records.refusal import RecordRefused
from geodata.records.town_settings import town_timezone

MAX_NAME_CHARS = 200
BIGINT_MAX = 2**63 - 1
MAX_CODES = 10_000
SEEN_RESULTS = ("seen_all", "partial")
"""Visit results that count as seen; `nobody_home` is not."""
PROGRESS_FIGURES = ("households", "seen", "people_registered", "people_counted")


@dataclass(frozen=True)
class NewCampaign:
    """A campaign as asked for: its scope is villages or grids (codes), not both. A start or
    deadline without a time zone is the town's time."""

    name: str
    start: datetime
    deadline: datetime
    villages: tuple[str, ...] | None = None
    grids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CheckedCampaign:
    """A campaign that passed every check: its grids resolved, its times aware."""

    name: str
    start: datetime
    deadline: datetime
    grid_ids: tuple[int, ...]
    grid_codes: tuple[str, ...]
    grid_villages: tuple[str, ...]
    """The code of each grid's village."""


def read_moment(value: str) -> datetime:
    """`2026-03-01T08:00[+08:00]` (a `T` or a space between date and time) as a datetime,
    naive when no offset is given; ValueError with the reason otherwise."""
    raw = value.strip()
    if len(raw) <= 10:
        raise ValueError("a date and time (2026-03-01T08:00), not a date alone")
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError("a date and time (2026-03-01T08:00)") from None


_KNOWN = {
    "villages": text("SELECT code FROM villages WHERE code = ANY(:c)"),
    "grids": text("SELECT code FROM grids WHERE code = ANY(:c)"),
}
_GRIDS = (
    "SELECT g.id, g.code, v.code AS village FROM grids g JOIN villages v ON v.id = g.village_id"
)
_GRIDS_OF = {
    "villages": text(_GRIDS + " WHERE v.code = ANY(:c) ORDER BY g.code"),
    "grids": text(_GRIDS + " WHERE g.code = ANY(:c) ORDER BY g.code"),
}


def _codes(values: tuple[str, ...] | None) -> list[str] | None:
    if values is None:
        return None
    return sorted({v.strip() for v in values if v.strip()})


def _resolve(conn: Connection, who: str, new: NewCampaign) -> Sequence[Any]:
    villages, grids = _codes(new.villages), _codes(new.grids)
    if villages is not None and grids is not None:
        raise RecordRefused(f"{who}: scope: villages or grids, not both")
    if villages is None and grids is None:
        raise RecordRefused(f"{who}: scope: give villages or grids")
    field, codes = ("villages", villages) if villages is not None else ("grids", grids)
    assert codes is not None
    if not codes:
        raise RecordRefused(f"{who}: {field}: empty scope (no code given)")
    if len(codes) > MAX_CODES:
        raise RecordRefused(f"{who}: {field}: at most {MAX_CODES} codes")
    known = set(conn.execute(_KNOWN[field], {"c": codes}).scalars())
    unknown = [c for c in codes if c not in known]
    if unknown:
        shown = ", ".join(unknown[:20]) + (" ..." if len(unknown) > 20 else "")
        raise RecordRefused(f"{who}: {field}: unknown {field[:-1]} {shown}")
    rows = conn.execute(_GRIDS_OF[field], {"c": codes}).all()
    if not rows:
        raise RecordRefused(f"{who}: {field}: empty scope (no grid in {', '.join(codes[:20])})")
    return rows


def check(conn: Connection, new: NewCampaign) -> CheckedCampaign:
    """Every refusal names the campaign and the field: a blank or long name, a deadline not
    after the start, no scope or both kinds, an unknown code, a scope without grids."""
    name = new.name.strip()
    who = f"campaign {name!r}"
    if not name:
        raise RecordRefused("campaign: name: required")
    if len(name) > MAX_NAME_CHARS:
        raise RecordRefused(f"campaign: name: at most {MAX_NAME_CHARS} characters")
    zone = town_timezone(conn)
    start = new.start if new.start.tzinfo is not None else new.start.replace(tzinfo=zone)
    deadline = (
        new.deadline if new.deadline.tzinfo is not None else new.deadline.replace(tzinfo=zone)
    )
    if deadline <= start:
        raise RecordRefused(
            f"{who}: deadline: must be after the start"
            f" (start {start.astimezone(zone).isoformat()},"
            f" deadline {deadline.astimezone(zone).isoformat()})"
        )
    rows = _resolve(conn, who, new)
    return CheckedCampaign(
        name=name,
        start=start,
        deadline=deadline,
        grid_ids=tuple(int(r.id) for r in rows),
        grid_codes=tuple(str(r.code) for r in rows),
        grid_villages=tuple(str(r.village) for r in rows),
    )


def insert(conn: Connection, checked: CheckedCampaign, *, actor: str) -> dict[str, Any]:
    """Write a checked campaign and its grids; the campaign as `get` gives it."""
    campaign_id = conn.execute(
        text(
            "INSERT INTO campaigns (name, starts_at, deadline, created_by)"
            " VALUES (:n, :s, :d, :by) RETURNING id"
        ),
        {"n": checked.name, "s": checked.start, "d": checked.deadline, "by": actor},
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO campaign_grids (campaign_id, grid_id)"
            " SELECT :c, unnest(CAST(:g AS bigint[]))"
        ),
        {"c": campaign_id, "g": list(checked.grid_ids)},
    )
    found = get(conn, int(campaign_id))
    assert found is not None
    return found


def add(conn: Connection, new: NewCampaign, *, actor: str) -> dict[str, Any]:
    """Check and write a campaign (no principal: `geodata.services.campaigns` adds one)."""
    return insert(conn, check(conn, new), actor=actor)


_SELECT = (
    "SELECT c.id, c.name, c.starts_at, c.deadline, c.created_by, c.created_at,"
    " array(SELECT g.code FROM campaign_grids cg JOIN grids g ON g.id = cg.grid_id"
    " WHERE cg.campaign_id = c.id ORDER BY g.code) AS grids,"
    " array(SELECT cg.grid_id FROM campaign_grids cg WHERE cg.campaign_id = c.id) AS grid_ids"
    " FROM campaigns c"
)


def _public(row: Any, zone: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "name": row.name,
        "start": row.starts_at.astimezone(zone).isoformat(),
        "deadline": row.deadline.astimezone(zone).isoformat(),
        "created_by": row.created_by,
        "created_at": row.created_at.astimezone(zone).isoformat(),
        "grids": list(row.grids),
        "grid_ids": [int(g) for g in row.grid_ids],
    }


def get(conn: Connection, campaign_id: int) -> dict[str, Any] | None:
    """A campaign with its grid codes (and ids, `grid_ids`, for scope checks); None when
    unknown. Times are in the town's time zone."""
    if not 0 < campaign_id <= BIGINT_MAX:
        return None
    row = conn.execute(text(_SELECT + " WHERE c.id = :i"), {"i": campaign_id}).first()
    return None if row is None else _public(row, town_timezone(conn))


def list_campaigns(conn: Connection) -> list[dict[str, Any]]:
    """Every campaign, the nearest deadline first."""
    zone = town_timezone(conn)
    rows = conn.execute(text(_SELECT + " ORDER BY c.deadline, c.id")).all()
    return [_public(r, zone) for r in rows]


def time_share(start: datetime, deadline: datetime, now: datetime) -> float:
    """The share of the campaign's time passed at `now`, clamped to [0, 1]."""
    share = (now - start) / (deadline - start)
    return min(1.0, max(0.0, share))


def behind_pace(seen: int | None, households: int | None, share: float) -> bool | None:
    """Whether the share of households seen is below the share of time passed (None when
    either count is unknown, as a withheld published figure); no households: never behind."""
    if seen is None or households is None:
        return None
    if households == 0:
        return False
    return seen / households < share


SCOPE_SQL = text(
    "SELECT g.id, g.code, v.code AS village FROM campaign_grids cg"
    " JOIN grids g ON g.id = cg.grid_id JOIN villages v ON v.id = g.village_id"
    " WHERE cg.campaign_id = :campaign"
    " AND (CAST(:grid_ids AS bigint[]) IS NULL OR g.id = ANY(CAST(:grid_ids AS bigint[])))"
    " ORDER BY g.code"
)
"""The campaign's grids (in the principal's scope) with their village."""

PROGRESS_SQL = text(
    """
    SELECT p.grid_id,
           count(*)::int AS households,
           count(s.household_id)::int AS seen,
           sum(p.people)::int AS people_registered,
           sum(least(coalesce(s.people, 0), p.people))::int AS people_counted
    FROM (
        SELECT h.id, h.grid_id, count(r.household_id) AS people
        FROM households h LEFT JOIN residents r ON r.household_id = h.id
        WHERE h.grid_id = ANY(CAST(:grid_ids AS bigint[]))
        GROUP BY h.id
    ) p
    LEFT JOIN (
        SELECT v.household_id, coalesce(max(v.people_seen), 0) AS people
        FROM visits v
        WHERE v.visited_at >= :start AND v.visited_at <= :until
          AND v.result IN ('seen_all', 'partial')
        GROUP BY v.household_id
    ) s ON s.household_id = p.id
    GROUP BY p.grid_id
    """
)
"""Per grid with households: the households, those seen in [start, until], their residents,
and the people counted (each seen household's largest `people_seen`, capped at its
residents). One pass over each table in household order, no loop over grids and no
subquery per household."""

_STREAMING = "SELECT set_config('enable_hashjoin', :value, true)"
"""PROGRESS_SQL is planned without hash joins. The planner cannot tell that the seen visits
aggregated per household are one row per household (it guesses 74 million rows for that
join on 190,000 households), and prefers hash joins feeding a hash aggregate keyed by
household: that spills past work_mem on a county. The merge joins it takes instead stream
households by id, residents from their household index and the sorted visits: on 900 grids
0.24 s of CPU against 0.32 s (190,000 households) and 0.53 s against 1.18 s (450,000)
(scripts/bench/campaign_progress.py, docs/BENCHMARKS.md)."""


def progress(
    conn: Connection,
    campaign_id: int,
    now: datetime,
    *,
    grid_ids: frozenset[int] | None = None,
) -> dict[str, Any]:
    """`{"campaign", "grids"}`: the campaign (with `as_of` and `time_passed`) and its grids'
    exact figures at `now` (only the grids in `grid_ids` when given), each grid with its
    village's code under `village` (for the disclosure rules' groups)."""
    campaign = get(conn, campaign_id)
    if campaign is None:
        raise RecordRefused(f"campaign {campaign_id}: unknown campaign")
    row = conn.execute(
        text("SELECT starts_at, deadline FROM campaigns WHERE id = :i"), {"i": campaign_id}
    ).one()
    share = time_share(row.starts_at, row.deadline, now)
    scope = conn.execute(
        SCOPE_SQL,
        {"campaign": campaign_id, "grid_ids": None if grid_ids is None else sorted(grid_ids)},
    ).all()
    before = conn.execute(text("SELECT current_setting('enable_hashjoin')")).scalar_one()
    conn.execute(text(_STREAMING), {"value": "off"})
    found_rows = conn.execute(
        PROGRESS_SQL,
        {"grid_ids": [g.id for g in scope], "start": row.starts_at, "until": now},
    ).all()
    # Local to the transaction anyway; set back for the caller's next statements (not on an
    # error: the transaction is over then, and the setting with it).
    conn.execute(text(_STREAMING), {"value": before})
    figures = {r.grid_id: r for r in found_rows}
    zone = town_timezone(conn)
    head = {k: v for k, v in campaign.items() if k not in ("grids", "grid_ids")}
    head |= {"as_of": now.astimezone(zone).isoformat(), "time_passed": round(share, 4)}
    grids = []
    for g in scope:
        found = figures.get(g.id)
        counts = {f: 0 if found is None else int(getattr(found, f)) for f in PROGRESS_FIGURES}
        grids.append(
            {
                "grid": g.code,
                "village": g.village,
                **counts,
                "behind_pace": behind_pace(counts["seen"], counts["households"], share),
            }
        )
    return {"campaign": head, "grids": grids}

"""The sample town's isolation site in use: close contacts and returnees in concentrated
quarantine in most of its ordinary beds (ISOLATION_BEDS_USED, so that the site's `beds_used`,
which the database derives from the assignments, is that figure), and a few more people
waiting for a bed."""

from __future__ import annotations

from sqlalchemy import Connection, text

from geodata.records.town_settings import setting
from geodata.samples.town.duty import ISOLATION_BEDS_USED
from geodata.town_time import TOWN_TIMEZONE

ISOLATION_WAITING = 12
"""People whose concentrated quarantine began an hour before the load, without a bed yet."""

SITE = "sample:isolation_site/1"

_OCCUPY = text(
    """
    WITH chosen AS (
        SELECT r.id, coalesce(r.grid_id, h.grid_id) AS grid_id, r.close_contact, r.origin,
               row_number() OVER (ORDER BY r.close_contact DESC, r.id) AS k
        FROM residents r JOIN households h ON h.id = r.household_id
        WHERE (r.close_contact OR r.returnee) AND h.status <> 'home_quarantine'
          AND NOT EXISTS (SELECT 1 FROM quarantines q WHERE q.resident_id = r.id)
        ORDER BY r.close_contact DESC, r.id LIMIT :placed + :waiting
    ), made AS (
        INSERT INTO quarantines (resident_id, grid_id, type, reason, origin, starts_at,
                                 ends_at, created_by)
        SELECT c.id, c.grid_id, 'concentrated',
               CASE WHEN c.close_contact THEN 'close_contact' ELSE 'returnee' END,
               CASE WHEN NOT c.close_contact THEN coalesce(c.origin, 'unknown') END,
               s.at, s.at + make_interval(days => :days), 'sample town'
        FROM chosen c
        CROSS JOIN LATERAL (
            SELECT CASE WHEN c.k <= :placed
                   THEN (date_trunc('day', now() AT TIME ZONE :zone)
                         - make_interval(days => 1 + (c.k % 13)::int) + interval '10 hours')
                        AT TIME ZONE :zone
                   ELSE now() - interval '1 hour' END AS at
        ) s
        RETURNING id, resident_id, grid_id, starts_at
    ), beds AS (
        SELECT b.id, row_number() OVER (ORDER BY r.number, b.label, b.id) AS k
        FROM isolation_beds b JOIN isolation_rooms r ON r.id = b.room_id
        JOIN isolation_sites s ON s.id = b.site_id
        WHERE NOT r.reserve AND s.source_id = :site
    )
    INSERT INTO bed_assignments (bed_id, resident_id, quarantine_id, grid_id, starts_at,
                                 assigned_by)
    SELECT beds.id, m.resident_id, m.id, m.grid_id, m.starts_at, 'sample town'
    FROM made m JOIN chosen c ON c.id = m.resident_id JOIN beds ON beds.k = c.k
    WHERE c.k <= :placed
    """
)
"""Close contacts first, then returnees, of households not in home quarantine and without a
quarantine record: the first ISOLATION_BEDS_USED began 1 to 13 days ago at 10:00 town time
and hold the site's first ordinary beds from then; the next ISOLATION_WAITING began an hour
ago and wait."""


def occupy_isolation_site(conn: Connection) -> dict[str, int]:
    """Concentrated quarantines and bed assignments of the sample's site; rows per table."""
    before = conn.execute(text("SELECT count(*) FROM quarantines")).scalar_one()
    placed = conn.execute(
        _OCCUPY,
        {
            "placed": ISOLATION_BEDS_USED,
            "waiting": ISOLATION_WAITING,
            "days": int(setting(conn, "quarantine_days_concentrated")),
            "zone": TOWN_TIMEZONE.key,
            "site": SITE,
        },
    ).rowcount
    after = conn.execute(text("SELECT count(*) FROM quarantines")).scalar_one()
    return {"quarantines": int(after - before), "bed_assignments": int(placed)}

"""Retention: a dry run changes nothing; a real run anonymises and deletes, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert, select, text, update

from geodata.auth import retention
from geodata.models import AuditEvent, Resident, Visit
from tests import factories as f


def test_purge_anonymises_old_residents_and_deletes_old_visits(conn: Connection) -> None:
    vid = f.village(conn, "9900000401", f.square(0, 0, 1, 1))
    gid = f.grid(conn, vid, "990000040101", f.square(0, 0, 1, 1))
    hid = f.household(conn, "p1", None, gid)
    old = datetime.now(UTC) - timedelta(days=200)
    for name, updated in (("old", old), ("new", datetime.now(UTC))):
        conn.execute(
            insert(Resident).values(
                source_id=f"test:resident/{name}",
                household_id=hid,
                grid_id=gid,
                name="赵六",
                id_number="990101199001011239",
                phone="19900009999",
            )
        )
        conn.execute(
            update(Resident)
            .where(Resident.source_id == f"test:resident/{name}")
            .values(updated_at=updated)
        )
    for n, when in enumerate((old, datetime.now(UTC))):
        conn.execute(
            insert(Visit).values(
                source_id=f"test:visit/{n}",
                household_id=hid,
                grid_id=gid,
                visited_at=when,
                result="seen_all",
            )
        )

    dry = retention.purge(conn, older_than_days=90, actor="local:test", dry_run=True)
    assert (dry.residents_anonymised, dry.visits_deleted) == (1, 1)
    assert conn.execute(text("SELECT count(*) FROM residents WHERE name IS NULL")).scalar() == 0

    done = retention.purge(conn, older_than_days=90, actor="local:test", dry_run=False)
    assert (done.residents_anonymised, done.visits_deleted) == (1, 1)
    names = dict(conn.execute(select(Resident.source_id, Resident.id_number)).all())
    assert names == {"test:resident/old": None, "test:resident/new": "990101199001011239"}
    assert conn.execute(select(Visit.source_id)).scalars().all() == ["test:visit/1"]
    actions = (
        conn.execute(
            select(AuditEvent.action)
            .where(AuditEvent.actor == "local:test")
            .order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )
    assert actions == ["purge_dry_run", "purge"]

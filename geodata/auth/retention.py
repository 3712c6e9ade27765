"""Retention: personal fields and visits past their retention date are anonymised or deleted."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from geodata.auth import audit
from geodata.models import Base

R = Base.metadata.tables["residents"]
V = Base.metadata.tables["visits"]


@dataclass(frozen=True)
class PurgeReport:
    cutoff: str
    residents_anonymised: int
    visits_deleted: int
    dry_run: bool


def purge(conn: Connection, *, older_than_days: int, actor: str, dry_run: bool) -> PurgeReport:
    """Anonymise residents untouched since the cutoff and out of quarantine; delete old visits.

    A resident keeps the household link and the flags (for aggregate figures); name, ID number,
    phone and origin are cleared. Nothing happens with dry_run but the counting.
    """
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    stale = and_(
        R.c.updated_at < cutoff,
        or_(R.c.quarantine_until.is_(None), R.c.quarantine_until < cutoff.date()),
        or_(R.c.name.is_not(None), R.c.id_number.is_not(None), R.c.phone.is_not(None)),
    )
    old_visits = V.c.visited_at < cutoff
    if dry_run:
        residents = conn.execute(select(func.count()).select_from(R).where(stale)).scalar_one()
        visits = conn.execute(select(func.count()).select_from(V).where(old_visits)).scalar_one()
    else:
        residents = conn.execute(
            update(R)
            .where(stale)
            .values(
                name=None, id_number=None, phone=None, origin=None, returnee=False, returned_on=None
            )
        ).rowcount
        visits = conn.execute(delete(V).where(old_visits)).rowcount
    report = PurgeReport(
        cutoff=cutoff.isoformat(),
        residents_anonymised=int(residents),
        visits_deleted=int(visits),
        dry_run=dry_run,
    )
    audit.record(
        conn,
        actor=actor,
        action="purge_dry_run" if dry_run else "purge",
        object_type="resident",
        row_count=report.residents_anonymised + report.visits_deleted,
        detail=asdict(report),
    )
    return report

"""`wangge db backup` and `wangge db restore`: the database and the keys under WANGGE_HOME in
one file, and back into a new embedded cluster or an empty database."""

from __future__ import annotations

import time
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from geodata import db
from geodata.auth import audit
from geodata.auth.access import Action
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.errors import ConfigError


@click.command("backup")
@click.option(
    "-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True
)
@format_option
@pass_ctx
@reports_errors
def db_backup(ctx: Context, output: Path, fmt: str) -> None:
    """One file (mode 0600) with the database (pg_dump's custom format) and the keys under
    WANGGE_HOME (session signing, export pseudonyms). It holds personal data."""
    from geodata.db.backup import PERSONAL_DATA_NOTE, write_backup

    principal = ctx.acting(Action.EXPORT_PERSONAL)
    started = time.monotonic()
    url = db.database_url(ctx.settings, admin=True)
    made = write_backup(ctx.admin_engine, url, ctx.settings.home, output)
    with ctx.admin_engine.begin() as conn:
        audit.record(
            conn,
            actor=principal.name,
            action="backup",
            object_type="database",
            row_count=sum(made.tables.values()),
            detail={"tables": len(made.tables), "keys": list(made.keys)},
        )
    click.echo(f"wangge: {PERSONAL_DATA_NOTE}", err=True)
    emit(
        {
            "path": str(made.path),
            "mode": "0600",
            "size_bytes": made.size_bytes,
            "revision": made.revision,
            "tables": len(made.tables),
            "rows": sum(made.tables.values()),
            "keys": list(made.keys),
            "personal_data": True,
            "seconds": round(time.monotonic() - started, 2),
        },
        fmt,
    )


@click.command("restore")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    help="a new directory: an embedded cluster is made there, with its roles",
)
@click.option("--url", help="an empty database (postgresql+psycopg://...)")
@format_option
@pass_ctx
@reports_errors
def db_restore(ctx: Context, backup: Path, into: Path | None, url: str | None, fmt: str) -> None:
    """Restore a backup into a new embedded cluster under DIR (`--into`; run it with
    WANGGE_HOME=DIR afterwards) or into the empty database at URL (`--url`; the keys go to
    WANGGE_HOME). Row counts are checked against the backup's."""
    from geodata.db.backup import BackupError
    from geodata.db.restore import restore_into, restore_url

    if (into is None) == (url is None):
        raise ConfigError("give exactly one of --into DIR and --url URL")
    ctx.acting(Action.MANAGE_TOWN)
    started = time.monotonic()
    if into is not None:
        restored = restore_into(backup, into.resolve())
    else:
        assert url is not None
        restored = restore_url(backup, make_url(url), ctx.settings.home)
    emit(
        {
            "target": restored.target,
            "tables": len(restored.tables),
            "rows": sum(restored.tables.values()),
            "counts_match": restored.matches,
            "keys": list(restored.keys),
            "seconds": round(time.monotonic() - started, 2),
        },
        fmt,
    )
    if not restored.matches:
        raise BackupError("restored row counts differ from the backup's")

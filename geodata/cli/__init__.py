"""The `wangge` command: database, loading, checks and the web server."""

from __future__ import annotations

import gc

import click
from sqlalchemy import Connection, text

from geodata import db
from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.cli.context import Context, emit, format_option, pass_ctx, reports_errors
from geodata.cli.lazy import LazyGroup
from geodata.db.cluster import LocalCluster
from geodata.errors import WanggeError
from geodata.settings import Settings

LAZY_COMMANDS = {
    "users": "geodata.cli.accounts:users_group",
    "households": "geodata.cli.accounts:households_group",
    "audit": "geodata.cli.accounts:audit_cmd",
    "purge": "geodata.cli.accounts:purge_cmd",
    "import": "geodata.cli.imports:import_group",
    "export": "geodata.cli.export:export_cmd",
    "coverage": "geodata.cli.coverage:coverage_cmd",
    "plan": "geodata.cli.plan:plan_group",
    "town": "geodata.cli.town:town_group",
    "entrances": "geodata.cli.operations:entrances_group",
    "checkpoints": "geodata.cli.operations:checkpoints_group",
    "staff": "geodata.cli.people:staff_group",
    "teams": "geodata.cli.people:teams_group",
    "shifts": "geodata.cli.operations:shifts_group",
    "inspections": "geodata.cli.supervision:inspections_group",
    "rectifications": "geodata.cli.supervision:rectifications_group",
    "quarantine": "geodata.cli.quarantine:quarantine_group",
    "campaigns": "geodata.cli.campaigns:campaigns_group",
    "isolation": "geodata.cli.isolation:isolation_group",
    "daily": "geodata.cli.daily:daily_group",
    "supplies": "geodata.cli.supplies:supplies_group",
    "disinfection": "geodata.cli.disinfection:disinfection_group",
    "risk-areas": "geodata.cli.enterprises:risk_areas_group",
    "enterprises": "geodata.cli.enterprises:enterprises_group",
    "publicity": "geodata.cli.publicity:publicity_group",
}
"""Commands loaded when they run, so that each one starts without the others' libraries."""


@click.group(cls=LazyGroup, lazy_subcommands=LAZY_COMMANDS)
@click.version_option(package_name="wangge")
@click.option(
    "--as",
    "as_user",
    envvar="WANGGE_USER",
    metavar="NAME",
    help="act as this wangge user (default: the local OS user, with admin rights)",
)
@click.pass_context
def main(ctx: click.Context, as_user: str | None) -> None:
    """wangge: grid management for townships in an epidemic."""
    # The command's modules are loaded by now and live until exit: the cyclic collector
    # need not walk their objects again, neither while the command runs nor at exit.
    gc.freeze()
    ctx.obj = Context(Settings.from_env(), as_user=as_user)
    ctx.call_on_close(ctx.obj.close)


# -- database ----------------------------------------------------------------
DB_LAZY_COMMANDS = {
    "backup": "geodata.cli.backup:db_backup",
    "restore": "geodata.cli.backup:db_restore",
}


@main.group("db", cls=LazyGroup, lazy_subcommands=DB_LAZY_COMMANDS)
def db_group() -> None:
    """The database: the embedded local PostGIS cluster, or WANGGE_DATABASE_URL."""


def _cluster(ctx: Context) -> LocalCluster:
    if not ctx.settings.embedded:
        raise WanggeError("WANGGE_DATABASE_URL is set: wangge does not manage that server")
    return LocalCluster(ctx.settings.home)


@db_group.command("up")
@pass_ctx
@reports_errors
def db_up(ctx: Context) -> None:
    """Create (once) and start the embedded cluster; harmless when running."""
    cluster = _cluster(ctx)
    cluster.up()
    click.echo(f"PostGIS running in {cluster.data_dir}")


@db_group.command("down")
@pass_ctx
@reports_errors
def db_down(ctx: Context) -> None:
    """Stop the embedded cluster."""
    _cluster(ctx).down()
    click.echo("stopped")


@db_group.command("status")
@format_option
@pass_ctx
@reports_errors
def db_status(ctx: Context, fmt: str) -> None:
    """Whether the database is running, its URL (password hidden) and PostGIS version."""
    if ctx.settings.embedded:
        status = LocalCluster(ctx.settings.home).status()
    else:
        status = _remote_status(ctx)
    emit(status, fmt)


def _remote_status(ctx: Context) -> dict[str, object]:
    url = db.database_url(ctx.settings)
    status: dict[str, object] = {
        "embedded": False,
        "running": False,
        "url": url.render_as_string(hide_password=True),
        "postgis_version": None,
        "data_dir": None,
    }
    try:
        with ctx.engine.connect() as conn:
            status["postgis_version"] = conn.execute(text("SELECT postgis_lib_version()")).scalar()
            status["running"] = True
    except Exception as exc:
        status["error"] = type(exc).__name__
    return status


@db_group.command("migrate")
@pass_ctx
@reports_errors
def db_migrate(ctx: Context) -> None:
    """Run the Alembic migrations to head (as the owner role)."""
    from geodata.db import migrate

    app_url = db.database_url(ctx.settings)
    migrate.upgrade(ctx.admin_engine, app_role=app_url.username)
    click.echo("migrated to head")


# -- reports -----------------------------------------------------------------
@main.command("stats")
@format_option
@pass_ctx
@reports_errors
def stats(ctx: Context, fmt: str) -> None:
    """Row count of every table."""
    from geodata.db.stats import table_counts

    with ctx.admin_engine.connect() as conn:
        emit(table_counts(conn), fmt)


@main.command("check")
@click.option(
    "--at", "at", metavar="DATETIME", default=None, help="evaluate the duty rules then (now)"
)
@format_option
@pass_ctx
@reports_errors
def check(ctx: Context, at: str | None, fmt: str) -> None:
    """Topology and rule problems: grid overlaps and gaps, strays, entrances, compounds,
    leaders, village entrances, staffing, shifts, hours and teams."""
    from geodata.records.as_of import parse_as_of
    from geodata.records.topology import check_all, render_report

    moment = None if at is None else parse_as_of(at)
    with ctx.admin_engine.connect() as conn:
        report = check_all(conn, at=moment)
    emit(report, fmt, render_report)


# -- loading -----------------------------------------------------------------
def audit_load(conn: Connection, principal: Principal, source: str, counts: dict[str, int]) -> None:
    """A load writes personal data (residents): audited like an import."""
    audit.record(
        conn,
        actor=principal.name,
        action="import",
        object_type="town",
        row_count=sum(counts.values()),
        detail={"source": source, "tables": counts},
    )


@main.group("load")
def load_group() -> None:
    """Load the sample town or a synthetic town of any size."""


@load_group.command("sample")
@click.option("--seed", type=int, default=2020, show_default=True)
@pass_ctx
@reports_errors
def load_sample_cmd(ctx: Context, seed: int) -> None:
    """The sample town from the bundled OpenStreetMap extract (idempotent)."""
    from geodata.samples.town import load_sample

    principal = ctx.acting(Action.IMPORT_DATA)
    with ctx.admin_engine.begin() as conn:
        counts = load_sample(conn, seed=seed)
        if counts:
            audit_load(conn, principal, "sample", counts)
    if counts:
        emit(counts, "text")
    else:
        click.echo("sample town already loaded: nothing changed")


@load_group.command("synthetic")
@click.option("--households", type=click.IntRange(1), required=True)
@click.option("--villages", type=click.IntRange(1), default=None)
@click.option("--grids", type=click.IntRange(1), default=None)
@click.option("--checkpoints", type=click.IntRange(0), default=None)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--progress/--no-progress", default=True)
@pass_ctx
@reports_errors
def load_synthetic_cmd(
    ctx: Context,
    households: int,
    villages: int | None,
    grids: int | None,
    checkpoints: int | None,
    seed: int,
    progress: bool,
) -> None:
    """A generated town of any size, bulk-loaded with COPY."""
    from geodata.samples.synthetic import SyntheticSpec, load_synthetic

    spec = SyntheticSpec.from_counts(
        households=households, villages=villages, grids=grids, checkpoints=checkpoints, seed=seed
    )
    principal = ctx.acting(Action.IMPORT_DATA)
    with ctx.admin_engine.begin() as conn:
        counts = load_synthetic(conn, spec, progress=progress)
        if counts:
            audit_load(conn, principal, f"synthetic seed {seed}", counts)
    emit(counts, "text")


if __name__ == "__main__":
    main()

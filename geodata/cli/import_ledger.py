"""`wangge import ledger-entries|disinfection-places|disinfection-rounds FILE`: CSV files of
records without geometry, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, pass_ctx, reports_errors
from geodata.imports.disinfection_layers import PLACE_FIELDS, PLACES, ROUND_FIELDS, ROUNDS
from geodata.imports.ledger_entries import FIELD_HELP, FIELDS

EXIT_REFUSED = 1


@click.command(
    "ledger-entries",
    help="Import a CSV of supplies ledger entries, posted in the order of `at`, all or none; an"
    " entry posted before must come back unchanged.\n\n\b\n"
    + "\n".join(f"{name}: {FIELD_HELP[name]}" for name in FIELDS),
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encoding", type=click.Choice(["gbk", "utf-8"]), help="when the file does not say")
@click.option("--dry-run", is_flag=True, help="validate and count, change nothing")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_ctx
@reports_errors
def ledger_import_cmd(
    ctx: Context, file: Path, encoding: str | None, dry_run: bool, fmt: str
) -> None:
    from geodata.cli.imports import render_report
    from geodata.imports.ledger_entries import import_ledger

    principal = ctx.acting(Action.IMPORT_DATA)
    with ctx.admin_engine.begin() as conn:
        report = import_ledger(conn, file, actor=principal.name, encoding=encoding, dry_run=dry_run)
    emit(report.as_dict(), fmt, lambda _: render_report(report))
    if report.errors:
        sys.exit(EXIT_REFUSED)


def _disinfection_command(layer: str, fields: dict[str, str], about: str) -> click.Command:
    @click.command(
        layer,
        help=f"Import a CSV of {about}, all rows or none.\n\n\b\n"
        + "\n".join(f"{name}: {meaning}" for name, meaning in fields.items()),
    )
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--encoding", type=click.Choice(["gbk", "utf-8"]))
    @click.option("--dry-run", is_flag=True, help="validate and count, change nothing")
    @click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
    )
    @pass_ctx
    @reports_errors
    def command(ctx: Context, file: Path, encoding: str | None, dry_run: bool, fmt: str) -> None:
        from geodata.cli.imports import render_report
        from geodata.imports.disinfection_layers import import_disinfection

        principal = ctx.acting(Action.IMPORT_DATA)
        with ctx.admin_engine.begin() as conn:
            report = import_disinfection(
                conn, layer, file, actor=principal.name, encoding=encoding, dry_run=dry_run
            )
        emit(report.as_dict(), fmt, lambda _: render_report(report))
        if report.errors:
            sys.exit(EXIT_REFUSED)

    return command


places_import_cmd = _disinfection_command(
    PLACES, PLACE_FIELDS, "places to disinfect (upserted by source id)"
)
rounds_import_cmd = _disinfection_command(
    ROUNDS, ROUND_FIELDS, "disinfection rounds (a log: never changed, never in the future)"
)

"""`wangge import enterprises|passes|publicity-points FILE`: CSV files of the enterprises
screened before they resume work, their staff's passes and the publicity points, all or
nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, pass_ctx, reports_errors
from geodata.imports.enterprise_layers import ENTERPRISES, FIELDS, PASSES, PUBLICITY

EXIT_REFUSED = 1
ABOUT = {
    ENTERPRISES: "enterprises (points or polygons, upserted by source id)",
    PASSES: "passes for returning staff (upserted by number; refused before the enterprise's"
    " approval or for a resident in active quarantine)",
    PUBLICITY: "publicity points (banners, signs, notice boards; loudspeaker routes as lines)",
}


def _command(layer: str) -> click.Command:
    @click.command(
        layer,
        help=f"Import a CSV of {ABOUT[layer]}, all rows or none.\n\n\b\n"
        + "\n".join(f"{name}: {meaning}" for name, meaning in FIELDS[layer].items()),
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
        from geodata.imports.enterprise_layers import import_layer

        principal = ctx.acting(Action.IMPORT_DATA)
        with ctx.admin_engine.begin() as conn:
            report = import_layer(
                conn, layer, file, actor=principal.name, encoding=encoding, dry_run=dry_run
            )
        emit(report.as_dict(), fmt, lambda _: render_report(report))
        if report.errors:
            sys.exit(EXIT_REFUSED)

    return command


COMMANDS = tuple(_command(layer) for layer in (ENTERPRISES, PASSES, PUBLICITY))

"""`wangge import LAYER FILE` for the layers written through their own records (a ledger,
a log, rules across tables) rather than upserted by the generic importer: one command each,
made the same way, all rows or none."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, pass_ctx, reports_errors

EXIT_REFUSED = 1


def record_import_command(
    name: str, about: str, fields: dict[str, str], importer: str, *, layer: str | None = None
) -> click.Command:
    """The command `name`. `importer` ("module:function", imported when the command runs)
    takes the connection, then `layer` when given, then the file, with `actor`, `encoding`
    and `dry_run`, and returns the import report."""

    @click.command(
        name,
        help=f"Import a CSV of {about}, all rows or none.\n\n\b\n"
        + "\n".join(f"{field}: {meaning}" for field, meaning in fields.items()),
    )
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "--encoding", type=click.Choice(["gbk", "utf-8"]), help="when the file does not say"
    )
    @click.option("--dry-run", is_flag=True, help="validate and count, change nothing")
    @click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
    )
    @pass_ctx
    @reports_errors
    def command(ctx: Context, file: Path, encoding: str | None, dry_run: bool, fmt: str) -> None:
        from geodata.cli.imports import render_report

        module, function = importer.split(":")
        run = getattr(importlib.import_module(module), function)
        principal = ctx.acting(Action.IMPORT_DATA)
        leading = () if layer is None else (layer,)
        with ctx.admin_engine.begin() as conn:
            report = run(
                conn, *leading, file, actor=principal.name, encoding=encoding, dry_run=dry_run
            )
        emit(report.as_dict(), fmt, lambda _: render_report(report))
        if report.errors:
            sys.exit(EXIT_REFUSED)

    return command

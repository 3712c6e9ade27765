"""`wangge import LAYER FILE`: one file into one layer, all or nothing; exit 1 when refused."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geodata.auth.access import Action
from geodata.cli.context import Context, emit, pass_ctx, reports_errors
from geodata.imports.layers import LAYERS, LayerSpec, layer_help
from geodata.imports.report import Datum, ImportReport, Layer, ReadOptions

EXIT_REFUSED = 1


class ImportGroup(click.Group):
    """Lists the layers in their schema order, not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        layers = [layer.value for layer in Layer]
        return layers + sorted(name for name in self.commands if name not in layers)


@click.group("import", cls=ImportGroup)
def import_group() -> None:
    """Import one file into one layer: validated in full, then all rows or none.

    \b
    Re-importing a file changes nothing; changed rows are updated by source id.
    Exit codes: 0 imported (or a clean --dry-run), 1 file refused, 2 usage error.
    `wangge import LAYER --help` lists the fields of a layer; see docs/IMPORT.md.
    """


def render_report(report: ImportReport) -> str:
    """The report for people: counts, then every error, repair, skipped feature and warning."""
    verb = "would import" if report.dry_run else "imported"
    lines = []
    if report.errors:
        lines.append(
            f"REFUSED {report.file} ({report.layer}): {len(report.errors)} errors, nothing changed"
        )
        lines.append(f"  {'feature':>8} {'line':>6}  {'field':<20} reason")
        for e in report.errors:
            feature = "" if e.feature is None else str(e.feature)
            line = "" if e.line is None else str(e.line)
            lines.append(f"  {feature:>8} {line:>6}  {(e.field or ''):<20} {e.reason}")
    else:
        lines.append(
            f"{verb} {report.file} into {report.layer}: {report.inserted} inserted, "
            f"{report.updated} updated, {report.unchanged} unchanged"
        )
    if report.repaired:
        lines.append(f"repaired ({len(report.repaired)}):")
        for r in report.repaired:
            where = ", ".join(f"{k} {v}" for k, v in r.items() if k != "reason")
            lines.append(f"  {where}: {r.get('reason', '')}")
    if report.skipped:
        lines.append(f"skipped ({len(report.skipped)}):")
        for r in report.skipped:
            where = ", ".join(f"{k} {v}" for k, v in r.items() if k != "reason")
            lines.append(f"  {where}: {r.get('reason', '')}")
    for w in report.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


def _command_for(spec: LayerSpec) -> click.Command:
    @click.command(
        spec.layer.value,
        help=f"Import a file of {spec.layer.value} (GeoJSON, CSV, GeoPackage, Shapefile .zip, "
        f"OSM .pbf).\n\n\b\n" + layer_help(spec).replace("\n\n", "\n\n\b\n"),
    )
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--crs", metavar="EPSG:NNNN", help="the file's coordinate system")
    @click.option(
        "--datum",
        type=click.Choice([Datum.GCJ02.value, Datum.BD09.value]),
        help="positions copied from a Chinese consumer map: converted to WGS84",
    )
    @click.option(
        "--encoding",
        type=click.Choice(["gbk", "utf-8"]),
        help="text encoding of a CSV or .dbf that does not say",
    )
    @click.option("--layer", "layer_name", metavar="NAME", help="which layer of the file")
    @click.option("--id-field", metavar="F", help="the field holding the source id")
    @click.option("--repair", is_flag=True, help="fix invalid polygons (listed in the report)")
    @click.option(
        "--skip-invalid",
        is_flag=True,
        help="leave out features whose geometry cannot be read or repaired (listed as skipped)",
    )
    @click.option("--dry-run", is_flag=True, help="validate and count, change nothing")
    @click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
    )
    @click.option("--progress/--no-progress", default=True, help="a progress bar on large files")
    @pass_ctx
    @reports_errors
    def command(
        ctx: Context,
        file: Path,
        crs: str | None,
        datum: str | None,
        encoding: str | None,
        layer_name: str | None,
        id_field: str | None,
        repair: bool,
        skip_invalid: bool,
        dry_run: bool,
        fmt: str,
        progress: bool,
    ) -> None:
        from geodata.imports.load import import_file

        principal = ctx.acting(Action.IMPORT_DATA)
        options = ReadOptions(
            crs=crs,
            datum=Datum(datum) if datum else Datum.WGS84,
            encoding=encoding,
            layer_name=layer_name,
            id_field=id_field,
        )
        with ctx.admin_engine.begin() as conn:
            report = import_file(
                conn,
                spec.layer,
                file,
                options,
                repair=repair,
                dry_run=dry_run,
                actor=principal.name,
                progress=progress,
                skip_invalid=skip_invalid,
            )
        emit(report.as_dict(), fmt, lambda _: render_report(report))
        if report.errors:
            sys.exit(EXIT_REFUSED)

    return command


for _spec in LAYERS.values():
    import_group.add_command(_command_for(_spec))


def _add_ledger_layers() -> None:
    """Layers posted through their own records (a ledger), not upserted by source id."""
    from geodata.cli.import_ledger import (
        ledger_import_cmd,
        places_import_cmd,
        rounds_import_cmd,
    )

    for command in (ledger_import_cmd, places_import_cmd, rounds_import_cmd):
        import_group.add_command(command)


_add_ledger_layers()


def _add_enterprise_layers() -> None:
    """Enterprises, passes and publicity points, written through their own records."""
    from geodata.cli.import_enterprises import COMMANDS

    for command in COMMANDS:
        import_group.add_command(command)


_add_enterprise_layers()

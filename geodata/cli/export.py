"""`wangge export`: a layer (or the coverage results) to GeoJSON, GeoPackage, CSV or FlatGeobuf."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geodata import params
from geodata.auth.access import Action
from geodata.cli.context import Context, pass_ctx, reports_errors
from geodata.exports.filters import Filters
from geodata.exports.privacy import DEFAULT_HEX_RESOLUTION, AggregateLevel, PrivacyLevel, load_key
from geodata.exports.run import (
    EXPORTABLE,
    ExportError,
    ExportRequest,
    Format,
    export_action,
    export_to_file,
)
from geodata.imports.report import Layer

LEDGER_LAYERS: tuple[str, ...] = ("ledger-entries", "disinfection-places", "disinfection-rounds")
"""Layers of records kept apart from the map's layers, written as the CSV they are imported
from."""
ENTERPRISE_LAYERS = ("enterprises", "passes", "publicity-points")
"""Enterprises, their passes (personal: aggregate unless `--privacy` says otherwise) and the
publicity points, written as the CSV they are imported from."""
LEDGER_LAYERS += ENTERPRISE_LAYERS
IMPORTABLE = tuple(layer.value for layer in Layer)
"""The import layers: `--for-import` writes each as `wangge import LAYER` reads it."""


@click.command("export")
@click.argument("layer", type=click.Choice(sorted({*EXPORTABLE, *LEDGER_LAYERS, *IMPORTABLE})))
@click.option(
    "--format", "fmt", type=click.Choice([f.value for f in Format]), default=None,
    help="default: from the file name, else geojson",
)  # fmt: skip
@click.option(
    "--privacy", type=click.Choice([p.value for p in PrivacyLevel]), default=None,
    help="personal layers: aggregate (default), pseudonymous, or full (admins)",
)  # fmt: skip
@click.option(
    "--level", type=click.Choice([a.value for a in AggregateLevel]), default="grid",
    show_default=True, help="the units of an aggregate",
)  # fmt: skip
@click.option("--hex-resolution", type=click.IntRange(0, 15), default=DEFAULT_HEX_RESOLUTION,
              show_default=True, help="H3 resolution of --level hex")  # fmt: skip
@click.option("--bbox", metavar="W,S,E,N", help="only features meeting this box (WGS84)")
@click.option("--village", metavar="CODE", help="only features meeting this village")
@click.option("--as-of", metavar="DATE", help="as things stood at the end of this day")
@click.option("--lonlat", is_flag=True, help="CSV: lon and lat columns instead of WKT")
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 byte order mark (Excel)")
@click.option(
    "--for-import", is_flag=True,
    help="every field `wangge import LAYER` reads (source_id, links), geometry as stored: "
    "to edit and import back, or to move to another town (admins; gpkg, geojson or csv)",
)  # fmt: skip
@click.option("--progress/--no-progress", default=None, help="default: when stderr is a terminal")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@pass_ctx
@reports_errors
def export_cmd(
    ctx: Context,
    layer: str,
    fmt: str | None,
    privacy: str | None,
    level: str,
    hex_resolution: int,
    bbox: str | None,
    village: str | None,
    as_of: str | None,
    lonlat: bool,
    bom: bool,
    for_import: bool,
    progress: bool | None,
    output: Path,
) -> None:
    """Export LAYER to a file; personal layers are aggregated unless asked otherwise."""
    if for_import:
        _export_for_import(ctx, layer, fmt, output, lonlat=lonlat, bom=bom, asked=(
            ("--privacy", privacy), ("--bbox", bbox), ("--village", village), ("--as-of", as_of),
        ))  # fmt: skip
        return
    if layer in ENTERPRISE_LAYERS:
        chosen_format = fmt or _format_of(output).value
        if chosen_format not in (Format.CSV.value, Format.GEOJSON.value):
            raise ExportError(f"{layer} are written as CSV or GeoJSON: --format csv|geojson")
        _export_enterprises(ctx, layer, output, privacy=privacy, bom=bom,
                            geojson=chosen_format == Format.GEOJSON.value)  # fmt: skip
        return
    if layer in IMPORTABLE and layer not in EXPORTABLE:
        raise ExportError(f"{layer} is exported with --for-import only")
    if layer in LEDGER_LAYERS:
        _export_ledger(ctx, layer, output, bom=bom)
        return
    chosen = Format(fmt) if fmt else _format_of(output)
    where = params.day_filters({"bbox": bbox, "as_of": as_of})
    box = where.bbox
    level_asked = PrivacyLevel(privacy) if privacy else None
    request = ExportRequest(
        layer=layer,
        fmt=chosen,
        privacy=level_asked,
        level=AggregateLevel(level),
        filters=Filters(
            bbox=None if box is None else (box.min_lon, box.min_lat, box.max_lon, box.max_lat),
            village=village,
            as_of=where.as_of,
        ),
        hex_resolution=hex_resolution,
        csv_lonlat=lonlat,
        csv_bom=bom,
    )
    principal = ctx.acting(export_action(level_asked))
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(unit=" features", disable=not show, file=sys.stderr)

    def total(n: int) -> None:
        bar.total = n
        bar.refresh()

    def advance(n: int) -> None:
        bar.update(n)

    try:
        with ctx.engine.begin() as conn:
            result = export_to_file(
                conn,
                principal,
                request,
                output,
                pseudonym_key=lambda: load_key(ctx.settings.home),
                on_rows=advance,
                on_total=total if show else None,
            )
    finally:
        bar.close()  # a failed export leaves nothing under `output` (written, then renamed)
    level_note = f", per {result.level}" if result.level else ""
    click.echo(f"{result.rows} features ({result.privacy}{level_note}) written to {output}")


def _export_for_import(
    ctx: Context,
    layer: str,
    fmt: str | None,
    output: Path,
    *,
    lonlat: bool,
    bom: bool,
    asked: tuple[tuple[str, str | None], ...],
) -> None:
    from geodata.services.export_for_import import export_for_import, require_right

    given = [name for name, value in asked if value is not None]
    if given:
        raise ExportError(f"--for-import writes whole layers at the full level: drop {given[0]}")
    principal = ctx.acting(Action.VIEW_MAP)
    require_right(principal)
    if layer in LEDGER_LAYERS:
        if (fmt or _format_of(output).value) != Format.CSV.value:
            raise ExportError(f"{layer} are imported from CSV: --format csv")
        if layer in ENTERPRISE_LAYERS:
            _export_enterprises(ctx, layer, output, privacy=PrivacyLevel.FULL.value, bom=bom)
        else:
            _export_ledger(ctx, layer, output, bom=bom)
        return
    chosen = Format(fmt) if fmt else _format_of(output)
    with ctx.engine.begin() as conn:
        result = export_for_import(
            conn, principal, layer, chosen, output, csv_lonlat=lonlat, csv_bom=bom
        )
    click.echo(f"{result.rows} {result.layer} (full, for import) written to {output}")


def _export_ledger(ctx: Context, layer: str, output: Path, *, bom: bool) -> None:
    from geodata.exports.ledger_entries import export_ledger, export_table

    if layer != "ledger-entries":
        principal = ctx.acting(Action.VIEW_MAP)
        with ctx.admin_engine.begin() as conn:
            rows = export_table(conn, principal, layer, output, bom=bom)
        click.echo(f"{rows} rows of {layer} written to {output}")
        return
    principal = ctx.acting(Action.OPERATE)
    with ctx.admin_engine.begin() as conn:
        rows = export_ledger(conn, principal, output, bom=bom)
    click.echo(f"{rows} ledger entries written to {output}")


def _format_of(path: Path) -> Format:
    suffix = path.suffix.lower().lstrip(".")
    aliases = {"json": "geojson", "geojson": "geojson", "gpkg": "gpkg", "csv": "csv", "fgb": "fgb"}
    return Format(aliases.get(suffix, "geojson"))


def _export_enterprises(
    ctx: Context, layer: str, output: Path, *, privacy: str | None, bom: bool, geojson: bool = False
) -> None:
    from geodata.auth.access import Action as Right
    from geodata.exports.enterprise_layers import export_layer

    principal = ctx.acting(Right.VIEW_MAP)
    level = PrivacyLevel(privacy) if privacy else None
    with ctx.admin_engine.begin() as conn:
        rows, written = export_layer(
            conn, principal, layer, output, privacy=level, bom=bom, geojson=geojson
        )
    click.echo(f"{rows} rows of {layer} ({written}) written to {output}")

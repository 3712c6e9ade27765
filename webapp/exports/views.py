"""Downloads of the same exports as `wangge export`, for analysts in the browser or scripts.

`init_app` also mounts the OGC API (/ogc): both serve the export layers, with one key.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as WerkzeugResponse

from geodata import params
from geodata.auth.access import Action
from geodata.disclosure.rules import town_today
from geodata.exports.filters import Filters
from geodata.exports.privacy import DEFAULT_HEX_RESOLUTION, AggregateLevel, PrivacyLevel
from geodata.exports.run import (
    EXPORTABLE,
    MEDIA_TYPES,
    SUFFIXES,
    ExportRequest,
    Format,
    export_to_file,
)
from webapp.infra import database, pseudonym_key
from webapp.infra.policy import principal, requires

bp = Blueprint("exports", __name__)
CHUNK_BYTES = 1 << 20
ALLOWED = frozenset(
    {"privacy", "level", "bbox", "village", "as_of", "hex_resolution", "lonlat", "bom"}
)


def _choice(name: str, kind: type[PrivacyLevel] | type[AggregateLevel]) -> str | None:
    value = request.args.get(name)
    if value is None:
        return None
    if value not in {m.value for m in kind}:
        abort(400, description=f"{name}: one of {', '.join(m.value for m in kind)}")
    return value


def _request(layer: str, fmt: str) -> ExportRequest:
    unknown = sorted(set(request.args) - ALLOWED)
    if unknown:
        abort(400, description=f"unknown query parameter(s): {', '.join(unknown)}")
    if layer not in EXPORTABLE or fmt not in {f.value for f in Format}:
        abort(404)
    raw_resolution = request.args.get("hex_resolution", str(DEFAULT_HEX_RESOLUTION)).strip()
    if not (raw_resolution.isascii() and raw_resolution.isdigit() and len(raw_resolution) <= 2):
        abort(400, description="hex_resolution: an H3 resolution, a whole number from 0 to 15")
    resolution = int(raw_resolution)
    where = params.day_filters(request.args)
    box, as_of = where.bbox, where.as_of
    privacy = _choice("privacy", PrivacyLevel)
    level = _choice("level", AggregateLevel) or AggregateLevel.GRID.value
    return ExportRequest(
        layer=layer,
        fmt=Format(fmt),
        privacy=PrivacyLevel(privacy) if privacy else None,
        level=AggregateLevel(level),
        filters=Filters(
            bbox=None if box is None else (box.min_lon, box.min_lat, box.max_lon, box.max_lat),
            village=request.args.get("village") or None,
            as_of=as_of,
        ),
        hex_resolution=resolution,
        csv_lonlat=request.args.get("lonlat") in ("1", "true", "yes"),
        csv_bom=request.args.get("bom") in ("1", "true", "yes"),
    )


PRIVACY_ACTIONS = (
    (PrivacyLevel.AGGREGATE, Action.EXPORT_AGGREGATE),
    (PrivacyLevel.PSEUDONYMOUS, Action.EXPORT_PSEUDONYMOUS),
    (PrivacyLevel.FULL, Action.EXPORT_PERSONAL),
)
FORM_FIELDS = ("layer", "format", "privacy", "level", "as_of")
FORM_DAYS = 14
"""How many closed days the form offers besides today."""


@bp.get("/exports")
@requires(Action.EXPORT_AGGREGATE)
def index() -> str:
    """A form: layer, format, privacy level (those the caller's role allows), aggregate units.

    It is sent with GET (a download is a read) to `exports.chosen`, which forwards to the file.
    """
    who = principal()
    form = {
        "action": url_for("exports.chosen"),
        "fields": [
            {"name": "layer", "label": "Layer", "options": [(n, n) for n in EXPORTABLE]},
            {"name": "format", "label": "Format", "options": [(f.value, f.value) for f in Format]},
            {
                "name": "privacy",
                "label": "Privacy (personal layers)",
                "options": [(p.value, p.value) for p, a in PRIVACY_ACTIONS if who.can(a)],
            },
            {
                "name": "level",
                "label": "Aggregate per",
                "options": [(a.value, a.value) for a in AggregateLevel],
            },
            {
                "name": "as_of",
                "label": "As of (hexagons: a closed day)",
                "options": [("", "today")] + [(d, d) for d in _closed_days()],
            },
        ],
    }
    return render_template(
        "ogc.html",
        title=gettext("Exports"),
        description=gettext(
            "Personal layers (households, residents, visits, quarantines) and coverage are "
            "published as counts per grid, village or H3 hexagon unless you choose a personal "
            "level your role allows; counts under 5 are left out and the others randomly "
            "rounded to multiples of 5. Every export is audited."
        ),
        links=[],
        form=form,
        body="",
    )


def _closed_days() -> list[str]:
    today = town_today()
    return [(today - timedelta(days=n)).isoformat() for n in range(1, FORM_DAYS + 1)]


@bp.get("/exports/file")
@requires(Action.EXPORT_AGGREGATE)
def chosen() -> WerkzeugResponse:
    """The form's answer: forwarded to /exports/LAYER.FORMAT with the other choices."""
    unknown = sorted(set(request.args) - set(FORM_FIELDS))
    if unknown:
        abort(400, description=f"unknown query parameter(s): {', '.join(unknown)}")
    layer, fmt = request.args.get("layer", ""), request.args.get("format", "")
    if layer not in EXPORTABLE or fmt not in {f.value for f in Format}:
        abort(400, description="layer and format: one of those listed at /exports")
    values: dict[str, Any] = {"layer": layer, "fmt": fmt}
    values.update(
        (k, request.args[k]) for k in ("privacy", "level", "as_of") if request.args.get(k)
    )
    return redirect(url_for("exports.download", **values), code=303)


@bp.get("/exports/<layer>.<fmt>")
@requires(Action.EXPORT_AGGREGATE)
def download(layer: str, fmt: str) -> Response:
    """One export as a file; the file is written, sent and removed."""
    export = _request(layer, fmt)
    workdir = Path(tempfile.mkdtemp(prefix="wangge-export-"))
    path = workdir / f"{layer}{SUFFIXES[export.fmt]}"
    try:
        with database.engine().begin() as conn:
            export_to_file(
                conn, principal(), export, path, pseudonym_key=pseudonym_key.pseudonym_key
            )
    except BaseException:
        _remove(workdir)  # the error itself is answered by webapp.infra.errors
        raise
    response = Response(_chunks(path, workdir), mimetype=MEDIA_TYPES[export.fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    response.headers["Content-Length"] = str(path.stat().st_size)
    # Also when the client goes before the body is read: the file may hold personal rows.
    response.call_on_close(lambda: _remove(workdir))
    return response


def _chunks(path: Path, workdir: Path) -> Iterator[bytes]:
    """The file in pieces; the file and its folder are removed once sent (or abandoned)."""
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                yield chunk
    finally:
        _remove(workdir)


def _remove(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)

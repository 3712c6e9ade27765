"""`POST /api/v1/import/<layer>`: a file uploaded, imported all or nothing, the report returned.

The app refuses request bodies over 1 MiB (MAX_CONTENT_LENGTH); this endpoint alone accepts
up to `WANGGE_IMPORT_MAX_BYTES` (default 64 MiB). The declared Content-Length is checked
before anything reads the body, and the limit is raised for this request only. The policy
layer checks the caller (session or bearer token), the role and a session's CSRF token (in
the X-CSRFToken header) from the headers alone, so a refused upload is never read.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request
from flask.blueprints import BlueprintSetupState
from werkzeug.utils import secure_filename

from geodata.auth.access import Action
from geodata.imports.load import import_file
from geodata.imports.report import Datum, Layer, ReadOptions
from webapp.infra import database
from webapp.infra.policy import principal, requires
from webapp.infra.responses import json_response

bp = Blueprint("imports", __name__)

IMPORT_MAX_BYTES = 64 * 1024 * 1024
ENDPOINT = "imports.upload"
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")
_TRUE = frozenset({"1", "true", "yes", "on"})


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    state.app.config.setdefault("WANGGE_IMPORT_MAX_BYTES", IMPORT_MAX_BYTES)
    # first of all before-request hooks: the limit must hold before any form is parsed
    state.app.before_request_funcs.setdefault(None, []).insert(0, _size_limit)


def _size_limit() -> None:
    if request.endpoint != ENDPOINT:
        return
    limit = int(current_app.config["WANGGE_IMPORT_MAX_BYTES"])
    length = request.content_length
    if length is None:
        abort(411, "send the upload with a Content-Length")
    if length > limit:
        abort(413, f"an upload may be at most {limit // (1024 * 1024)} MiB")
    request.max_content_length = limit


def _flag(name: str) -> bool:
    return (request.form.get(name) or "").strip().lower() in _TRUE


def _text(name: str) -> str | None:
    value = (request.form.get(name) or "").strip()
    return value or None


def _options(limit: int) -> ReadOptions:
    datum = _text("datum") or Datum.WGS84.value
    if datum not in {d.value for d in Datum}:
        abort(400, "datum: one of wgs84, gcj02, bd09")
    encoding = _text("encoding")
    if encoding not in (None, "gbk", "utf-8"):
        abort(400, "encoding: gbk or utf-8")
    return ReadOptions(
        crs=_text("crs"),
        datum=Datum(datum),
        encoding=encoding,
        layer_name=_text("layer"),
        id_field=_text("id_field"),
        max_bytes=limit,
    )


@bp.post("/api/v1/import/<layer>")
@requires(Action.IMPORT_DATA, upload=True)
def upload(layer: str) -> Response:
    """Multipart `file` and the options of `wangge import`; 200 imported, 422 refused."""
    try:
        which = Layer(layer)
    except ValueError:
        abort(404)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400, "send the file as the multipart field 'file'")
    limit = int(current_app.config["WANGGE_IMPORT_MAX_BYTES"])
    options = _options(limit)
    shown = secure_filename(upload.filename)[:100] or "upload"
    suffix = Path(shown).suffix.lower()
    suffix = suffix if _SUFFIX.match(suffix) else ".bin"
    with tempfile.TemporaryDirectory(prefix="wangge-upload-") as private:  # mode 0700
        path = Path(private) / f"upload{suffix}"
        upload.save(path)
        with database.admin_engine().begin() as conn:
            report = import_file(
                conn,
                which,
                path,
                options,
                repair=_flag("repair"),
                dry_run=_flag("dry_run"),
                actor=principal().name,
            )
    report.file = shown
    return json_response(report.as_dict(), status=422 if report.errors else 200)

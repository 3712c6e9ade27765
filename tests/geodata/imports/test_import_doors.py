"""The doors of an import: the command line's exit codes, and uploads to the web app
(authorised before their body is read)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests import conftest
from tests.geodata.imports.support import (
    feature,
    run_cli,
    write_geojson,
    write_text,
)
from webapp import create_app


def _sites(tmp_path: Path, *, beds: object = 4, name: str = "sites") -> Path:
    return write_geojson(
        tmp_path,
        [
            feature(
                {"type": "Point", "coordinates": [9.52, 47.12]},
                source_id="cli-1",
                name="Hall",
                beds=beds,
            )
        ],
        name,
    )


def test_cli_exit_codes(own_db: conftest.TestDatabase, tmp_path: Path) -> None:
    code, out = run_cli(
        own_db, "import", "isolation-sites", str(_sites(tmp_path)), "--format", "json"
    )
    assert code == 0, out
    report = orjson.loads(out)
    assert (report["layer"], report["inserted"], report["errors"]) == ("isolation-sites", 1, [])
    code, out = run_cli(own_db, "import", "isolation-sites", str(_sites(tmp_path)))
    assert code == 0
    assert "0 inserted, 0 updated, 1 unchanged" in out
    bad = _sites(tmp_path, beds="many", name="bad")
    code, out = run_cli(own_db, "import", "isolation-sites", str(bad), "--format", "json")
    assert code == 1
    errors = orjson.loads(out)["errors"]
    assert errors == [
        {"reason": "'many' is not a whole number", "feature": 0, "line": None, "field": "beds"}
    ]
    code, out = run_cli(own_db, "import", "isolation-sites", str(bad))
    assert code == 1
    assert "REFUSED" in out
    assert "'many' is not a whole number" in out
    assert run_cli(own_db, "import", "isolation-sites", str(tmp_path / "missing.geojson"))[0] == 2
    assert run_cli(own_db, "import", "lakes", str(bad))[0] == 2
    assert run_cli(own_db, "import", "isolation-sites", str(bad), "--datum", "mars")[0] == 2
    code, out = run_cli(own_db, "import", "households", "--help")
    assert code == 0
    assert "members (integer, required; >= 0)" in out


# --- the web endpoint -------------------------------------------------------------------------


@pytest.fixture
def web(own_db: conftest.TestDatabase) -> Iterator[dict[str, Any]]:
    """The app over a database of the test's own (imports commit)."""
    accounts = {
        "admin": conftest.make_account(own_db, "imp-admin", "admin"),
        "planner": conftest.make_account(own_db, "imp-planner", "planner"),
    }
    app = create_app(own_db.settings, engine=own_db.app, admin_engine=own_db.owner)
    try:
        yield {"app": app, "accounts": accounts}
    finally:
        engine = app.extensions.get("wangge.import.admin_engine")
        if engine is not None:
            engine.dispose()


def _post(web: dict[str, Any], role: str, path: Path, **form: str) -> Any:
    client = web["app"].test_client()
    token = web["accounts"][role].token
    with path.open("rb") as fh:
        return client.post(
            "/api/v1/import/isolation-sites",
            data={"file": (fh, "my sites.geojson"), **form},
            headers={"Authorization": f"Bearer {token}"},
            content_type="multipart/form-data",
        )


def test_web_import_for_admin_refused_for_planner(web: dict[str, Any], tmp_path: Path) -> None:
    assert _post(web, "planner", _sites(tmp_path)).status_code == 403
    dry = _post(web, "admin", _sites(tmp_path), dry_run="true")
    assert dry.status_code == 200
    assert dry.get_json()["inserted"] == 1
    ok = _post(web, "admin", _sites(tmp_path))
    assert ok.status_code == 200, ok.get_json()
    body = ok.get_json()
    assert (body["inserted"], body["file"]) == (1, "my_sites.geojson")
    again = _post(web, "admin", _sites(tmp_path)).get_json()
    assert again["unchanged"] == 1
    refused = _post(web, "admin", _sites(tmp_path, beds=-2, name="bad"))
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "beds"


def test_web_import_checks_the_size_before_parsing(web: dict[str, Any], tmp_path: Path) -> None:
    web["app"].config["WANGGE_IMPORT_MAX_BYTES"] = 2048
    big = write_text(tmp_path, "x" * 5000, "big.geojson")
    assert _post(web, "admin", big).status_code == 413


class RecordingStream(io.BytesIO):
    """An upload body that remembers whether anything read it."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.was_read = False

    def read(self, size: int | None = -1, /) -> bytes:
        self.was_read = True
        return super().read(size)

    def readline(self, size: int | None = -1, /) -> bytes:
        self.was_read = True
        return super().readline(size)

    def readinto(self, buffer: Any, /) -> int:
        self.was_read = True
        return super().readinto(buffer)


_BOUNDARY = "wangge-boundary"
_BIG_UPLOAD = (
    f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.geojson"\r\n'
    "Content-Type: application/geo+json\r\n\r\n"
).encode() + b" " * (8 * 1024 * 1024)


def _raw_upload(client: Any, headers: dict[str, str]) -> tuple[int, bool]:
    """POST an 8 MiB multipart body; the status and whether the app read any of it."""
    stream = RecordingStream(_BIG_UPLOAD + f"\r\n--{_BOUNDARY}--\r\n".encode())
    response = client.post(
        "/api/v1/import/isolation-sites",
        input_stream=stream,
        headers={
            "Content-Type": f"multipart/form-data; boundary={_BOUNDARY}",
            "Content-Length": str(len(stream.getvalue())),
            **headers,
        },
    )
    return response.status_code, stream.was_read


def _session_client(web: dict[str, Any], role: str) -> tuple[Any, str]:
    """A client signed in as `role` through the login form, and its CSRF token."""
    client = web["app"].test_client()

    def token() -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert found
        return found.group(1)

    account = web["accounts"][role]
    signed_in = client.post(
        "/login",
        data={"username": account.username, "password": account.password, "csrf_token": token()},
    )
    assert signed_in.status_code == 302
    return client, token()  # the session is new after signing in, and so is its token


def test_a_refused_upload_is_answered_without_reading_its_body(web: dict[str, Any]) -> None:
    web["app"].config["WANGGE_IMPORT_MAX_BYTES"] = 16 * 1024 * 1024
    anonymous = web["app"].test_client()
    assert _raw_upload(anonymous, {}) == (401, False)
    assert _raw_upload(anonymous, {"Authorization": "Bearer not-a-token"}) == (401, False)
    planner = {"Authorization": f"Bearer {web['accounts']['planner'].token}"}
    assert _raw_upload(anonymous, planner) == (403, False)
    in_session, token = _session_client(web, "planner")
    assert _raw_upload(in_session, {"X-CSRFToken": token}) == (403, False)
    admin, token = _session_client(web, "admin")
    assert _raw_upload(admin, {}) == (400, False)  # a session's upload needs its CSRF header
    assert _raw_upload(admin, {"X-CSRFToken": "forged"}) == (400, False)
    status, read = _raw_upload(admin, {"X-CSRFToken": token})
    assert (status, read) == (
        422,
        True,
    )  # allowed: read, then refused as a file that is not GeoJSON


def test_a_session_upload_with_its_csrf_header_is_imported(
    web: dict[str, Any], tmp_path: Path
) -> None:
    client, token = _session_client(web, "admin")
    with _sites(tmp_path).open("rb") as fh:
        answer = client.post(
            "/api/v1/import/isolation-sites",
            data={"file": (fh, "sites.geojson"), "dry_run": "true"},
            headers={"X-CSRFToken": token},
            content_type="multipart/form-data",
        )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["inserted"] == 1


# --- files read in chunks -------------------------------------------------------------------

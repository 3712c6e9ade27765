"""Bad parameters get 4xx, never 500: every GET route of the URL map, walked with hostile values."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.routing import Rule

from tests import conftest
from webapp import create_app
from webapp.infra.params import BIGINT_MAX, local_path

HOSTILE = (
    "99999999999999999999",
    "-1",
    "%00",
    "a%0d%0ab",
    "%3Cscript%3E",
    "1e400",
    "NaN",
    "9" * 5000,
)
"""Sent as they stand (already percent-encoded): huge, negative, NUL, CR/LF, markup, overflow."""

PARAMS = (
    "offset",
    "limit",
    "id",
    "grid",
    "village",
    "next",
    "as_of",
    "datetime",
    "bbox",
    "hex_resolution",
    "level",
    "privacy",
    "format",
    "f",
    "layer",
    "page",
    "items",
    "radius_m",
    "network",
    "compound",
    "lang",
    "at",
)

PYTHONS_WORDS = (b"invalid literal for", b"could not convert", b"Traceback", b"has no attribute")
"""Python's messages, which a refusal must not pass on: ours name the parameter and its range."""

_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@dataclass(frozen=True)
class Walk:
    app: Flask
    admin: conftest.Account
    samples: dict[str, dict[str, str]]
    """Per endpoint, path values that reach the view, so that its query parameters are parsed."""


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


@pytest.fixture(scope="module")
def walk(small_town_db: conftest.TestDatabase) -> Walk:
    """The app over the module's own small town (the walk commits sessions and audit rows)."""
    admin = conftest.make_account(small_town_db, "bad-params-admin", "admin")
    with small_town_db.owner.begin() as conn:
        campaign = conn.execute(
            text(
                "INSERT INTO campaigns (name, starts_at, deadline) VALUES ('walk',"
                " now() - interval '1 day', now() + interval '1 day') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text("INSERT INTO campaign_grids (campaign_id, grid_id) SELECT :c, id FROM grids"),
            {"c": campaign},
        )
        household = conn.execute(text("SELECT min(id) FROM households")).scalar_one()
        village = conn.execute(text("SELECT min(id) FROM villages")).scalar_one()
        grid = conn.execute(text("SELECT min(id) FROM grids")).scalar_one()
        entrance = conn.execute(text("SELECT min(id) FROM entrances")).scalar_one()
        checkpoint = conn.execute(text("SELECT min(id) FROM checkpoints")).scalar_one()
        shift = conn.execute(text("SELECT min(id) FROM checkpoint_shifts")).scalar_one()
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) c FROM grids) t"
            )
        ).one()
    x, y = _tile(float(lon), float(lat), 15)
    samples = {
        "auth.activate": {"code": "no-such-code"},
        "map.layer": {"name": "villages"},
        "map.layer_responsible": {"name": "grids", "feature_id": str(grid)},
        "campaigns.progress": {"campaign_id": str(campaign)},
        "households.show": {"household_id": str(household)},
        "households.api_show": {"household_id": str(household)},
        "exports.download": {"layer": "villages", "fmt": "csv"},
        "ogc.collection": {"cid": "villages"},
        "ogc.items": {"cid": "villages"},
        "ogc.item": {"cid": "villages", "fid": str(village)},
        "tiles.tile": {"layer": "households", "z": "15", "x": str(x), "y": str(y)},
        "static": {"filename": "plan/plan.js"},
        "operations.entrance": {"object_id": str(entrance)},
        "operations.checkpoint": {"object_id": str(checkpoint)},
        "operations.shift": {"shift_id": str(shift)},
    }
    app = create_app(
        small_town_db.settings, engine=small_town_db.app, admin_engine=small_town_db.owner
    )
    return Walk(app, admin, samples)


def _get_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if "GET" in (r.methods or ())]


def _path(rule: Rule, values: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values[m.group(1)], rule.rule)


def _urls(walk: Walk, rule: Rule) -> Iterator[str]:
    sample = walk.samples.get(rule.endpoint, {})
    for name in rule.arguments:
        for value in HOSTILE:
            yield _path(rule, {**sample, name: value})
    base = _path(rule, sample)
    for name in PARAMS:
        for value in HOSTILE:
            yield f"{base}?{name}={value}"


def test_every_route_with_variables_has_samples_that_reach_its_view(walk: Walk) -> None:
    client = walk.app.test_client()
    auth = {"Authorization": f"Bearer {walk.admin.token}"}
    for rule in _get_rules(walk.app):
        if rule.arguments and rule.endpoint != "auth.activate":
            assert rule.endpoint in walk.samples, f"add path values for {rule.rule} to the walk"
            url = _path(rule, walk.samples[rule.endpoint])
            with client.get(url, headers=auth) as answer:
                assert answer.status_code == 200, url


@pytest.mark.parametrize("who", ["admin", "anonymous"])
def test_no_hostile_value_gives_a_server_error(walk: Walk, who: str) -> None:
    client = walk.app.test_client()
    auth = {"Authorization": f"Bearer {walk.admin.token}"} if who == "admin" else {}
    failed = []
    for rule in _get_rules(walk.app):
        for url in _urls(walk, rule):
            with client.get(url, headers=auth) as answer:
                if answer.status_code >= 500:
                    failed.append(f"{answer.status_code} {url[:120]}")
                elif any(words in answer.get_data() for words in PYTHONS_WORDS):
                    failed.append(f"{answer.status_code} {url[:120]}: Python's own message")
    assert failed == [], "\n".join(failed)


def test_a_refusal_names_the_parameter_in_our_own_words(walk: Walk) -> None:
    client = walk.app.test_client()
    auth = {"Authorization": f"Bearer {walk.admin.token}"}
    for url, name in (
        ("/api/v1/households?offset=99999999999999999999", "offset"),
        ("/api/v1/households?limit=x", "limit"),
        ("/ogc/collections/villages/items?offset=99999999999999999999", "offset"),
        ("/api/v1/households?grid=a%00b", "grid"),
        ("/api/layers/villages.geojson?village=a%0d%0ab", "village"),
    ):
        answer = client.get(url, headers=auth)
        assert answer.status_code == 400, url
        body = answer.get_json()
        message = body.get("message") or body["description"]  # OGC API's own error document
        assert message.startswith(f"{name}: "), message
        assert "invalid literal" not in message
    assert client.get(f"/api/v1/households/{BIGINT_MAX + 1}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/households/{BIGINT_MAX}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/households?grid=G1", True),
        ("/plan", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example/", False),
        ("/a\r\nSet-Cookie: x=1", False),
        ("/a\x00b", False),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_next_is_only_a_path_on_this_site(target: str, kept: bool) -> None:
    assert local_path(target) == (target if kept else None)


def test_a_login_with_cr_lf_in_next_goes_to_the_map(walk: Walk) -> None:
    client = walk.app.test_client()
    page = client.get("/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    answer = client.post(
        "/login",
        data={
            "username": walk.admin.username,
            "password": walk.admin.password,
            "csrf_token": found.group(1),
            "next": "/a\r\nLocation: https://evil.example/",
        },
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"

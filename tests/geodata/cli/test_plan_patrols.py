"""`wangge plan patrols` and `wangge plan routes` on the sample town: the JSON the issue
names, refusals that exit 1 and change nothing, `--apply` writing the period's zones with an
audit event, routes that walk every segment of a zone in loops within the limit, and GPX."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from geodata.services.patrol_planning import _last_number
from tests.conftest import TestDatabase
from tests.geodata.cli.test_accounts import invoke


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    return throwaway_sample_db


@pytest.fixture(scope="module")
def small_village(town: TestDatabase) -> str:
    """The village with the fewest metres of road (but some)."""
    with town.owner.connect() as conn:
        code = conn.execute(
            text(
                "SELECT v.code FROM villages v JOIN roads r ON ST_Intersects(r.geom, v.geom)"
                " GROUP BY v.code ORDER BY sum(ST_Length(ST_Intersection(r.geom, v.geom)"
                "::geography)) LIMIT 1"
            )
        ).scalar_one()
    return str(code)


def _zones(town: TestDatabase) -> list[tuple[str, str]]:
    with town.owner.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source_id, period FROM patrol_zones WHERE retired_at IS NULL"
                " ORDER BY source_id"
            )
        )
        return [(str(s), str(p)) for s, p in rows]


def test_refusals_exit_1_name_the_reason_and_change_nothing(
    town: TestDatabase, small_village: str
) -> None:
    before = _zones(town)
    cases = [
        (["--zones", "0", "--period", "day"], "at least 1"),
        (["--zones", "2", "--period", "day", "--village", "nowhere"], "unknown village"),
        (["--zones", "100000", "--period", "day", "--village", small_village], "at most"),
    ]
    for args, reason in cases:
        result = invoke(town, "plan", "patrols", *args, "--apply")
        assert result.exit_code == 1, result.output
        assert reason in result.stderr
    assert _zones(town) == before


def test_zones_json_then_apply_then_routes_over_every_segment(
    town: TestDatabase, small_village: str, tmp_path: Path
) -> None:
    args = ["plan", "patrols", "--zones", "2", "--period", "night", "--village", small_village]
    shown = invoke(town, *args, "--format", "json")
    assert shown.exit_code == 0, shown.output
    body = orjson.loads(shown.stdout)
    assert {"zones", "hours_max_min", "solve_s"} <= set(body)
    assert len(body["zones"]) == 2
    for zone in body["zones"]:
        assert {"id", "hours", "households", "road_m", "pieces", "polsby_popper", "units"} <= set(
            zone
        )
        assert zone["hours"] > 0
    hours = [z["hours"] for z in body["zones"]]
    assert body["hours_max_min"] == pytest.approx(max(hours) / min(hours), rel=1e-3)

    applied = invoke(town, *args, "--apply", "--format", "json")
    assert applied.exit_code == 0, applied.output
    made = [z["id"] for z in orjson.loads(applied.stdout)["zones"]]
    zones = _zones(town)
    assert [s for s, p in zones if p == "night"] == sorted(made)
    with town.owner.connect() as conn:
        audited = conn.execute(
            text("SELECT row_count FROM audit_events WHERE action = 'plan_patrol_zones'")
        ).scalar_one()
    assert audited == 2

    routes = invoke(
        town, "plan", "routes", "--zone", made[0], "--loop-hours", "4", "--gpx", str(tmp_path),
        "--format", "json",
    )  # fmt: skip
    assert routes.exit_code == 0, routes.output
    (route,) = orjson.loads(routes.stdout)["routes"]
    assert {"zone", "route_m", "street_m", "segments", "segments_covered", "loops"} <= set(route)
    assert route["segments_covered"] == route["segments"] > 0
    assert route["route_m"] >= route["street_m"]
    for lp in route["loops"]:
        assert {"period", "route_m", "hours"} <= set(lp)
        assert lp["period"] == "night"
        assert lp["hours"] <= 4.0
    gpx = (tmp_path / f"{made[0].replace(':', '_')}.gpx").read_text()
    assert gpx.count("<trk>") == len(route["loops"])

    for _ in range(2):  # the second retires the first, which is kept
        stored = invoke(
            town, "plan", "routes", "--zone", made[0], "--loop-hours", "4", "--apply",
            "--format", "json",
        )  # fmt: skip
        assert stored.exit_code == 0, stored.output
    with town.owner.connect() as conn:
        kept = conn.execute(
            text("SELECT count(*), count(retired_at) FROM patrol_routes WHERE zone = :z"),
            {"z": made[0]},
        ).one()
    assert tuple(kept) == (2, 1)
    out = tmp_path / "routes.geojson"
    exported = invoke(town, "export", "patrol-routes", "--format", "geojson", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    features = orjson.loads(out.read_bytes())
    assert features["type"] == "FeatureCollection"
    assert len(features["features"]) == len(route["loops"])
    for feature in features["features"]:
        assert feature["geometry"]["type"] == "LineString"
        assert {"zone", "loop", "period", "route_m", "hours"} <= set(feature["properties"])
        assert feature["properties"]["zone"] == made[0]
    zones_out = tmp_path / "zones.geojson"
    assert invoke(town, "export", "patrol-zones", "-o", str(zones_out)).exit_code == 0
    assert {
        f["properties"]["zone"] for f in orjson.loads(zones_out.read_bytes())["features"]
    } >= set(made)

    for extra, reason in [
        (["--zone", "no-such-zone"], "unknown zone"),
        (["--zone", made[0], "--station", "no-such-post"], "unknown station"),
        (["--zone", made[0], "--start", "0,0"], "outside the zone"),
        (["--zone", made[0], "--loop-hours", "0.001"], "shorter than the longest round trip"),
    ]:
        refused = invoke(town, "plan", "routes", *extra)
        assert refused.exit_code == 1, refused.output
        assert reason in refused.stderr


def test_a_new_plan_retires_zones_and_keeps_every_earlier_outline(
    town: TestDatabase, small_village: str
) -> None:
    """Nothing is lost: the zones a plan replaces are retired (their shifts still name them),
    a zone of the same id keeps its earlier outline in patrol_zone_history, and a plan made
    around kept zones numbers its own after theirs."""
    with town.owner.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM patrol_zones")).scalar_one()
    args = ["plan", "patrols", "--period", "day", "--village", small_village, "--apply"]
    first = invoke(town, *args, "--zones", "2", "--format", "json")
    assert first.exit_code == 0, first.output
    one, two = (z["id"] for z in orjson.loads(first.stdout)["zones"])
    again = invoke(town, *args, "--zones", "1", "--format", "json")
    assert again.exit_code == 0, again.output
    assert [z["id"] for z in orjson.loads(again.stdout)["zones"]] == [one]
    with town.owner.connect() as conn:
        rows: dict[str, bool] = dict(
            conn.execute(
                text(
                    "SELECT source_id, retired_at IS NOT NULL FROM patrol_zones"
                    " WHERE period = 'day'"
                )
            ).all()
        )
        history = conn.execute(
            text(
                "SELECT h.source_id, h.change, ST_Equals(h.geom, z.geom) FROM patrol_zone_history h"
                " JOIN patrol_zones z ON z.id = h.zone_id WHERE h.source_id = ANY(:ids)"
                " ORDER BY h.id"
            ),
            {"ids": [one, two]},
        ).all()
        total = conn.execute(text("SELECT count(*) FROM patrol_zones")).scalar_one()
        detail = conn.execute(
            text(
                "SELECT detail FROM audit_events WHERE action = 'plan_patrol_zones'"
                " ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
    assert rows[one] is False
    assert rows[two] is True
    assert all(retired for sid, retired in rows.items() if not sid.startswith("plan:"))
    assert total == before + 2  # the sample's zones and the first plan's are all still there
    assert (one, "update", False) in [tuple(h) for h in history]  # zone 1's first outline
    assert (two, "update", True) in [tuple(h) for h in history]  # zone 2 before it retired
    assert detail["retired"] == [two]

    kept = invoke(
        town, "plan", "patrols", "--period", "day", "--zones", "1", "--keep-existing",
        "--format", "json",
    )  # fmt: skip
    assert kept.exit_code == 0, kept.output
    assert [z["id"] for z in orjson.loads(kept.stdout)["zones"]] == ["plan:day:town:1"]
    assert _last_number([one, two, "plan:day:x:9"], one[: -len("1")]) == 2

"""`wangge risk-areas`, `enterprises`, `enterprises passes`, `publicity`, and the imports and
exports of `enterprises`, `passes` and `publicity-points` on a committed town: the list
contract, refusals (exit 1, nothing changed, the row, field and reason named), rights (exit
3) and scope, imports all or nothing and idempotent, exports that import back unchanged,
and passes exported under the privacy levels of residents."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from geodata.cli import main
from geodata.records import quarantines
from geodata.records.enterprise_reviews import CHECKLIST
from geodata.records.enterprises import STATES
from tests import factories as f
from tests.conftest import TestDatabase, make_account


def invoke(db: TestDatabase, *args: str, user: str = "") -> Result:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
        "WANGGE_USER": user,
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def as_json(db: TestDatabase, *args: str, user: str = "") -> Any:
    done = invoke(db, *args, "--format", "json", user=user)
    assert done.exit_code == 0, done.output
    return orjson.loads(done.stdout)


def ll(x: float, y: float) -> tuple[str, str]:
    return str(f.ORIGIN[0] + x * f.KM_LON), str(f.ORIGIN[1] + y * f.KM_LAT)


def count(db: TestDatabase, table: str) -> int:
    with db.owner.connect() as c:
        return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608 (test tables)


@pytest.fixture(scope="module")
def db(throwaway_db: TestDatabase) -> TestDatabase:
    with throwaway_db.owner.begin() as c:
        one = f.village(c, "V1", f.square(0, 0, 1, 1))
        two = f.village(c, "V2", f.square(1, 0, 2, 1))
        grid = f.grid(c, one, "G1", f.square(0, 0, 1, 1))
        f.grid(c, two, "G2", f.square(1, 0, 2, 1))
        home = f.household(c, "h1", None, grid)
        for source in ("r-1", "r-2", "r-sick"):
            c.execute(
                text("INSERT INTO residents (source_id, household_id, grid_id, name)"
                     " VALUES (:s, :h, :g, 'Zhao Liu')"),
                {"s": source, "h": home, "g": grid},
            )  # fmt: skip
        quarantines.add(c, quarantines.NewQuarantine(
            resident="r-sick", type="home", reason="close_contact",
            start=datetime.now(UTC) - timedelta(days=1)), actor="t")  # fmt: skip
    make_account(throwaway_db, "cmd-v1", "commander", village_codes=("V1",))
    make_account(throwaway_db, "cmd-v2", "commander", village_codes=("V2",))
    make_account(throwaway_db, "ana", "analyst")
    make_account(throwaway_db, "gw-1", "grid_worker", grid_codes=("G1",))
    assert invoke(throwaway_db, "risk-areas", "add", "WH", "--name", "Wuhan",
                  "--from", "2026-01-20").exit_code == 0  # fmt: skip
    return throwaway_db


def test_risk_areas_kept_by_admins(db: TestDatabase) -> None:
    reversed_days = invoke(db, "risk-areas", "add", "HB", "--name", "Hubei", "--from",
                           "2026-02-01", "--until", "2026-01-01")  # fmt: skip
    assert reversed_days.exit_code == 1
    assert "risk area 'HB': until: 2026-01-01 is before from 2026-02-01" in reversed_days.output
    assert invoke(db, "risk-areas", "add", "HB", "--name", "Hubei", "--from", "2026-01-23",
                  user="cmd-v1").exit_code == 3  # fmt: skip
    assert invoke(db, "risk-areas", "add", "HB", "--name", "Hubei", "--from", "2026-01-23",
                  "--until", "2026-03-31").exit_code == 0  # fmt: skip
    listed = as_json(db, "risk-areas", "list", "--on", "2026-04-02")["risk_areas"]
    assert [a["code"] for a in listed] == ["WH"]
    assert invoke(db, "risk-areas", "retire", "HB").exit_code == 0
    again = invoke(db, "risk-areas", "retire", "HB")
    assert (again.exit_code, "retired already" in again.output) == (1, True)
    assert [a["code"] for a in as_json(db, "risk-areas", "list")["risk_areas"]] == ["WH"]


def add_enterprise(db: TestDatabase, source: str, x: float, *extra: str, user: str = "") -> Result:
    lon, lat = ll(x, 0.5)
    return invoke(db, "enterprises", "add", source, "--name", f"Plant {source}", "--kind",
                  "factory", "--responsible", "Qian Qi", "--staff-total", "40", "--staff-local",
                  "30", "--lon", lon, "--lat", lat, *extra, user=user)  # fmt: skip


def test_enterprises_reviews_and_passes(db: TestDatabase) -> None:
    assert add_enterprise(db, "ent-1", 0.5, "--risk-staff", "WH:4").exit_code == 0
    assert add_enterprise(db, "ent-2", 1.5, user="cmd-v2").exit_code == 0
    out_of_scope = add_enterprise(db, "ent-3", 1.5, user="cmd-v1")
    assert out_of_scope.exit_code == 1
    assert "enterprise 'ent-3': village: not one of your villages" in out_of_scope.output
    unknown_area = add_enterprise(db, "ent-4", 0.5, "--risk-staff", "XX:1")
    assert "enterprise 'ent-4': risk_staff: 'XX': no such risk area" in unknown_area.output
    far = add_enterprise(db, "ent-5", 40)
    assert far.exit_code == 1
    assert "outside the town's extent" in far.output
    assert count(db, "enterprises") == 2
    pending = as_json(db, "enterprises", "list", "--state", "pending")["enterprises"]
    assert {e["source_id"] for e in pending} == {"ent-1", "ent-2"}
    assert {e["state"] for e in pending} == {"pending"}
    early = invoke(db, "enterprises", "passes", "issue", "PX-1", "--enterprise", "ent-1",
                   "--resident", "r-1", "--from", "2026-02-10",
                   "--until", "2026-03-10")  # fmt: skip
    assert early.exit_code == 1
    assert "pass 'PX-1': enterprise: 'ent-1' is not approved to resume (pending)" in early.output
    # a commander of another village does not find it; a planner may not review at all
    other = invoke(db, "enterprises", "review", "ent-1", "--decision", "approved", user="cmd-v2")
    assert (other.exit_code, "not found" in other.output) == (1, True)
    assert invoke(db, "enterprises", "review", "ent-1", "--decision", "refused",
                  user="ana").exit_code == 3  # fmt: skip
    bad = invoke(db, "enterprises", "review", "ent-1", "--decision", "maybe", user="cmd-v1")
    assert bad.exit_code == 1
    assert "decision: 'maybe': one of approved, conditional, refused" in bad.output
    short = invoke(db, "enterprises", "review", "ent-1", "--decision", "approved",
                   "--met", "masks_in_stock", "--on", "2026-02-01", user="cmd-v1")  # fmt: skip
    assert (short.exit_code, "not met" in short.output) == (1, True)
    refused = invoke(db, "enterprises", "review", "ent-1", "--decision", "refused",
                     "--on", "2026-02-01", user="cmd-v1")  # fmt: skip
    assert refused.exit_code == 0, refused.output
    met = [a for item in CHECKLIST for a in ("--met", item)]
    approved = invoke(db, "enterprises", "review", "ent-1", "--decision", "approved", *met,
                      "--on", "2026-02-05", user="cmd-v1")  # fmt: skip
    assert approved.exit_code == 0, approved.output
    history = as_json(db, "enterprises", "reviews", "ent-1")
    assert history["state"] == "approved"
    assert [(r["decision"], r["reviewer"]) for r in history["reviews"]] == [
        ("approved", "cmd-v1"), ("refused", "cmd-v1")]  # fmt: skip
    listed = as_json(db, "enterprises", "list", "--state", "approved")["enterprises"]
    assert [(e["enterprise"], e["state"], e["risk_staff"]) for e in listed] == [
        ("ent-1", "approved", {"WH": 4})]  # fmt: skip
    assert as_json(db, "enterprises", "list", "--state", "pending", user="cmd-v1") == {
        "enterprises": []}  # fmt: skip
    # passes
    issue = ("enterprises", "passes", "issue")
    before = invoke(db, *issue, "PX-1", "--enterprise", "ent-1", "--resident", "r-1", "--from",
                    "2026-02-04", "--until", "2026-03-10")  # fmt: skip
    assert "valid_from: 2026-02-04 is before the enterprise's approval on 2026-02-05" in (
        before.output)  # fmt: skip
    sick = invoke(db, *issue, "PX-1", "--enterprise", "ent-1", "--resident", "r-sick", "--from",
                  "2026-02-10", "--until", "2026-03-10")  # fmt: skip
    assert (sick.exit_code, "'r-sick' is in active quarantine" in sick.output) == (1, True)
    backwards = invoke(db, *issue, "PX-1", "--enterprise", "ent-1", "--resident", "r-1",
                       "--from", "2026-03-10", "--until", "2026-02-10")  # fmt: skip
    assert "valid_until: 2026-02-10 is before valid_from 2026-03-10" in backwards.output
    assert count(db, "passes") == 0
    # a commander of another village's grids does not learn of a resident of G1
    assert invoke(db, "enterprises", "review", "ent-2", "--decision", "approved", *met,
                  "--on", "2026-02-05", user="cmd-v2").exit_code == 0  # fmt: skip
    hidden = invoke(db, *issue, "PX-9", "--enterprise", "ent-2", "--resident", "r-sick",
                    "--from", "2026-02-10", "--until", "2026-03-10", user="cmd-v2")  # fmt: skip
    assert hidden.exit_code == 1
    assert "resident: 'r-sick': no such resident" in hidden.output
    assert invoke(db, *issue, "PX-1", "--enterprise", "ent-1", "--resident", "r-1", "--from",
                  "2026-02-10", "--until", "2026-03-10", user="cmd-v1").exit_code == 0  # fmt: skip
    assert invoke(db, *issue, "PX-2", "--enterprise", "ent-1", "--name", "Sun Ba",
                  "--id-number", "320412199001011234", "--from", "2026-02-10",
                  "--until", "2026-03-10").exit_code == 0  # fmt: skip
    stolen = invoke(db, *issue, "PX-1", "--enterprise", "ent-2", "--name", "Li", "--id-number",
                    "320412199001011234", "--from", "2026-02-10", "--until", "2026-03-10",
                    user="cmd-v2")  # fmt: skip
    assert (stolen.exit_code, "pass 'PX-1': not found" in stolen.output) == (1, True)
    masked = as_json(db, "enterprises", "passes", "list", user="cmd-v1")["passes"]
    assert [(p["number"], p["resident"], p["name"], p["id_number"]) for p in masked] == [
        ("PX-1", "r-1", None, None), ("PX-2", None, "S*****", "3204**********1234")]  # fmt: skip
    assert as_json(db, "enterprises", "passes", "list", user="cmd-v2") == {"passes": []}
    assert invoke(db, "enterprises", "passes", "list", user="ana").exit_code == 3
    shown = as_json(db, "enterprises", "passes", "list", "--reveal", user="cmd-v1")["passes"]
    assert shown[1]["id_number"] == "320412199001011234"
    with db.owner.connect() as c:
        audited = c.execute(text(
            "SELECT object_ids, detail::text FROM audit_events"
            " WHERE action = 'reveal' AND object_type = 'pass'")).all()  # fmt: skip
    assert len(audited) == 1
    assert "Sun Ba" not in audited[0].detail


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_imports_all_or_nothing_idempotent_and_exports_round_trip(
    db: TestDatabase, tmp_path: Path
) -> None:
    a, b = ll(0.2, 0.2), ll(0.3, 0.3)
    square = "POLYGON((" + ", ".join(" ".join(ll(x, y)) for x, y in (
        (1.2, 0.2), (1.4, 0.2), (1.4, 0.4), (1.2, 0.4), (1.2, 0.2))) + "))"  # fmt: skip
    header = (
        "source_id,name,kind,village,responsible,staff_total,staff_local,risk_staff,lon,lat,wkt"
    )
    good = [
        f"imp-1,Mill,factory,,Zhou Jiu,100,60,WH:10,{a[0]},{a[1]},",
        f'imp-2,Depot,logistics,V2,Wu Shi,20,20,,,,"{square}"',
    ]
    bad = write(tmp_path / "bad.csv", [header, *good,
        f"imp-3,Shop,spaceport,,Zheng,5,5,,{b[0]},{b[1]},",
        f"imp-4,Shop,retail,,Zheng,5,9,,{b[0]},{b[1]},",
        f"imp-5,Shop,retail,NOPE,Zheng,5,5,,{b[0]},{b[1]},",
        f"imp-1,Again,retail,,Zheng,5,5,,{b[0]},{b[1]},",
    ])  # fmt: skip
    before = count(db, "enterprises")
    refused = invoke(db, "import", "enterprises", str(bad), "--format", "json")
    assert refused.exit_code == 1
    errors = [(e["line"], e["field"]) for e in orjson.loads(refused.stdout)["errors"]]
    assert errors == [(4, "kind"), (5, "staff_local"), (6, "village"), (7, "source_id")]
    assert count(db, "enterprises") == before
    ok = write(tmp_path / "ok.csv", [header, *good])
    first = as_json(db, "import", "enterprises", str(ok))
    assert (first["inserted"], first["errors"]) == (2, [])
    again = as_json(db, "import", "enterprises", str(ok))
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    for layer in ("enterprises", "publicity-points"):
        out = tmp_path / f"{layer}.csv"
        if layer == "publicity-points":
            line = "LINESTRING(" + ", ".join(" ".join(ll(x, 0.5)) for x in (0.1, 0.4, 0.8)) + ")"
            points = write(tmp_path / "points.csv", [
                "source_id,kind,content,put_up_on,last_checked_at,village,lon,lat,wkt",
                f"pp-1,banner,Wear a mask,2026-02-01,2026-02-03T09:00:00+08:00,,{a[0]},{a[1]},",
                f'pp-2,loudspeaker_route,Stay home,2026-02-01,,,,,"{line}"',
            ])  # fmt: skip
            loaded = as_json(db, "import", "publicity-points", str(points))
            assert (loaded["inserted"], loaded["errors"]) == (2, [])
        done = invoke(db, "export", layer, "-o", str(out))
        assert done.exit_code == 0, done.output
        back = as_json(db, "import", layer, str(out))
        assert (back["inserted"], back["updated"], back["errors"]) == (0, 0, []), layer
    rows = {
        r["source_id"]: r
        for r in csv.DictReader((tmp_path / "enterprises.csv").read_text().splitlines())
    }
    assert rows["imp-2"]["wkt"].startswith("POLYGON")
    assert rows["imp-1"]["risk_staff"] == "WH:10"
    wrong = invoke(db, "export", "enterprises", "-o", str(tmp_path / "e.gpkg"))
    assert (wrong.exit_code, "--format csv|geojson" in wrong.output) == (2, True)
    for layer in ("enterprises", "publicity-points"):  # GeoJSON back unchanged as well
        out = tmp_path / f"{layer}.geojson"
        assert invoke(db, "export", layer, "-o", str(out)).exit_code == 0
        assert orjson.loads(out.read_bytes())["type"] == "FeatureCollection"
        back = as_json(db, "import", layer, str(out))
        assert (back["inserted"], back["updated"], back["errors"]) == (0, 0, []), layer
    theirs, masked = tmp_path / "v2.csv", tmp_path / "analyst.csv"
    assert invoke(db, "export", "enterprises", "-o", str(theirs), user="cmd-v2").exit_code == 0
    assert invoke(db, "export", "enterprises", "-o", str(masked), user="ana").exit_code == 0
    v2 = list(csv.DictReader(theirs.read_text().splitlines()))
    assert {r["village"] for r in v2} == {"V2"}
    assert {r["source_id"] for r in v2} == {s for s, r in rows.items() if r["village"] == "V2"}
    analysts = {r["source_id"]: r for r in csv.DictReader(masked.read_text().splitlines())}
    assert (analysts["imp-1"]["responsible"], rows["imp-1"]["responsible"]) == (
        "Z*******",
        "Zhou Jiu",
    )
    points = as_json(db, "publicity", "list", "--unchecked", "--at", "2026-02-09T12:00+08:00")
    assert [p["point"] for p in points["points"]] == ["pp-2"]  # put up 8 days before, unchecked
    assert invoke(db, "publicity", "check", "pp-2", "--at", "2026-02-09T10:00+08:00",
                  user="gw-1").exit_code == 0  # fmt: skip
    points = as_json(db, "publicity", "list", "--unchecked", "--at", "2026-02-09T12:00+08:00")
    assert points["points"] == []


def test_passes_import_and_export_under_privacy_levels(db: TestDatabase, tmp_path: Path) -> None:
    lon, lat = ll(0.7, 0.7)
    for source in ("ent-p", "ent-q"):
        assert invoke(db, "enterprises", "add", source, "--name", "Works", "--kind", "factory",
                      "--responsible", "Feng", "--staff-total", "9", "--lon", lon, "--lat",
                      lat).exit_code == 0  # fmt: skip
    conditional = invoke(db, "enterprises", "review", "ent-p", "--decision", "conditional",
                         "--conditions", "a health officer by Monday",
                         "--on", "2026-02-01")  # fmt: skip
    assert conditional.exit_code == 0, conditional.output
    header = "number,enterprise,resident,name,id_number,valid_from,valid_until"
    good = [
        f"IP-{n},ent-p,,Chen {n},32041219900101{1000 + n},2026-02-02,2026-03-02" for n in range(6)
    ]
    bad = write(tmp_path / "bad.csv", [header, *good,
        "IP-6,ent-q,r-2,,,2026-02-02,2026-03-02",
        "IP-7,ent-p,r-sick,,,2026-02-02,2026-03-02",
        "IP-8,ent-p,r-2,,,2026-01-02,2026-03-02",
        "IP-9,ent-p,,Chen,123,2026-02-02,2026-03-02",
        "IP-10,nowhere,r-2,,,2026-02-02,2026-03-02",
    ])  # fmt: skip
    before = count(db, "passes")
    refused = invoke(db, "import", "passes", str(bad), "--format", "json")
    assert refused.exit_code == 1
    report = orjson.loads(refused.stdout)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (8, "enterprise"), (9, "resident"), (10, "valid_from"), (11, "id_number"),
        (12, "enterprise")]  # fmt: skip
    assert "Chen" not in refused.stdout
    assert count(db, "passes") == before
    ok = write(tmp_path / "ok.csv", [header, *good])
    assert as_json(db, "import", "passes", str(ok))["inserted"] == 6
    assert as_json(db, "import", "passes", str(ok))["unchanged"] == 6
    full = tmp_path / "full.csv"
    assert invoke(db, "export", "passes", "--privacy", "full", "-o", str(full)).exit_code == 0
    assert as_json(db, "import", "passes", str(full))["unchanged"] == before + 6
    assert invoke(db, "export", "passes", "--privacy", "full", "-o", str(full),
                  user="ana").exit_code == 3  # fmt: skip
    counts = tmp_path / "counts.csv"
    assert invoke(db, "export", "passes", "-o", str(counts), user="ana").exit_code == 0
    rows = list(csv.DictReader(counts.read_text().splitlines()))
    assert [(r["village"], r["passes"], r["residents"]) for r in rows] == [("V1", "8", "")]
    pseudo = tmp_path / "pseudo.csv"
    done = invoke(
        db, "export", "passes", "--privacy", "pseudonymous", "-o", str(pseudo), user="ana"
    )
    assert done.exit_code == 0, done.output
    text_out = pseudo.read_text()
    assert "Chen" not in text_out
    assert "IP-1" not in text_out
    assert "32041219900101" not in text_out


def test_the_coverage_report_counts_the_command_post(db: TestDatabase) -> None:
    """Against the lists: enterprises per state, points unchecked at the moment, and the passes
    of the earlier tests valid that day (exact for an admin, published for an analyst)."""
    at = "2026-02-20T12:00:00+08:00"
    report = as_json(db, "coverage", "--as-of", at, "--command-post")
    listed = as_json(db, "enterprises", "list")["enterprises"]
    states = {s: sum(e["state"] == s for e in listed) for s in STATES}
    assert report["command_post"]["enterprises"] == {**states, "total": len(listed)}
    unchecked = as_json(db, "publicity", "list", "--unchecked", "--at", at)["points"]
    points = report["command_post"]["publicity_points"]
    assert points["not_checked_7_days"] == len(unchecked) == 2
    assert report["command_post"]["passes_valid"] == 8
    assert "command_post" not in as_json(db, "coverage", "--as-of", at)
    exact = as_json(db, "enterprises", "passes", "counts")
    assert exact["passes"] == count(db, "passes")
    published = as_json(db, "enterprises", "passes", "counts", user="ana")
    assert published["passes"] in (None, 5 * (exact["passes"] // 5), 5 * (exact["passes"] // 5 + 1))
    assert published["passes"] != exact["passes"] or exact["passes"] % 5 == 0
    seen = as_json(db, "coverage", "--command-post", user="ana")["command_post"]
    assert seen["passes_valid"] in (None, 5, 10)  # published: withheld under 5, else rounded
    mine = as_json(db, "coverage", "--command-post", user="cmd-v2")["command_post"]
    assert mine["enterprises"]["total"] == sum(e["village"] == "V2" for e in listed)


def test_geojson_import_of_enterprises_and_publicity_points(
    db: TestDatabase, tmp_path: Path
) -> None:
    def point(x: float, y: float) -> dict[str, Any]:
        lon, lat = ll(x, y)
        return {"type": "Point", "coordinates": [float(lon), float(lat), 5.0]}

    corners = [[float(c) for c in ll(x, y)] for x, y in ((0.1, 0.6), (0.3, 0.6), (0.3, 0.8),
                                                          (0.1, 0.8), (0.1, 0.6))]  # fmt: skip
    props = {"name": "Works", "kind": "factory", "responsible": "Han", "staff_total": 12,
             "staff_local": 12, "risk_staff": None}  # fmt: skip
    features = [
        {"type": "Feature", "geometry": point(0.6, 0.6),
         "properties": {"source_id": "gj-1", **props}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [corners]},
         "properties": {"source_id": "gj-2", **props}},
        {"type": "Feature", "geometry": point(0.6, 0.7),
         "properties": {"source_id": "gj-3", **props, "kind": "castle"}},
    ]  # fmt: skip
    path = tmp_path / "enterprises.geojson"
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    refused = invoke(db, "import", "enterprises", str(path), "--format", "json")
    assert refused.exit_code == 1
    assert [(e["feature"], e["field"]) for e in orjson.loads(refused.stdout)["errors"]] == [
        (2, "kind")]  # fmt: skip
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features[:2]}))
    assert as_json(db, "import", "enterprises", str(path))["inserted"] == 2
    assert as_json(db, "import", "enterprises", str(path))["unchanged"] == 2
    assert add_enterprise(db, "gj-9", 0.4).exit_code == 0
    moved = add_enterprise(db, "gj-9", 0.45)
    assert "exists already" in moved.output
    lon, lat = ll(0.45, 0.5)
    again = invoke(db, "enterprises", "update", "gj-9", "--name", "Plant gj-9", "--kind",
                   "factory", "--responsible", "Qian Qi", "--staff-total", "40",
                   "--staff-local", "30", "--lon", lon, "--lat", lat)  # fmt: skip
    assert again.exit_code == 0, again.output
    taken = invoke(db, "enterprises", "update", "ent-2", "--name", "Mine now", "--kind", "factory",
                   "--responsible", "Qian Qi", "--staff-total", "40", "--lon", lon, "--lat", lat,
                   user="cmd-v1")  # fmt: skip
    assert (taken.exit_code, "'ent-2': not found" in taken.output) == (1, True)
    unknown = invoke(db, "enterprises", "update", "gj-none", "--name", "X", "--kind", "factory",
                     "--responsible", "Q", "--staff-total", "4", "--lon", lon,
                     "--lat", lat)  # fmt: skip
    assert "enterprise: 'gj-none': no such enterprise" in unknown.output
    with db.owner.connect() as c:
        actions = c.execute(text(
            "SELECT action FROM audit_events WHERE object_type = 'enterprise'"
            " ORDER BY id DESC LIMIT 2")).scalars().all()  # fmt: skip
    assert actions == ["enterprise_update", "enterprise_insert"]
    shapes = {e["source_id"]: e["geometry"] for e in as_json(db, "enterprises", "list")[
        "enterprises"] if e["source_id"].startswith("gj-")}  # fmt: skip
    assert shapes == {"gj-1": "Point", "gj-2": "Polygon", "gj-9": "Point"}
    route = {"type": "LineString", "coordinates": [point(0.1, 0.1)["coordinates"],
                                                   point(0.9, 0.2)["coordinates"]]}  # fmt: skip
    points = tmp_path / "points.geojson"
    points.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": route, "properties": {
            "source_id": "gj-route", "kind": "loudspeaker_route", "content": "Stay home",
            "put_up_on": "2026-02-01"}}]}))  # fmt: skip
    assert as_json(db, "import", "publicity-points", str(points))["inserted"] == 1

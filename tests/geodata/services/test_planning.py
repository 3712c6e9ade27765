"""Checkpoint placement against spopt and brute force; the CLI on files; seal plan invariants."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pulp  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner
from spopt.locate import LSCP, MCLP  # type: ignore[import-untyped]
from sqlalchemy import Connection, text

from geodata.analysis.coverage.metric import project_xy
from geodata.analysis.placement import (
    cost_matrix_coverage,
    maximal_covering,
    set_covering,
    straight_coverage,
)
from geodata.analysis.placement.plan import PlanRequest, reach_matrix, solve_plan
from geodata.auth.access import local_operator
from geodata.cli import main
from geodata.imports.report import FileRefused
from geodata.records.placement_inputs import fetch_plan_inputs
from geodata.services.plan_files import read_candidates
from geodata.services.planning import apply_seal_plan, seal_plan_for
from tests import conftest

# spopt builds its models with PuLP calls that PuLP 3.3 marks as deprecated.
pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:spopt.*", "ignore::DeprecationWarning:pulp.*"
)

SPOPT_DATA = Path(str(__import__("spopt").__file__)).parent / "tests" / "test_locate" / "data"


def _spopt_mclp(costs: np.ndarray, weights: np.ndarray, radius: float, p: int) -> float:
    model = MCLP.from_cost_matrix(costs, weights, radius, p)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    return float(pulp.value(model.problem.objective))


# -- the spopt reference instance ----------------------------------------------------------
def test_san_francisco_reference_instance() -> None:
    """spopt's own instance: 205 tracts, 16 stores, network distances, S = 5000, p = 4."""
    distances = pd.read_csv(
        SPOPT_DATA / "SF_network_distance_candidateStore_16_censusTract_205_new.csv"
    )
    costs = distances.pivot_table(values="distance", index="DestinationName", columns="name")
    tracts = pd.read_csv(SPOPT_DATA / "SF_demand_205_centroid_uniform_weight.csv")
    weights = costs.index.map(tracts.set_index("NAME")["POP2000"].to_dict()).to_numpy(float)
    placement = maximal_covering(cost_matrix_coverage(costs.to_numpy(), 5000.0), weights, budget=4)
    assert placement.status == "optimal"
    assert placement.covered_weight == 875_247
    assert placement.total_weight == 955_113
    assert int(placement.covered.sum()) == 184
    assert 100 * placement.covered.sum() / 205 == pytest.approx(89.75609756097561)
    assert placement.covered_weight == _spopt_mclp(costs.to_numpy(), weights, 5000.0, 4)


# -- exactness on small random instances ---------------------------------------------------
def _random_instance(seed: int) -> tuple[Any, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 2000, (60, 2))
    sites = rng.uniform(0, 2000, (11, 2))
    weights = rng.integers(0, 20, 60).astype(float)
    return straight_coverage(demand, sites, 450.0), weights, rng.integers(1, 4, 11).astype(float)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_maximal_covering_matches_brute_force(seed: int) -> None:
    reach, weights, costs = _random_instance(seed)
    dense = reach.toarray().astype(bool)
    best = max(
        weights[dense[:, list(c)].any(axis=1)].sum() for c in itertools.combinations(range(11), 3)
    )
    assert maximal_covering(reach, weights, budget=3).covered_weight == best
    staffed = max(
        weights[dense[:, list(c)].any(axis=1)].sum()
        for r in range(12)
        for c in itertools.combinations(range(11), r)
        if costs[list(c)].sum() <= 5
    )
    found = maximal_covering(reach, weights, budget=5, site_costs=costs)
    assert found.covered_weight == staffed
    assert found.cost <= 5
    fixed = np.zeros(11, dtype=bool)
    fixed[[0, 1]] = True
    kept = maximal_covering(reach, weights, budget=3, fixed=fixed)
    assert set(kept.selected.tolist()) >= {0, 1}
    assert len(kept.selected) <= 3


@pytest.mark.parametrize("seed", [4, 5])
def test_set_covering_matches_brute_force(seed: int) -> None:
    reach, weights, _ = _random_instance(seed)
    dense = reach.toarray().astype(bool)
    target = 0.6 * weights.sum()
    fewest = min(
        r
        for r in range(12)
        for c in itertools.combinations(range(11), r)
        if weights[dense[:, list(c)].any(axis=1)].sum() >= target
    )
    found = set_covering(reach, weights, share=0.6)
    assert len(found.selected) == fewest
    assert found.covered_weight >= target
    reachable = dense.any(axis=1)
    every = set_covering(reach[reachable], weights[reachable])
    model = LSCP.from_cost_matrix(np.where(dense[reachable], 0.0, 1e9), 1.0)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    assert len(every.selected) == round(pulp.value(model.problem.objective))


# -- the sample town -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def town(sample_db: conftest.TestDatabase) -> Any:
    with sample_db.owner.connect() as conn:
        return fetch_plan_inputs(conn)


def test_sample_town_candidates(town: Any) -> None:
    kinds = set(town.sites["kind"])
    assert {"checkpoint", "compound_entrance", "road_crossing", "road_junction"} <= kinds
    assert town.sites["id"].is_unique
    assert (town.demand["weight"] > 0).all()


@pytest.mark.parametrize("budget", [5])
def test_sample_town_same_optimum_as_spopt(town: Any, budget: int) -> None:
    # Every other building and the sites at entrances and crossings keep spopt's model small.
    demand = town.demand.iloc[::2].reset_index(drop=True)
    sites = town.sites[town.sites["kind"] != "road_junction"].reset_index(drop=True)
    request = PlanRequest(radius_m=500.0, budget=budget)
    plan = solve_plan(demand, sites, request)
    reach, epsg = reach_matrix(demand, sites, request)
    d_xy = project_xy(demand["lon"].to_numpy(float), demand["lat"].to_numpy(float), epsg)
    s_xy = project_xy(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), epsg)
    costs = np.hypot(d_xy[:, None, 0] - s_xy[None, :, 0], d_xy[:, None, 1] - s_xy[None, :, 1])
    assert np.array_equal(reach.toarray().astype(bool), costs <= 500.0)
    expected = _spopt_mclp(costs, demand["weight"].to_numpy(float), 500.0, budget)
    assert plan["status"] == "optimal"
    assert plan["objective"] == expected


def test_network_reach_is_never_wider_than_straight(town: Any) -> None:
    roads = town.town.roads["geometry"].to_numpy(dtype=object)
    straight, _ = reach_matrix(town.demand, town.sites, PlanRequest(radius_m=400.0, budget=1))
    along, _ = reach_matrix(
        town.demand,
        town.sites,
        PlanRequest(radius_m=400.0, budget=1, network=True),
        roads_lonlat=roads,
    )
    assert along.nnz > 0
    assert (along.toarray().astype(bool) <= straight.toarray().astype(bool)).all()


# -- the command line ----------------------------------------------------------------------
def _run(db: conftest.TestDatabase, *args: str) -> tuple[int, str]:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
    }
    result = CliRunner().invoke(main, ["plan", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def _points(path: Path, rows: list[dict[str, Any]]) -> Path:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r.pop("lon"), r.pop("lat")]},
            "properties": r,
        }
        for r in rows
    ]
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_cli_on_files(throwaway_db: conftest.TestDatabase, tmp_path: Path) -> None:
    # 111 m per 0.001 degree of latitude: sites 0 and 2 each reach two points within 150 m.
    demand = _points(
        tmp_path / "demand.geojson",
        [{"lon": 116.0, "lat": 40.0 + 0.001 * i, "weight": w} for i, w in enumerate([5, 1, 7, 2])],
    )
    candidates = _points(
        tmp_path / "sites.geojson",
        [
            {"lon": 116.0, "lat": 40.0005, "source_id": "A"},
            {"lon": 116.1, "lat": 40.0},
            {"lon": 116.0, "lat": 40.0025},
        ],
    )
    code, out = _run(
        throwaway_db,
        "checkpoints",
        "--budget",
        "1",
        "--radius-m",
        "150",
        "--demand",
        str(demand),
        "--candidates",
        str(candidates),
        "--format",
        "json",
    )
    assert code == 0, out
    plan = orjson.loads(out)
    assert plan["status"] == "optimal"
    assert plan["objective"] == 9.0
    assert plan["covered_points"] == 2
    assert plan["gap"] == 0.0
    assert [s["id"] for s in plan["selected"]] == ["2"]
    assert plan["covered_pct"] == pytest.approx(60.0)
    assert plan["build_s"] >= 0
    assert plan["solve_s"] >= 0
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature",'
        ' "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {}}]}'
    )
    code, out = _run(
        throwaway_db,
        "checkpoints",
        "--budget",
        "1",
        "--radius-m",
        "150",
        "--demand",
        str(bad),
        "--candidates",
        str(candidates),
    )
    assert code != 0
    assert "weight" in out
    vrt = tmp_path / "x.geojson"
    vrt.write_text("<OGRVRTDataSource></OGRVRTDataSource>")
    code, out = _run(
        throwaway_db,
        "checkpoints",
        "--budget",
        "1",
        "--radius-m",
        "150",
        "--demand",
        str(vrt),
        "--candidates",
        str(candidates),
    )
    assert code != 0


def test_candidates_with_ids_that_are_not_plain_text_are_refused(tmp_path: Path) -> None:
    """A candidate's id becomes a checkpoint's source id when applied: refused on reading,
    every such feature named."""
    path = _points(
        tmp_path / "sites.geojson",
        [
            {"lon": 116.0, "lat": 40.0, "source_id": "fine"},
            {"lon": 116.0, "lat": 40.001, "source_id": "<b>x</b><img src=/x onerror=alert(1)>"},
            {"lon": 116.0, "lat": 40.002},
            {"lon": 116.0, "lat": 40.003, "source_id": "tab\there"},
        ],
    )
    with pytest.raises(FileRefused) as refused:
        read_candidates(path)
    assert [(i.feature, i.field) for i in refused.value.issues] == [
        (1, "source_id"),
        (3, "source_id"),
    ]
    assert refused.value.issues[0].reason.startswith("the source id holds < >:")
    assert "control" in refused.value.issues[1].reason


# -- the seal plan -------------------------------------------------------------------------
def _open_counts(conn: Connection) -> dict[int, int]:
    rows = conn.execute(
        text(
            "SELECT compound_id, count(*) FILTER (WHERE state IN ('open', 'checkpoint'))"
            " FROM entrances WHERE compound_id IS NOT NULL GROUP BY compound_id"
        )
    )
    return {int(c): int(n) for c, n in rows}


def test_seal_plan_invariants_on_the_sample_town(sample_conn: Connection) -> None:
    principal = local_operator("tester")
    plans = seal_plan_for(sample_conn, principal)
    multi = sample_conn.execute(
        text(
            "SELECT count(*) FROM (SELECT compound_id FROM entrances"
            " WHERE compound_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) s"
        )
    ).scalar_one()
    assert len({p["compound_id"] for p in plans}) == len(plans) >= multi
    for plan in plans:
        seal_ids = {s["id"] for s in plan["seal"]}
        assert plan["keep"]["id"] not in seal_ids
        assert len(seal_ids) + 1 == plan["entrances"]
        assert all(s["reason"] for s in plan["seal"])
        assert plan["keep"]["reason"]
        walks = [plan["keep"]["total_walk_m"], *(s["total_walk_m"] for s in plan["seal"])]
        assert plan["keep"]["total_walk_m"] <= min(walks) * 1.1 + 0.1
    before = sample_conn.execute(text("SELECT count(*) FROM entrance_events")).scalar_one()
    applied = apply_seal_plan(sample_conn, principal, plans)
    counts = _open_counts(sample_conn)
    assert set(counts.values()) == {1}, "every compound keeps exactly one entrance open"
    after = sample_conn.execute(text("SELECT count(*) FROM entrance_events")).scalar_one()
    assert after - before == applied["opened"] + applied["sealed"]
    audit_row = sample_conn.execute(
        text("SELECT row_count FROM audit_events WHERE action = 'plan_seals' ORDER BY id DESC")
    ).first()
    assert audit_row is not None
    assert audit_row[0] == after - before
    assert seal_plan_for(sample_conn, principal) == [] or all(
        p["changes"] == 0 for p in seal_plan_for(sample_conn, principal)
    )

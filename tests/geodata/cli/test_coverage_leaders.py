"""`wangge coverage --leaders`: the grid list with each grid's leader, the phone masked."""

from __future__ import annotations

import orjson
from click.testing import CliRunner
from sqlalchemy import text

from geodata.auth.masking import mask_phone
from geodata.cli import main
from tests import conftest


def _coverage(db: conftest.TestDatabase, *args: str) -> str:
    env = {
        "WANGGE_DATABASE_URL": db.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": db.settings.admin_database_url or "",
    }
    result = CliRunner().invoke(main, ["coverage", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_grid_list_names_each_leader_with_the_phone_masked(
    throwaway_sample_db: conftest.TestDatabase,
) -> None:
    with throwaway_sample_db.owner.connect() as conn:
        leaders = {
            str(r.code): (str(r.name), str(r.phone))
            for r in conn.execute(
                text(
                    "SELECT g.code, s.name, s.phone FROM grids g JOIN staff s ON s.id = g.leader_id"
                )
            )
        }
    out = orjson.loads(_coverage(throwaway_sample_db, "--leaders", "--format", "json"))
    assert {g["code"] for g in out["grids"]} == set(leaders)
    for grid in out["grids"]:
        name, phone = leaders[grid["code"]]
        assert grid["leader"] == {"status": "assigned", "name": name, "phone": mask_phone(phone)}
    shown = _coverage(throwaway_sample_db, "--leaders")
    code, (name, phone) = sorted(leaders.items())[0]
    assert f"grid {code}: " in shown
    assert f"leader={name} {mask_phone(phone)}" in shown
    assert all(phone not in shown for _, phone in leaders.values())
    assert "leader" not in _coverage(throwaway_sample_db, "--format", "json")
    with throwaway_sample_db.owner.connect() as conn:
        listed = conn.execute(
            text(
                "SELECT row_count FROM audit_events WHERE action = 'list'"
                " AND object_type = 'staff' ORDER BY id"
            )
        ).scalars()
        assert list(listed) == [len(leaders), len(leaders)]

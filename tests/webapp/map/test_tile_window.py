"""The households tile's `unscreened` counts the households not seen in the screening
window: `?window_h=` for those who see households, the town's window by default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import text

from tests import conftest
from tests.webapp.map.commander_town import TOWN_TILE, serve_town
from tests.webapp.map.vector_tiles import decode_tile


def _unscreened(client: FlaskClient, query: str) -> dict[object, object]:
    z, x, y = TOWN_TILE
    response = client.get(f"/tiles/households/{z}/{x}/{y}.pbf{query}")
    assert response.status_code == 200
    return {
        f["building_id"]: f["unscreened"] for f in decode_tile(response.get_data())["households"]
    }


def test_the_window_decides_who_is_unscreened(throwaway_db: conftest.TestDatabase) -> None:
    served = serve_town(throwaway_db)
    first, second = served.town.buildings
    seen = datetime.now(UTC) - timedelta(hours=48)
    with throwaway_db.owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO visits (source_id, household_id, grid_id, visited_at, result)"
                " SELECT 'window-test:' || h.id, h.id, h.grid_id, :at, 'seen_all'"
                " FROM households h WHERE h.building_id = :b"
            ),
            {"at": seen, "b": first},
        )
    client = served.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {served.accounts['commander'].token}"
    assert _unscreened(client, "?window_h=24") == {first: 2, second: 3}
    # a building whose households were all seen is not drawn
    assert _unscreened(client, "?window_h=72") == {second: 3}
    assert _unscreened(client, "") == {second: 3}  # the town's 14 days
    z, x, y = TOWN_TILE
    assert client.get(f"/tiles/households/{z}/{x}/{y}.pbf?window_h=0").status_code == 400
    assert client.get(f"/tiles/households/{z}/{x}/{y}.pbf?window_h=x").status_code == 400

"""The load test of a county's morning (issue 17), on the 190,000-household town prepared by
scripts/bench/load_prep.py:

    WANGGE_LOAD_PLAN=/tmp/load.json .venv/bin/locust -f scripts/bench/locustfile.py --headless \\
        -u 400 -r 10 -t 30m --host http://127.0.0.1:5000 --csv /tmp/load

| users (weight) | role | what they do | think time |
| --- | --- | --- | --- |
| 300 | grid workers | list due, open a household, record a visit with an Idempotency-Key | 5-15 s |
| 60 | commanders | open the map and its tiles (about 40 a view), the coverage report | 10-30 s |
| 40 | analysts | OGC item pages and small exports | 5-10 s |

`WANGGE_LOAD_NO_WAIT=1` drops the think times (saturation). Requests are named by endpoint
class (`read`, `write`, `tile`, `report`, `export`) and URL rule, so that the CSV gives the
percentiles per class.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, constant, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["WANGGE_LOAD_PLAN"]).read_text())
NO_WAIT = os.environ.get("WANGGE_LOAD_NO_WAIT") == "1"
VIEW_TILES = (8, 5)
"""A map view: 8 × 5 tiles (at the plan's zoom, 16), each view inside the town."""


def _view_origins(tiles: list[list[int]]) -> list[list[int]]:
    width, height = VIEW_TILES
    x_max = max(t[1] for t in tiles)
    y_max = max(t[2] for t in tiles)
    inside = [t for t in tiles if t[1] + width - 1 <= x_max and t[2] + height - 1 <= y_max]
    return inside or tiles


_next = {kind: itertools.count() for kind in ("workers", "commanders", "analysts")}


def _person(kind: str) -> dict[str, Any]:
    people: list[dict[str, Any]] = PLAN[kind]
    found: dict[str, Any] = people[next(_next[kind]) % len(people)]
    return found


class GridWorker(FastHttpUser):
    weight = 300
    wait_time = constant(0) if NO_WAIT else between(5, 15)

    def on_start(self) -> None:
        me = _person("workers")
        self.households: list[int] = me["households"]
        self.auth = {"Authorization": f"Bearer {me['token']}"}

    @task
    def round_of_visits(self) -> None:
        self.client.get("/api/v1/visits/due", headers=self.auth, name="read /api/v1/visits/due")
        household = random.choice(self.households)
        self.client.get(
            f"/api/v1/households/{household}", headers=self.auth,
            name="read /api/v1/households/<id>",
        )  # fmt: skip
        self.client.post(
            f"/api/v1/households/{household}/visits",
            json={"result": "seen_all", "fever_count": 0},
            headers={**self.auth, "Idempotency-Key": f"load-{uuid.uuid4().hex}"},
            name="write /api/v1/households/<id>/visits",
        )


class Commander(FastHttpUser):
    weight = 60
    wait_time = constant(0) if NO_WAIT else between(10, 30)

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {_person('commanders')['token']}"}
        self.origins = _view_origins(PLAN["tiles"])

    @task
    def open_the_map(self) -> None:
        self.client.get("/", headers=self.auth, name="read /")
        z, x0, y0 = random.choice(self.origins)
        width, height = VIEW_TILES
        for dx in range(width):
            for dy in range(height):
                self.client.get(
                    f"/tiles/buildings/{z}/{x0 + dx}/{y0 + dy}.pbf",
                    headers=self.auth,
                    name="tile /tiles/buildings/<z>/<x>/<y>.pbf",
                )
        self.client.get(
            "/api/v1/coverage?level=grid", headers=self.auth, name="report /api/v1/coverage"
        )


class Analyst(FastHttpUser):
    weight = 40
    wait_time = constant(0) if NO_WAIT else between(5, 10)

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {_person('analysts')['token']}"}

    @task(3)
    def ogc_page(self) -> None:
        offset = random.randrange(0, 5000, 10)
        self.client.get(
            f"/ogc/collections/buildings/items?limit=10&offset={offset}",
            headers={**self.auth, "Accept": "application/geo+json"},
            name="read /ogc/collections/<cid>/items",
        )

    @task(1)
    def small_export(self) -> None:
        village = random.choice(PLAN["villages"])
        self.client.get(
            f"/exports/households.csv?privacy=aggregate&village={village}",
            headers=self.auth,
            name="export /exports/<layer>.<fmt>",
        )

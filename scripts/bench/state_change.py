"""Time a command-post state change through the API on a synthetic county: PATCH a
checkpoint's state (closed, then active again) with the version just read, as an admin with a
bearer token, in the app's own process (Flask's test client: the app, the database and the
audit, without a network between).

    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/state_change.py --changes 300

The county: 450,000 households in 900 grids, 2,000 checkpoints (loaded on first use into
`wangge_bench_county_<seed>` and kept). Prints p50, p95 and the slowest, in milliseconds.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time

import measure
import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata.auth import accounts
from geodata.db.cluster import LocalCluster
from geodata.samples.synthetic import SyntheticSpec
from geodata.settings import Settings
from geodata.vocab import Role
from webapp import create_app

USER = "bench-operator"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cluster = LocalCluster(Settings.from_env().home)
    cluster.up()
    spec = SyntheticSpec.from_counts(
        households=450_000, grids=900, checkpoints=2_000, seed=args.seed
    )
    name = f"wangge_bench_county_{args.seed}"
    owner, app_engine = measure.open_synthetic_town(cluster, spec, name)
    with owner.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": USER})
        staff = conn.execute(text("SELECT source_id FROM staff ORDER BY id LIMIT 1")).scalar_one()
        checkpoints = (
            conn.execute(
                text("SELECT id FROM checkpoints WHERE state = 'active' ORDER BY id LIMIT 50")
            )
            .scalars()
            .all()
        )
    with Session(owner) as session, session.begin():
        accounts.add_user(session, USER, Role.ADMIN, password=secrets.token_urlsafe(24))
        token = accounts.issue_token(session, USER)
    settings = Settings.from_env()
    app = create_app(settings, engine=app_engine, admin_engine=owner)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    seconds: list[float] = []
    state = "closed"
    for i in range(args.changes):
        checkpoint = checkpoints[i % len(checkpoints)]
        url = f"/api/v1/checkpoints/{checkpoint}"
        version = client.get(url, headers=headers).get_json()["version"]
        body = {"state": state, "version": version, "reason": "bench", "responsible": staff}
        started = time.perf_counter()
        answer = client.patch(url, json=body, headers=headers)
        taken = time.perf_counter() - started
        if answer.status_code != 200:
            sys.exit(f"PATCH {url}: {answer.status_code} {answer.get_data(as_text=True)[:200]}")
        seconds.append(taken)
        if i % len(checkpoints) == len(checkpoints) - 1:
            state = "active" if state == "closed" else "closed"
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    result = {
        "machine": measure.machine(),
        "changes": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ms[-1], 1),
    }
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    with owner.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": USER})


if __name__ == "__main__":
    main()

"""Crash drill: clients record visits while PostgreSQL is killed and started again; every
acknowledged visit must be in the database once, and a retried key must get the same answer.

    .venv/bin/python scripts/bench/crash_drill.py --clients 20 --seconds 120 --runs 3

Each run makes a cluster of its own under a temporary WANGGE_HOME (the machine's cluster is
never touched), loads a synthetic town, serves it with `wangge serve --workers N`, and has
`--clients` threads post `POST /api/v1/households/<id>/visits` with a fresh `Idempotency-Key`
each, retrying the same key after an error until it is acknowledged (or the run ends). Half-way
PostgreSQL is stopped with `pg_ctl stop -m immediate` (a crash: no checkpoint, recovery from
the WAL) and started again after `--down-seconds`. Then every acknowledged key is looked up,
and a sample of them sent again to compare the answers. Prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from geodata import db
from geodata.auth import accounts
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.samples.synthetic import SyntheticSpec, load_synthetic
from geodata.vocab import Role

WANGGE = Path(sys.executable).parent / "wangge"
BODY = json.dumps({"result": "seen_all", "fever_count": 0}).encode()


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    acked: dict[str, tuple[int, int, bytes]] = field(default_factory=dict)
    """key → (household, status, body) of its first acknowledgement."""
    unacked: list[str] = field(default_factory=list)

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1


def _post(
    conn: http.client.HTTPConnection, household: int, key: str, token: str
) -> tuple[int, bytes]:
    conn.request(
        "POST",
        f"/api/v1/households/{household}/visits",
        body=BODY,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
    )
    response = conn.getresponse()
    return response.status, response.read()


def _client(
    port: int, token: str, households: list[int], until: float, tally: Tally, seed: int
) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    while time.monotonic() < until:
        key = f"drill-{uuid.uuid4().hex}"
        household = rng.choice(households)
        with tally.lock:
            tally.sent += 1
        while True:
            with tally.lock:
                tally.requests += 1
            try:
                status, body = _post(conn, household, key, token)
            except (OSError, http.client.HTTPException) as exc:
                tally.error(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
                status, body = 0, b""
            if 200 <= status < 300:
                with tally.lock:
                    tally.acked[key] = (household, status, body)
                break
            if status:
                tally.error(str(status))
            if time.monotonic() >= until + 30:  # give up on this key: counted as not acknowledged
                with tally.lock:
                    tally.unacked.append(key)
                return
            time.sleep(0.2)
    conn.close()


def _wait_ready(port: int, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not become ready")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _town(cluster: LocalCluster, households: int) -> tuple[list[int], str]:
    owner = db.make_engine(cluster.url(role=OWNER_ROLE))
    try:
        migrate.upgrade(owner, app_role=APP_ROLE)
        spec = SyntheticSpec.from_counts(households=households, seed=7)
        with owner.begin() as conn:
            load_synthetic(conn, spec, progress=False)
        with Session(owner) as s, s.begin():
            accounts.add_user(s, "drill-admin", Role.ADMIN, password=secrets.token_urlsafe(18))
            token = accounts.issue_token(s, "drill-admin")
        with owner.connect() as conn:
            ids = [int(i) for i in conn.execute(text("SELECT id FROM households")).scalars()]
    finally:
        owner.dispose()
    return ids, token


def _persisted(cluster: LocalCluster) -> dict[str, int]:
    """Every drill key in the visits table with its number of rows."""
    owner = db.make_engine(cluster.url(role=OWNER_ROLE))
    try:
        with owner.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT split_part(source_id, ':', 3) AS key, count(*) FROM visits "
                    "WHERE source_id LIKE 'visit:drill-admin:drill-%' GROUP BY 1"
                )
            ).all()
    finally:
        owner.dispose()
    return {str(k): int(n) for k, n in rows}


def run_once(args: argparse.Namespace, run: int) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix="wangge-crash-drill-"))
    home.chmod(0o755)
    cluster = LocalCluster(home)
    server: subprocess.Popen[bytes] | None = None
    try:
        cluster.up()
        households, token = _town(cluster, args.households)
        port = _free_port()
        env = {"WANGGE_HOME": str(home), "WANGGE_ENV": "testing", "PATH": "/usr/bin:/bin"}
        server = subprocess.Popen(
            [str(WANGGE), "serve", "--port", str(port), "--workers", str(args.workers),
             "--threads", str(args.threads), "--clock-every", "0"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_ready(port)
        tally = Tally()
        started = time.monotonic()
        until = started + args.seconds
        threads = [
            threading.Thread(
                target=_client, args=(port, token, households, until, tally, run * 1000 + i)
            )
            for i in range(args.clients)
        ]
        for t in threads:
            t.start()
        time.sleep(args.seconds / 2)
        acked_at_kill = len(tally.acked)
        killed = time.monotonic()
        cluster.down(mode="immediate")
        time.sleep(args.down_seconds)
        cluster.up()
        back = time.monotonic()
        for t in threads:
            t.join()
        keys = list(tally.acked)
        found = _persisted(cluster)
        lost = [k for k in keys if found.get(k, 0) == 0]
        duplicated = [k for k, n in found.items() if n > 1]
        sample = random.Random(run).sample(keys, min(args.replays, len(keys)))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        replay_differs = 0
        for key in sample:
            household, status, body = tally.acked[key]
            if _post(conn, household, key, token) != (status, body):
                replay_differs += 1
        conn.close()
        return {
            "run": run + 1,
            "clients": args.clients,
            "seconds": args.seconds,
            "workers": args.workers,
            "sent": tally.sent,
            "requests": tally.requests,
            "acknowledged": len(keys),
            "persisted": sum(1 for k in keys if found.get(k, 0) > 0),
            "persisted_unacknowledged": sum(1 for k in found if k not in tally.acked),
            "lost": len(lost),
            "duplicated": len(duplicated),
            "not_acknowledged": len(tally.unacked),
            "replayed": len(sample),
            "replay_differs": replay_differs,
            "acknowledged_before_kill": acked_at_kill,
            "killed_at_s": round(killed - started, 1),
            "down_s": round(back - killed, 1),
            "errors": tally.errors,
        }
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        cluster.down(mode="immediate")
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--down-seconds", type=float, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--replays", type=int, default=500)
    args = parser.parse_args()
    failed = False
    for run in range(args.runs):
        report = run_once(args, run)
        print(json.dumps(report), flush=True)
        failed |= bool(report["lost"] or report["duplicated"] or report["replay_differs"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

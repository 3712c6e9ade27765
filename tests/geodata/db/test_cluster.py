"""The embedded cluster: up twice is harmless, status, down, and up again keeps the data."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from geodata.db.cluster import OWNER_ROLE, LocalCluster


@pytest.fixture(scope="module")
def private_cluster() -> Iterator[LocalCluster]:
    """A cluster of its own in a directory the postgres user can reach (not the test's tmp)."""
    home = Path(tempfile.mkdtemp(prefix="wangge-cluster-", dir="/var/tmp"))
    home.chmod(0o755)
    cluster = LocalCluster(home / "home")
    yield cluster
    cluster.down()
    shutil.rmtree(home, ignore_errors=True)


def _connect(cluster: LocalCluster) -> psycopg.Connection:
    url = cluster.url(role=OWNER_ROLE)
    return psycopg.connect(
        host=str(url.query["host"]),
        port=str(url.query["port"]),
        user=url.username,
        password=url.password,
        dbname=url.database,
        autocommit=True,
    )


def test_up_twice_status_down_up_keeps_data(private_cluster: LocalCluster) -> None:
    private_cluster.up()
    private_cluster.up()  # harmless when already running
    status = private_cluster.status()
    assert status["running"] is True
    assert str(status["postgis_version"]).startswith("3.")
    assert status["data_dir"] == str(private_cluster.data_dir)
    assert "***" in str(status["url"])  # the password never shows

    with _connect(private_cluster) as conn:
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (42)")

    private_cluster.down()
    assert private_cluster.status()["running"] is False
    private_cluster.down()  # harmless when stopped

    private_cluster.up()
    with _connect(private_cluster) as conn:
        row = conn.execute("SELECT v FROM kept").fetchone()
    assert row == (42,)


def test_cluster_listens_on_its_own_socket_only(private_cluster: LocalCluster) -> None:
    private_cluster.up()
    conf = (private_cluster.data_dir / "postgresql.conf").read_text()
    assert "listen_addresses = ''" in conf
    sockets = [p for p in private_cluster.socket_dir.glob(".s.PGSQL.*") if p.suffix != ".lock"]
    assert len(sockets) == 1


def test_app_role_is_not_a_superuser_and_never_bypasses_rls(private_cluster: LocalCluster) -> None:
    private_cluster.up()
    with _connect(private_cluster) as conn:
        rows = conn.execute(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles "
            "WHERE rolname IN ('wangge_app', 'wangge_owner') ORDER BY rolname"
        ).fetchall()
    # Only the owner (migrations, loads, admin jobs) bypasses row security.
    assert rows == [("wangge_app", False, False), ("wangge_owner", False, True)]


def test_secrets_are_private(private_cluster: LocalCluster) -> None:
    private_cluster.up()
    assert private_cluster.secrets_file.stat().st_mode & 0o077 == 0

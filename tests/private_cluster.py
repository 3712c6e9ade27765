"""A PostgreSQL cluster of a test module's own, for faults no other test may see (a restart,
a crash) and for restores into a fresh cluster."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.settings import Settings
from tests.conftest import TestDatabase, _open


@contextmanager
def private_home() -> Iterator[Path]:
    """A WANGGE_HOME the `postgres` user can traverse (pytest's own tmp dirs are 0700)."""
    home = Path(tempfile.mkdtemp(prefix="wangge-private-"))
    home.chmod(0o755)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def private_cluster() -> Iterator[tuple[LocalCluster, TestDatabase]]:
    """A new cluster, started, with its `wangge` database migrated; stopped and removed after."""
    with private_home() as home:
        cluster = LocalCluster(home)
        cluster.up()
        try:
            database = _open(cluster, "wangge")
            migrate.upgrade(database.owner, app_role=APP_ROLE)
            try:
                yield cluster, database
            finally:
                database.owner.dispose()
                database.app.dispose()
        finally:
            cluster.down(mode="immediate")


def settings_of(cluster: LocalCluster) -> Settings:
    return Settings(
        database_url=cluster.url(role=APP_ROLE).render_as_string(hide_password=False),
        admin_database_url=cluster.url(role=OWNER_ROLE).render_as_string(hide_password=False),
        home=cluster.home,
        env="testing",
    )

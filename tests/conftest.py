"""One real PostGIS database per test run; each test in a transaction rolled back at its end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from geodata import db
from geodata.db import migrate
from geodata.db.cluster import APP_ROLE, OWNER_ROLE, LocalCluster
from geodata.settings import Settings


@dataclass(frozen=True)
class TestDatabase:
    """A database made for this test run, with engines for the owner and the app role."""

    __test__: ClassVar[bool] = False

    name: str
    owner: Engine
    app: Engine
    settings: Settings


def _make_database(cluster: LocalCluster, name: str) -> TestDatabase:
    cluster.drop_database(name)
    cluster.ensure_database(name)
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=name))
    app = db.make_engine(cluster.url(role=APP_ROLE, database=name))
    migrate.upgrade(owner, app_role=APP_ROLE)
    settings = Settings(
        database_url=cluster.url(role=APP_ROLE, database=name).render_as_string(
            hide_password=False
        ),
        admin_database_url=cluster.url(role=OWNER_ROLE, database=name).render_as_string(
            hide_password=False
        ),
        home=cluster.home,
        env="testing",
    )
    return TestDatabase(name=name, owner=owner, app=app, settings=settings)


@pytest.fixture(scope="session")
def cluster() -> LocalCluster:
    """The embedded cluster of this machine (WANGGE_HOME); a missing server fails the run."""
    c = LocalCluster(Settings.from_env().home)
    c.up()
    return c


@pytest.fixture(scope="session")
def test_db(cluster: LocalCluster) -> Iterator[TestDatabase]:
    database = _make_database(cluster, f"wangge_test_{os.getpid()}")
    yield database
    database.owner.dispose()
    database.app.dispose()
    cluster.drop_database(database.name)


@pytest.fixture
def conn(test_db: TestDatabase) -> Iterator[Connection]:
    """A connection (owner role) inside an outer transaction rolled back after the test."""
    with test_db.owner.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


@pytest.fixture
def session(conn: Connection) -> Iterator[Session]:
    """An ORM session joined to the test's transaction through savepoints."""
    with Session(bind=conn, join_transaction_mode="create_savepoint") as s:
        yield s


@pytest.fixture(scope="session")
def sample_db(cluster: LocalCluster) -> Iterator[TestDatabase]:
    """A database of its own with the sample town loaded once, for read-only tests."""
    from geodata.samples.town import load_sample

    database = _make_database(cluster, f"wangge_sample_{os.getpid()}")
    with database.owner.begin() as connection:
        load_sample(connection, seed=2020)
    yield database
    database.owner.dispose()
    database.app.dispose()
    cluster.drop_database(database.name)


@pytest.fixture(scope="session")
def small_town_db(cluster: LocalCluster) -> Iterator[TestDatabase]:
    """A database of its own with a synthetic town of 60 households: a full town whose every
    request is quick (for tests that send thousands of them)."""
    from geodata.samples.synthetic import SyntheticSpec, load_synthetic

    database = _make_database(cluster, f"wangge_small_{os.getpid()}")
    spec = SyntheticSpec.from_counts(households=60, villages=2, grids=3, checkpoints=3, seed=11)
    with database.owner.begin() as connection:
        load_synthetic(connection, spec, progress=False)
    yield database
    database.owner.dispose()
    database.app.dispose()
    cluster.drop_database(database.name)


@pytest.fixture
def sample_conn(sample_db: TestDatabase) -> Iterator[Connection]:
    with sample_db.owner.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


PASSWORD = "a long test password"


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    token: str


def make_account(
    database: TestDatabase,
    username: str,
    role: str,
    *,
    grid_codes: tuple[str, ...] = (),
    village_codes: tuple[str, ...] = (),
) -> Account:
    """A committed account with a password and a bearer token (remove with drop_accounts)."""
    from sqlalchemy.orm import Session as OrmSession

    from geodata.auth import accounts
    from geodata.vocab import Role

    with OrmSession(database.owner) as s, s.begin():
        accounts.add_user(
            s,
            username,
            Role(role),
            grid_codes=grid_codes,
            village_codes=village_codes,
            password=PASSWORD,
        )
        token = accounts.issue_token(s, username)
    return Account(username=username, password=PASSWORD, token=token)


def drop_accounts(database: TestDatabase, *usernames: str) -> None:
    from sqlalchemy import text

    with database.owner.begin() as c:
        c.execute(text("DELETE FROM users WHERE username = ANY(:u)"), {"u": list(usernames)})


def two_settled_grids(database: TestDatabase) -> tuple[str, str]:
    """The codes of the first two grids that have households (for scope and IDOR probes)."""
    from sqlalchemy import text

    with database.owner.connect() as c:
        first, second = c.execute(
            text(
                "SELECT g.code FROM grids g WHERE EXISTS "
                "(SELECT 1 FROM households h WHERE h.grid_id = g.id) ORDER BY g.code LIMIT 2"
            )
        ).scalars()
    return str(first), str(second)

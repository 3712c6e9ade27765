"""One real PostGIS database per test run; each test in a transaction rolled back at its end."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
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


def _settings(cluster: LocalCluster, name: str) -> Settings:
    return Settings(
        database_url=cluster.url(role=APP_ROLE, database=name).render_as_string(
            hide_password=False
        ),
        admin_database_url=cluster.url(role=OWNER_ROLE, database=name).render_as_string(
            hide_password=False
        ),
        home=cluster.home,
        env="testing",
    )


def _open(cluster: LocalCluster, name: str) -> TestDatabase:
    owner = db.make_engine(cluster.url(role=OWNER_ROLE, database=name))
    app = db.make_engine(cluster.url(role=APP_ROLE, database=name))
    return TestDatabase(name=name, owner=owner, app=app, settings=_settings(cluster, name))


def _close(database: TestDatabase) -> None:
    database.owner.dispose()
    database.app.dispose()


def _make_database(cluster: LocalCluster, name: str) -> TestDatabase:
    cluster.drop_database(name)
    cluster.ensure_database(name)
    database = _open(cluster, name)
    migrate.upgrade(database.owner, app_role=APP_ROLE)
    return database


def _copy_database(cluster: LocalCluster, template: str, name: str) -> TestDatabase:
    """A new database copied from `template` (cheap: the files are copied, nothing is loaded)."""
    cluster.drop_database(name)
    cluster.ensure_database(name, template=template)
    return _open(cluster, name)


_dropping = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-database")
_drops: list[Future[None]] = []


def _drop_later(cluster: LocalCluster, name: str) -> None:
    """Drop a database on a thread of its own: DROP DATABASE waits for a checkpoint, which
    takes seconds on a busy machine; the run waits for every drop at its end (see cluster)."""
    _drops.append(_dropping.submit(cluster.drop_database, name))


def _drop(cluster: LocalCluster, database: TestDatabase) -> None:
    _close(database)
    _drop_later(cluster, database.name)


_copies = itertools.count(1)


def _copy_name(kind: str) -> str:
    return f"wangge_{kind}_{os.getpid()}_{next(_copies)}"


def _row_counts(cluster: LocalCluster, name: str) -> dict[str, int]:
    """The row count of every table, all rows (as the superuser, past row-level security)."""
    from psycopg import sql

    from geodata.models import Base

    counts: dict[str, int] = {}
    with cluster._connect(database=name) as c:
        for table in Base.metadata.tables:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            row = c.execute(query).fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


@contextmanager
def _shared(cluster: LocalCluster, database: TestDatabase) -> Iterator[TestDatabase]:
    """A database shared by the whole run: tests only read it or write in a transaction rolled
    back at their end; a row committed by a test fails the run."""
    before = _row_counts(cluster, database.name)
    yield database
    after = _row_counts(cluster, database.name)
    changed = {t: (before[t], n) for t, n in after.items() if before[t] != n}
    assert not changed, f"tests committed to the shared database {database.name}: {changed}"


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """The embedded cluster of this machine (WANGGE_HOME); a missing server fails the run."""
    c = LocalCluster(Settings.from_env().home)
    c.up()
    yield c
    for drop in _drops:
        drop.result()


@pytest.fixture(scope="session")
def empty_template(cluster: LocalCluster) -> Iterator[str]:
    """An empty migrated database, built once per run; its copies are test_db and throwaway_db."""
    database = _make_database(cluster, f"wangge_empty_template_{os.getpid()}")
    _close(database)  # a template is copied only while nobody is connected to it
    yield database.name
    _drop_later(cluster, database.name)


@pytest.fixture(scope="session")
def sample_template(cluster: LocalCluster) -> Iterator[str]:
    """The sample town, loaded once per run; its copies are sample_db and throwaway_sample_db."""
    from geodata.samples.town import load_sample

    database = _make_database(cluster, f"wangge_sample_template_{os.getpid()}")
    with database.owner.begin() as connection:
        load_sample(connection, seed=2020)
    _close(database)
    yield database.name
    _drop_later(cluster, database.name)


@pytest.fixture(scope="session")
def test_db(cluster: LocalCluster, empty_template: str) -> Iterator[TestDatabase]:
    """The run's empty database, shared: only for tests in `conn`/`session` or read-only."""
    database = _copy_database(cluster, empty_template, f"wangge_test_{os.getpid()}")
    try:
        with _shared(cluster, database):
            yield database
    finally:
        _drop(cluster, database)


@pytest.fixture(scope="session")
def sample_db(cluster: LocalCluster, sample_template: str) -> Iterator[TestDatabase]:
    """The sample town, shared by the run: only for tests that read it or roll back."""
    database = _copy_database(cluster, sample_template, f"wangge_sample_{os.getpid()}")
    try:
        with _shared(cluster, database):
            yield database
    finally:
        _drop(cluster, database)


@pytest.fixture(scope="module")
def throwaway_db(cluster: LocalCluster, empty_template: str) -> Iterator[TestDatabase]:
    """An empty migrated database of the module's own, dropped after it: for tests that commit
    (the app, the CLI, a live server, another process, two concurrent transactions)."""
    database = _copy_database(cluster, empty_template, _copy_name("throwaway"))
    yield database
    _drop(cluster, database)


@pytest.fixture
def own_db(cluster: LocalCluster, empty_template: str) -> Iterator[TestDatabase]:
    """An empty migrated database for one test alone, dropped after it: for a test that changes
    committed rows the other tests of its module read."""
    database = _copy_database(cluster, empty_template, _copy_name("own"))
    yield database
    _drop(cluster, database)


@pytest.fixture(scope="module")
def throwaway_sample_db(cluster: LocalCluster, sample_template: str) -> Iterator[TestDatabase]:
    """The sample town in a database of the module's own, dropped after it: for tests that
    commit (the app, the CLI, a live server, another process, two concurrent transactions)."""
    database = _copy_database(cluster, sample_template, _copy_name("throwaway_sample"))
    yield database
    _drop(cluster, database)


@pytest.fixture
def own_sample_db(cluster: LocalCluster, sample_template: str) -> Iterator[TestDatabase]:
    """The sample town in a database for one test alone, dropped after it: for a test that
    changes committed rows the other tests of its module read."""
    database = _copy_database(cluster, sample_template, _copy_name("own_sample"))
    yield database
    _drop(cluster, database)


@pytest.fixture(scope="module")
def small_town_db(cluster: LocalCluster) -> Iterator[TestDatabase]:
    """A synthetic town of 60 households in a database of the module's own, dropped after it:
    a full town whose every request is quick (for tests that send thousands of them)."""
    from geodata.samples.synthetic import SyntheticSpec, load_synthetic

    database = _make_database(cluster, _copy_name("small"))
    spec = SyntheticSpec.from_counts(households=60, villages=2, grids=3, checkpoints=3, seed=11)
    with database.owner.begin() as connection:
        load_synthetic(connection, spec, progress=False)
    yield database
    _drop(cluster, database)


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
    """A committed account with a password and a bearer token (in a throwaway database:
    it goes with the database)."""
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

"""The commander town in each module's own database (read only there), its accounts and
app; the server's tile cache emptied around every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests import conftest
from tests.webapp.map.commander_town import CommanderTown, Served, serve_town
from webapp.tiles import views as tiles


@pytest.fixture(scope="module")
def served(throwaway_db: conftest.TestDatabase) -> Served:
    """The town in the module's own database, which every test here only reads."""
    return serve_town(throwaway_db)


@pytest.fixture(scope="module")
def town(served: Served) -> CommanderTown:
    return served.town


@pytest.fixture(scope="module")
def accounts(served: Served) -> dict[str, conftest.Account]:
    return served.accounts


@pytest.fixture(scope="module")
def app(served: Served) -> Flask:
    return served.app


@pytest.fixture(autouse=True)
def fresh_tiles() -> Iterator[None]:
    tiles.cache.clear()
    yield
    tiles.cache.clear()

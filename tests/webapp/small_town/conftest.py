"""The small town committed in each module's own database, the app over it, and a client
signed in as a town-wide commander."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import conftest
from tests.webapp.small_town_data import SmallTown, insert_test_town
from webapp import create_app


@pytest.fixture(scope="module")
def town(throwaway_db: conftest.TestDatabase) -> SmallTown:
    """The test town, committed (the app reads through its own pool) in the module's database."""
    with throwaway_db.owner.begin() as conn:
        return insert_test_town(conn)


@pytest.fixture(scope="module")
def viewer(throwaway_db: conftest.TestDatabase) -> conftest.Account:
    """A town-wide commander whose bearer token the client sends."""
    return conftest.make_account(throwaway_db, "map-viewer", "commander")


@pytest.fixture(scope="module")
def app(throwaway_db: conftest.TestDatabase, town: SmallTown) -> Flask:
    return create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )


@pytest.fixture
def client(app: Flask, viewer: conftest.Account) -> FlaskClient:
    signed_in = app.test_client()
    signed_in.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {viewer.token}"
    return signed_in

"""What the web tests share: the app over the module's own copy of the sample town."""

from __future__ import annotations

import pytest
from flask import Flask

from tests import conftest
from webapp import create_app


@pytest.fixture(scope="module")
def app(throwaway_sample_db: conftest.TestDatabase) -> Flask:
    """The app over the module's own copy of the sample town (a module may define its own)."""
    db = throwaway_sample_db
    return create_app(db.settings, engine=db.app, admin_engine=db.owner)

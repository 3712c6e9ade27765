"""The sample town the export tests commit to: a database of the module's own."""

from __future__ import annotations

import pytest

from tests.conftest import TestDatabase


@pytest.fixture(scope="module")
def town(throwaway_sample_db: TestDatabase) -> TestDatabase:
    """The sample town in the module's own database: exports commit their audit events."""
    return throwaway_sample_db

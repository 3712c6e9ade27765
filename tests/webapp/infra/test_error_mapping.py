"""Every domain error has one HTTP status (webapp.infra.errors) and one exit code (its own
`exit_code`, reported by geodata.cli.context.reports_errors); no message but a bad input's
own (ours, about the request) reaches the caller."""

from __future__ import annotations

import importlib
import pkgutil

import click
import pytest
from click.testing import CliRunner
from flask import Blueprint, Flask

import geodata
from geodata.analysis.placement.covering import PlacementError
from geodata.auth.access import ForbiddenError
from geodata.auth.accounts import AccountError
from geodata.cli.context import reports_errors
from geodata.db.backup import BackupError
from geodata.disclosure.rules import DisclosureError
from geodata.errors import ClusterError, ConfigError, ConflictError, NotFoundError, WanggeError
from geodata.exports.privacy import PseudonymKeyError
from geodata.exports.run import ExportError, ExportWriteError
from geodata.identifiers import IdentifierError
from geodata.imports.report import FileRefused
from geodata.params import RequestError
from geodata.records.refusal import RecordRefused
from geodata.records.supplies_ledger import EntryConflictError, EntryRefused
from geodata.services.daily import NotYourUnitError
from geodata.services.export_for_import import ForImportForbiddenError
from geodata.services.operations import OperationRefused, StaleVersion
from geodata.services.patrol_planning import PatrolRefused
from tests import conftest
from webapp.factory import create_app
from webapp.infra.errors import status_for
from webapp.infra.policy import public

STORED = "Zhang San 110101199003071234"
"""Stands for a stored value a domain error may carry: only a bad input's message is shown."""

ERRORS: dict[type[WanggeError], tuple[WanggeError, int, int]] = {
    NotFoundError: (NotFoundError(f"no household {STORED}"), 404, 1),
    ForbiddenError: (ForbiddenError(f"analyst may not {STORED}"), 403, 3),
    ForImportForbiddenError: (
        ForImportForbiddenError("--for-import: only an admin may export in full"),
        403,
        1,
    ),
    ConfigError: (ConfigError("--candidates needs --demand"), 400, 2),
    RequestError: (RequestError("budget: a whole number"), 400, 2),
    IdentifierError: (IdentifierError("site 2: id holds < >"), 400, 1),
    DisclosureError: (DisclosureError("hex_resolution: at most 9"), 400, 1),
    ExportError: (ExportError("coverage is published as aggregates only"), 400, 2),
    PlacementError: (PlacementError("the kept sites alone need more than the budget"), 400, 1),
    AccountError: (AccountError("password: at least 12 characters"), 400, 1),
    FileRefused: (FileRefused("upload.csv", []), 400, 1),
    RecordRefused: (RecordRefused("town setting 'timezone': unknown time zone"), 400, 1),
    OperationRefused: (OperationRefused("entrance E1: state: one of open, sealed"), 400, 1),
    StaleVersion: (StaleVersion("checkpoint C1: version: changed", {"version": 2}), 409, 1),
    ConflictError: (ConflictError("quarantine of 'r1': resident: already in one"), 409, 1),
    NotYourUnitError: (NotYourUnitError("grid 9900700101: not a unit of yours"), 403, 1),
    ClusterError: (ClusterError(f"cannot connect: {STORED}"), 503, 1),
    PseudonymKeyError: (PseudonymKeyError(f"key file readable by others: {STORED}"), 500, 1),
    BackupError: (BackupError("pg_dump failed: connection refused"), 500, 1),
    ExportWriteError: (ExportWriteError("could not write v.csv: No space left on device"), 500, 1),
    PatrolRefused: (PatrolRefused("--zones: at least 1"), 400, 1),
    EntryRefused: (EntryRefused("e1", "quantity", "more than 0"), 400, 1),
    EntryConflictError: (EntryConflictError("e1", "content", "posted with other content"), 409, 1),
    WanggeError: (WanggeError(f"something else: {STORED}"), 500, 1),
}
"""Each class: an instance, its HTTP status and its exit code (1 bad input, 2 usage, 3 a
role that may not; 1 for failures that are not the caller's)."""


def _every_error_class() -> set[type[WanggeError]]:
    for module in pkgutil.walk_packages(geodata.__path__, "geodata."):
        if not module.name.startswith("geodata.migrations"):
            importlib.import_module(module.name)
    found: set[type[WanggeError]] = set()
    todo: list[type[WanggeError]] = [WanggeError]
    while todo:
        kind = todo.pop()
        found.add(kind)
        todo.extend(kind.__subclasses__())
    return {k for k in found if k.__module__.startswith("geodata")}


def test_every_domain_error_class_has_a_status_and_an_exit_code_here() -> None:
    assert _every_error_class() == set(ERRORS), "add the new error class to ERRORS"


@pytest.mark.parametrize("kind", list(ERRORS), ids=lambda k: k.__name__)
def test_status_and_exit_code_of_each_class(kind: type[WanggeError]) -> None:
    error, status, exit_code = ERRORS[kind]
    assert type(error) is kind
    assert status_for(error) == status
    assert error.exit_code == exit_code


@click.command()
@click.argument("name")
@reports_errors
def _fails(name: str) -> None:
    raise next(error for kind, (error, _, _) in ERRORS.items() if kind.__name__ == name)


@pytest.mark.parametrize("kind", list(ERRORS), ids=lambda k: k.__name__)
def test_the_command_line_exits_with_the_error_s_code(kind: type[WanggeError]) -> None:
    error, _, exit_code = ERRORS[kind]
    result = CliRunner().invoke(_fails, [kind.__name__])
    assert result.exit_code == exit_code
    assert result.stderr == f"wangge: {error}\n"


@pytest.fixture(scope="module")
def app(throwaway_db: conftest.TestDatabase) -> Flask:
    """The app with two public views that raise the domain error named in their path."""
    made = create_app(
        throwaway_db.settings, engine=throwaway_db.app, admin_engine=throwaway_db.owner
    )
    raising = Blueprint("raising", __name__)

    @raising.get("/api/v1/raising/<name>")
    @public
    def api(name: str) -> str:
        raise next(error for kind, (error, _, _) in ERRORS.items() if kind.__name__ == name)

    @raising.get("/raising/<name>")
    @public
    def page(name: str) -> str:
        return api(name)

    made.register_blueprint(raising)
    return made


@pytest.mark.parametrize("kind", list(ERRORS), ids=lambda k: k.__name__)
def test_the_web_answers_with_the_error_s_status(app: Flask, kind: type[WanggeError]) -> None:
    error, status, _ = ERRORS[kind]
    client = app.test_client()
    answer = client.get(f"/api/v1/raising/{kind.__name__}")
    assert answer.status_code == status
    message = answer.get_json()["message"]
    if status in (400, 409):
        assert message == str(error)  # ours, about the request
    else:
        assert STORED not in message
        assert str(error) != message
    page = client.get(f"/raising/{kind.__name__}")
    assert page.status_code == status
    assert page.mimetype == "text/html"
    assert STORED not in page.get_data(as_text=True)

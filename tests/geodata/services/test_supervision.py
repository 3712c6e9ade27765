"""Supervision through its service: rights, village scope, audit and stale versions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection, text

from geodata.auth.access import ForbiddenError, Principal
from geodata.errors import NotFoundError
from geodata.params.base import RequestError, validate
from geodata.params.supervision import (
    InspectionParams,
    RectificationParams,
    RectificationStepParams,
)
from geodata.services import supervision as service
from geodata.services.operations import StaleVersion
from geodata.vocab import Role
from tests.geodata.records.test_supervision import CHECKS, T, town

ADMIN = Principal(name="boss", role=Role.ADMIN)


def commander_of(grid_id: int) -> Principal:
    return Principal(name="wang", role=Role.COMMANDER, grid_ids=frozenset({grid_id}))


def audits(conn: Connection, action: str) -> int:
    return int(
        conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = :a"), {"a": action}
        ).scalar_one()
    )


def test_a_commander_supervises_only_their_villages(conn: Connection) -> None:
    t = town(conn)
    wang = commander_of(t["g1"])
    params = InspectionParams(checkpoint="test:checkpoint/cp1", inspector="test:staff/b",
                              at=T, notes="  ", **CHECKS)  # fmt: skip
    service.add_inspection(conn, wang, params)
    assert audits(conn, "inspection_add") == 1
    with pytest.raises(NotFoundError):
        service.add_inspection(
            conn, wang, params.model_copy(update={"checkpoint": "test:checkpoint/cp2"})
        )
    planner = Principal(name="p", role=Role.PLANNER)
    with pytest.raises(ForbiddenError):
        service.add_inspection(conn, planner, params)
    listed = service.list_inspections(conn, wang, T)
    assert [i["checkpoint"] for i in listed["inspections"]] == ["test:checkpoint/cp1"]
    assert listed["inspections"][0]["notes"] is None
    assert listed["not_inspected"] == []
    assert service.list_inspections(conn, ADMIN, T)["not_inspected"] == ["test:checkpoint/cp2"]
    assert audits(conn, "inspection_list") == 2


def test_fix_verify_stale_and_overdue(conn: Connection) -> None:
    t = town(conn)
    wang = commander_of(t["g1"])
    item = service.add_rectification(
        conn, wang,
        RectificationParams(checkpoint="test:checkpoint/cp1", description="no masks",
                            owner="test:staff/a", deadline=T + timedelta(hours=2)),
    )  # fmt: skip
    assert item["status"] == "open"
    fixed = service.step(
        conn, wang, item["id"], RectificationStepParams(by="test:staff/a", version=1, at=T),
        verify=False,
    )  # fmt: skip
    assert (fixed["status"], fixed["version"]) == ("fixed", 2)
    with pytest.raises(StaleVersion) as stale:
        service.step(conn, wang, item["id"], RectificationStepParams(by="test:staff/b", version=1),
                     verify=True)  # fmt: skip
    assert stale.value.current["status"] == "fixed"
    overdue = service.overdue(conn, wang, T + timedelta(hours=3))
    assert [i["id"] for i in overdue] == [item["id"]]
    assert service.overdue(conn, wang, T + timedelta(hours=1)) == []
    other = commander_of(
        conn.execute(text("SELECT min(id) FROM grids WHERE code = '990000040201'")).scalar_one()
    )
    assert service.overdue(conn, other, T + timedelta(hours=3)) == []
    with pytest.raises(NotFoundError):
        service.step(conn, other, item["id"], RectificationStepParams(by="test:staff/b", version=2),
                     verify=True)  # fmt: skip
    verified = RectificationStepParams(by="test:staff/b", version=2)
    done = service.step(conn, ADMIN, item["id"], verified, verify=True)
    assert done["status"] == "verified"
    assert service.overdue(conn, wang, T + timedelta(hours=3)) == []
    assert audits(conn, "rectification_fix") == audits(conn, "rectification_verify") == 1


def test_bad_input_names_the_field() -> None:
    good = {"checkpoint": "c", "description": "no masks", "owner": "a", "deadline": "2026-02-01"}
    for field, bad in (("description", " "), ("deadline", "soon"), ("owner", "")):
        with pytest.raises(RequestError) as refused:
            validate(RectificationParams, {**good, field: bad})
        assert refused.value.fields == (field,)
    with pytest.raises(RequestError) as refused:
        validate(RectificationStepParams, {"by": "a", "version": 0})
    assert refused.value.fields == ("version",)

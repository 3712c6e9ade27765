"""Who may do what: the policy table, grid scope, masking, audit, and RLS as a second layer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, insert, select, text
from sqlalchemy.orm import Session

from geodata.auth import accounts, audit
from geodata.auth.access import (
    POLICY,
    Action,
    ForbiddenError,
    Principal,
    principal_for,
    principal_for_user_id,
)
from geodata.auth.masking import PersonalField, mask_id_number, mask_phone
from geodata.errors import NotFoundError
from geodata.models import AuditEvent, Grid, Household, Resident, User
from geodata.records import households
from geodata.vocab import Role
from tests import factories as f
from tests.conftest import TestDatabase

ID_A = "990101198001011234"
PHONE_A = "19900001234"
NAME_A = "王小明"

EXPECTED: dict[Role, set[str]] = {
    Role.ADMIN: {str(a) for a in Action},
    Role.COMMANDER: {"view_map", "view_coverage", "view_households", "reveal_personal",
                     "export_aggregate", "operate", "supervise", "manage_people"},
    Role.PLANNER: {"view_map", "view_coverage", "plan", "export_aggregate"},
    Role.ANALYST: {"view_map", "view_coverage", "export_aggregate", "export_pseudonymous"},
    Role.GRID_WORKER: {"view_map", "view_coverage", "view_households", "edit_households",
                       "reveal_personal"},
}  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_policy_table(role: Role, action: Action) -> None:
    principal = Principal(name="p", role=role)
    allowed = action.value in {str(a) for a in EXPECTED[role]}
    assert principal.can(action) is allowed
    if allowed:
        principal.require(action)
    else:
        with pytest.raises(ForbiddenError):
            principal.require(action)


def test_only_admin_manages_audits_and_purges() -> None:
    for action in (Action.MANAGE_USERS, Action.VIEW_AUDIT, Action.PURGE, Action.EXPORT_PERSONAL):
        assert [r for r, acts in POLICY.items() if action in acts] == [Role.ADMIN]


def test_masks() -> None:
    assert mask_id_number(ID_A) == "9901**********1234"
    assert mask_phone(PHONE_A) == "199****1234"


@dataclass
class Town:
    conn: Connection
    grid_a: int
    grid_b: int
    household_a: int
    household_b: int
    resident_a: int


@pytest.fixture
def town(test_db: TestDatabase) -> Iterator[Town]:
    """Two grids with one household each, written as the app role (rolled back after)."""
    with test_db.app.connect() as conn:
        outer = conn.begin()
        vid = f.village(conn, "9900000301", f.square(0, 0, 1, 1))
        ga = f.grid(conn, vid, "990000030101", f.square(0, 0, 0.5, 1))
        gb = f.grid(conn, vid, "990000030102", f.square(0.5, 0, 1, 1))
        ba = f.building(conn, "a", f.square(0.1, 0.1, 0.12, 0.12), grid_id=ga)
        bb = f.building(conn, "b", f.square(0.6, 0.1, 0.62, 0.12), grid_id=gb)
        conn.execute(text("SET LOCAL ROLE wangge_town"))
        ha = f.household(conn, "a", ba, ga)
        hb = f.household(conn, "b", bb, gb)
        ra = conn.execute(
            insert(Resident)
            .values(
                source_id="test:resident/a",
                household_id=ha,
                grid_id=ga,
                name=NAME_A,
                id_number=ID_A,
                phone=PHONE_A,
            )
            .returning(Resident.id)
        ).scalar_one()
        conn.execute(
            insert(Resident).values(
                source_id="test:resident/b", household_id=hb, grid_id=gb, name="李四"
            )
        )
        conn.execute(text("RESET ROLE"))
        try:
            yield Town(conn, ga, gb, ha, hb, int(ra))
        finally:
            outer.rollback()


def worker(town: Town) -> Principal:
    return Principal(
        name="worker-a", role=Role.GRID_WORKER, user_id=1, grid_ids=frozenset({town.grid_a})
    )


def test_rls_without_context_shows_nothing(town: Town) -> None:
    # The application check bypassed: the app role with no scope set sees no personal row.
    for table in ("households", "residents", "visits"):
        assert town.conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0  # noqa: S608 (table names from a literal list in this test)


def test_rls_with_a_grid_context_shows_that_grid_only(town: Town) -> None:
    town.conn.execute(
        text("SELECT set_config('wangge.grid_ids', :g, true)"), {"g": str(town.grid_a)}
    )
    ids = town.conn.execute(select(Household.id)).scalars().all()
    assert ids == [town.household_a]
    with pytest.raises(Exception, match="row-level security"), town.conn.begin_nested():
        f.household(town.conn, "smuggled", None, town.grid_b)


def test_grid_worker_sees_own_household(town: Town) -> None:
    detail = households.household_detail(town.conn, worker(town), town.household_a)
    (resident,) = detail["residents"]
    assert resident["id_number"] == mask_id_number(ID_A)
    assert resident["phone"] == mask_phone(PHONE_A)
    assert NAME_A not in str(detail)


def test_other_grids_household_by_id_is_not_found(town: Town) -> None:
    with pytest.raises(NotFoundError):
        households.household_detail(town.conn, worker(town), town.household_b)


def test_other_grid_by_list_filter_is_not_found(town: Town) -> None:
    with pytest.raises(NotFoundError):
        households.list_households(town.conn, worker(town), grid_code="990000030102")
    rows = households.list_households(town.conn, worker(town))
    assert [r["id"] for r in rows] == [town.household_a]


def test_planner_and_analyst_may_not_view_households(town: Town) -> None:
    for role in (Role.PLANNER, Role.ANALYST):
        with pytest.raises(ForbiddenError):
            households.household_detail(town.conn, Principal(name="x", role=role), town.household_a)


def test_town_wide_commander_sees_both(town: Town) -> None:
    commander = Principal(name="c", role=Role.COMMANDER)
    rows = households.list_households(town.conn, commander)
    assert {r["id"] for r in rows} == {town.household_a, town.household_b}


def test_reveal_is_audited_without_the_value(town: Town) -> None:
    value = households.reveal(town.conn, worker(town), town.resident_a, PersonalField.ID_NUMBER)
    assert value == ID_A
    households.household_detail(town.conn, worker(town), town.household_a)
    events = town.conn.execute(
        select(AuditEvent.action, AuditEvent.object_ids, AuditEvent.detail, AuditEvent.actor)
        .where(AuditEvent.actor == "worker-a")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.object_ids) for e in events] == [
        ("reveal", [town.resident_a]),
        ("view", [town.household_a]),
    ]
    dump = str(events)
    for secret in (ID_A, PHONE_A, NAME_A, ID_A[-4:] + "'"):
        assert secret not in dump


def test_reveal_of_another_grids_resident_is_not_found(town: Town) -> None:
    other = Principal(name="w", role=Role.GRID_WORKER, grid_ids=frozenset({town.grid_b}))
    with pytest.raises(NotFoundError):
        households.reveal(town.conn, other, town.resident_a, PersonalField.PHONE)


# -- accounts ------------------------------------------------------------------
def test_accounts_roundtrip(session: Session, conn: Connection) -> None:
    vid = f.village(conn, "9900000302", f.square(0, 0, 1, 1))
    f.grid(conn, vid, "990000030201", f.square(0, 0, 1, 1))
    new = accounts.add_user(session, "wk1", Role.GRID_WORKER, grid_codes=["990000030201"])
    assert new.activation_code is not None
    assert accounts.authenticate(session, "wk1", "anything-at-all") is None
    accounts.activate(session, new.activation_code, "correct horse battery")
    user = accounts.authenticate(session, "wk1", "correct horse battery")
    assert user is not None
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert principal_for(conn, user).grid_ids is not None
    with pytest.raises(accounts.AccountError):
        accounts.activate(session, new.activation_code, "another long one")  # one time only

    token = accounts.issue_token(session, "wk1", expires_days=1)
    found = accounts.principal_for_token(session.connection(), token)
    assert found == principal_for(conn, user)
    accounts.disable(session, "wk1")
    assert accounts.principal_for_token(session.connection(), token) is None
    assert accounts.authenticate(session, "wk1", "correct horse battery") is None


def test_a_token_and_its_scope_are_read_in_one_statement(
    session: Session, conn: Connection
) -> None:
    vid = f.village(conn, "9900000304", f.square(0, 0, 1, 1))
    gid = f.grid(conn, vid, "990000030401", f.square(0, 0, 1, 1))
    accounts.add_user(session, "cm1", Role.COMMANDER, village_codes=["9900000304"])
    token = accounts.issue_token(session, "cm1")
    first = accounts.principal_for_token(conn, token)  # its first use is written down
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(conn, "before_cursor_execute", seen)
    try:
        again = accounts.principal_for_token(conn, token)
    finally:
        event.remove(conn, "before_cursor_execute", seen)
    assert len(statements) == 1
    assert again == first
    assert again is not None
    assert (again.name, again.role, again.grid_ids) == ("cm1", Role.COMMANDER, frozenset({gid}))
    by_id = principal_for_user_id(conn, again.user_id or 0)
    assert by_id == again


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE api_tokens SET revoked_at = now()",
        "UPDATE api_tokens SET expires_at = now() - interval '1 second'",
        "UPDATE users SET active = false WHERE username = 'wk3'",
    ],
)
def test_a_revoked_or_expired_token_or_a_disabled_user_is_refused(
    session: Session, conn: Connection, change: str
) -> None:
    accounts.add_user(session, "wk3", Role.ANALYST)
    token = accounts.issue_token(session, "wk3")
    assert accounts.principal_for_token(conn, token) is not None
    user_id = session.scalar(select(User.id).where(User.username == "wk3"))
    conn.execute(text(change))
    assert accounts.principal_for_token(conn, token) is None
    if "users" in change:
        assert principal_for_user_id(conn, user_id or 0) is None


def test_unknown_grid_code_is_named(session: Session) -> None:
    with pytest.raises(NotFoundError, match="NOPE"):
        accounts.add_user(session, "wk2", Role.GRID_WORKER, grid_codes=["NOPE"])


def test_password_rehashed_when_parameters_change(session: Session) -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192)
    new = accounts.add_user(session, "rh", Role.ANALYST, password="a long enough password")
    new.user.password_hash = weak.hash("a long enough password")
    session.flush()
    old = new.user.password_hash
    assert accounts.authenticate(session, "rh", "a long enough password") is not None
    assert new.user.password_hash != old
    assert not accounts.HASHER.check_needs_rehash(new.user.password_hash)


# -- audited lists ---------------------------------------------------------------
def _last_event(conn: Connection, actor: str) -> tuple[Any, ...]:
    found = conn.execute(
        select(AuditEvent.action, AuditEvent.object_type, AuditEvent.object_ids,
               AuditEvent.row_count, func.jsonb_typeof(AuditEvent.detail))
        .where(AuditEvent.actor == actor)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).one()  # fmt: skip
    return tuple(found)


def test_a_listed_query_is_audited_by_the_same_statement_in_its_order(conn: Connection) -> None:
    vid = f.village(conn, "9900000303", f.square(0, 0, 1, 1))
    grids = [f.grid(conn, vid, f"99000003030{i}", f.square(0, 0, 1, 1)) for i in range(1, 6)]
    query = select(Grid.id, Grid.code).where(Grid.id.in_(grids)).limit(3)
    statements: list[str] = []
    event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
    rows = audit.listed(
        conn, query, order_by=[Grid.code.desc()], id_column="id",
        actor="lister", action="list", object_type="grid",
    )  # fmt: skip
    assert len(statements) == 1
    expected = sorted(grids, reverse=True)[:3]  # codes follow the ids here
    assert rows == [
        {"id": g, "code": c}
        for g, c in conn.execute(
            select(Grid.id, Grid.code).where(Grid.id.in_(expected)).order_by(Grid.code.desc())
        ).all()
    ]
    assert [r["id"] for r in rows] == expected
    assert {type(k) for r in rows for k in r} == {str}  # orjson takes no str subclass as a key
    assert _last_event(conn, "lister") == ("list", "grid", expected, 3, "null")
    # as `record` writes the same list
    audit.record(conn, actor="recorder", action="list", object_type="grid",
                 object_ids=expected, row_count=3)  # fmt: skip
    assert _last_event(conn, "recorder") == _last_event(conn, "lister")
    nothing = audit.listed(
        conn, query.where(Grid.id < 0), order_by=[Grid.code], id_column="id",
        actor="lister-empty", action="list", object_type="grid",
    )  # fmt: skip
    assert nothing == []
    audit.record(conn, actor="recorder-empty", action="list", object_type="grid",
                 object_ids=[], row_count=0)  # fmt: skip
    assert _last_event(conn, "lister-empty") == ("list", "grid", None, 0, "null")
    assert _last_event(conn, "recorder-empty") == _last_event(conn, "lister-empty")

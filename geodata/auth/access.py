"""Who may do what: one policy of role × action, and each principal's grid scope.

Deny by default: an action a role is not listed for is refused. Object scope is the set of
grids a principal answers for (None: the whole town). An object outside the scope is
reported as not found, so that its existence does not leak.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, Row, text, true

from geodata.errors import WanggeError
from geodata.vocab import Role

if TYPE_CHECKING:
    from geodata.models import User


class Action(enum.StrEnum):
    VIEW_MAP = "view_map"
    VIEW_COVERAGE = "view_coverage"
    VIEW_HOUSEHOLDS = "view_households"
    EDIT_HOUSEHOLDS = "edit_households"
    REVEAL_PERSONAL = "reveal_personal"
    EXPORT_AGGREGATE = "export_aggregate"
    EXPORT_PSEUDONYMOUS = "export_pseudonymous"
    EXPORT_PERSONAL = "export_personal"
    IMPORT_DATA = "import_data"
    PLAN = "plan"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    PURGE = "purge"
    OPERATE = "operate"
    """The command post: seal or open entrances, activate or close checkpoints, staff shifts."""
    MANAGE_TOWN = "manage_town"
    MANAGE_PEOPLE = "manage_people"
    """Staff, teams and shifts: add, edit, retire (commanders for their villages)."""
    SUPERVISE = "supervise"
    """Supervision (督导): checkpoint inspections and rectification items."""


A = Action
POLICY: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.COMMANDER: frozenset(
        {
            A.VIEW_MAP,
            A.VIEW_COVERAGE,
            A.VIEW_HOUSEHOLDS,
            A.REVEAL_PERSONAL,
            A.EXPORT_AGGREGATE,
            A.OPERATE,
            A.SUPERVISE,
            A.MANAGE_PEOPLE,
        }
    ),
    Role.PLANNER: frozenset({A.VIEW_MAP, A.VIEW_COVERAGE, A.PLAN, A.EXPORT_AGGREGATE}),
    Role.ANALYST: frozenset(
        {A.VIEW_MAP, A.VIEW_COVERAGE, A.EXPORT_AGGREGATE, A.EXPORT_PSEUDONYMOUS}
    ),
    Role.GRID_WORKER: frozenset(
        {A.VIEW_MAP, A.VIEW_COVERAGE, A.VIEW_HOUSEHOLDS, A.EDIT_HOUSEHOLDS, A.REVEAL_PERSONAL}
    ),
}
"""The whole policy. Admin does everything; nobody else manages users, audits or purges."""


class ForbiddenError(WanggeError):
    """The principal's role may not do this at all."""

    exit_code = 3


@dataclass(frozen=True)
class Principal:
    """Someone acting: a user of the app, or the local operator of the command line."""

    name: str
    role: Role
    user_id: int | None = None
    grid_ids: frozenset[int] | None = None
    """The grids this principal answers for; None means the whole town."""

    @property
    def town_wide(self) -> bool:
        return self.grid_ids is None

    def can(self, action: Action) -> bool:
        return action in POLICY.get(self.role, frozenset())

    def require(self, action: Action) -> None:
        if not self.can(action):
            raise ForbiddenError(f"{self.role.value} may not {action.value.replace('_', ' ')}")

    def covers(self, grid_id: int | None) -> bool:
        """Whether an object in this grid is within scope."""
        return self.grid_ids is None or (grid_id is not None and grid_id in self.grid_ids)

    def in_scope(self, grid_column: ColumnElement[Any]) -> ColumnElement[bool]:
        """A WHERE clause keeping the rows of this principal's grids (all for the town)."""
        if self.grid_ids is None:
            return true()
        return grid_column.in_(sorted(self.grid_ids))


def local_operator(os_user: str) -> Principal:
    """Whoever runs the command line on the machine reaches the database already: admin."""
    return Principal(name=f"local:{os_user}", role=Role.ADMIN)


SCOPE_COLUMNS = (
    "array(SELECT grid_id FROM user_grids WHERE user_id = {user}) AS own, "
    "array(SELECT g.id FROM user_villages v JOIN grids g ON g.village_id = v.village_id "
    "WHERE v.user_id = {user}) AS of_villages, "
    "EXISTS (SELECT 1 FROM user_villages WHERE user_id = {user}) AS has_villages"
)
"""The columns a user's grid scope is made of (`scope_of`), for a query with the user's id
as `{user}`: the scope comes in the same round trip as whatever else that query reads."""


def scope_of(
    role: Role, own: Iterable[int], of_villages: Iterable[int], has_villages: bool
) -> frozenset[int] | None:
    """The grids a user answers for, from the `SCOPE_COLUMNS` read for them."""
    if role is Role.ADMIN or role is Role.ANALYST:
        return None
    grids = frozenset(own) | frozenset(of_villages)
    if role is Role.GRID_WORKER:
        return grids  # a grid worker with no grid sees nothing
    return grids if (grids or has_villages) else None


def grid_scope(conn: Connection, user: User) -> frozenset[int] | None:
    """The grids a user answers for: own grids, the grids of own villages, or the town."""
    if user.role is Role.ADMIN or user.role is Role.ANALYST:
        return None
    row = conn.execute(text("SELECT " + SCOPE_COLUMNS.format(user=":u")), {"u": user.id}).one()
    return scope_of(user.role, row.own, row.of_villages, row.has_villages)


def principal_for(conn: Connection, user: User) -> Principal:
    return Principal(
        name=user.username, role=user.role, user_id=user.id, grid_ids=grid_scope(conn, user)
    )


def principal_for_user_id(conn: Connection, user_id: int) -> Principal | None:
    """The principal of an active user, read with its scope in one statement (None when the
    user is gone or disabled)."""
    row = conn.execute(
        text(
            "SELECT u.id, u.username, u.role, "  # noqa: S608 (constant columns)
            + SCOPE_COLUMNS.format(user="u.id")
            + " FROM users u WHERE u.id = :u AND u.active"
        ),
        {"u": user_id},
    ).one_or_none()
    return None if row is None else principal_of_row(row)


def principal_of_row(row: Row[Any]) -> Principal:
    """The principal of a row holding a user's id, username and role and SCOPE_COLUMNS."""
    role = Role(row.role)
    return Principal(
        name=row.username,
        role=role,
        user_id=row.id,
        grid_ids=scope_of(role, row.own, row.of_villages, row.has_villages),
    )


def allowed_roles(action: Action) -> Iterable[Role]:
    return (role for role, actions in POLICY.items() if action in actions)

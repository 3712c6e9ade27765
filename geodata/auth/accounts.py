"""Accounts: users with roles and scopes, Argon2id passwords, activation links, API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, select, text, update
from sqlalchemy.orm import Session

from geodata.auth.access import SCOPE_COLUMNS, Principal, principal_of_row
from geodata.errors import ConfigError, NotFoundError, WanggeError
from geodata.models import (
    ApiToken,
    Grid,
    Staff,
    User,
    UserGrid,
    UserVillage,
    Village,
    WebSession,
)
from geodata.vocab import Role

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD_LENGTH = 12
ACTIVATION_TTL = timedelta(days=3)
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)

HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so both cost the same time."""
    return HASHER.hash("wangge-dummy-password-for-timing")


class AccountError(WanggeError):
    """An account operation that cannot be done as asked."""


def _now() -> datetime:
    return datetime.now(UTC)


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy random secret (tokens, session ids, activation codes)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewUser:
    user: User
    activation_code: str | None
    """Set when no password was given: the one-time code of the activation link."""


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user named {username!r}")
    return user


def add_user(
    session: Session,
    username: str,
    role: Role,
    *,
    grid_codes: Sequence[str] = (),
    village_codes: Sequence[str] = (),
    password: str | None = None,
    display_name: str | None = None,
) -> NewUser:
    """Create a user; without a password, an activation code is returned (shown once)."""
    if not USERNAME.match(username):
        raise ConfigError(
            f"username {username!r}: 2-64 characters of a-z, 0-9, '.', '_', '-', "
            "starting with a letter or digit"
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} exists already")
    if role is Role.GRID_WORKER and not grid_codes:
        raise ConfigError("a grid worker needs --grids")
    if grid_codes and role is not Role.GRID_WORKER:
        raise ConfigError("--grids is for grid workers; commanders and planners take --villages")
    if village_codes and role not in (Role.COMMANDER, Role.PLANNER):
        raise ConfigError("--villages is for commanders and planners")
    grid_ids = _ids_by_code(session, Grid, grid_codes, "grid")
    village_ids = _ids_by_code(session, Village, village_codes, "village")

    user = User(username=username, role=role, display_name=display_name)
    code = None
    if password is not None:
        check_password_strength(password)
        user.password_hash = HASHER.hash(password)
    else:
        code = secrets.token_urlsafe(24)
        user.activation_hash = digest(code)
        user.activation_expires_at = _now() + ACTIVATION_TTL
    session.add(user)
    session.flush()
    session.add_all(UserGrid(user_id=user.id, grid_id=g) for g in grid_ids)
    session.add_all(UserVillage(user_id=user.id, village_id=v) for v in village_ids)
    session.flush()
    return NewUser(user=user, activation_code=code)


def _ids_by_code(
    session: Session, model: type[Grid] | type[Village], codes: Sequence[str], what: str
) -> list[int]:
    if not codes:
        return []
    rows = session.execute(select(model.code, model.id).where(model.code.in_(codes))).all()
    found = {row[0]: row[1] for row in rows}
    missing = [c for c in codes if c not in found]
    if missing:
        raise NotFoundError(f"unknown {what} code(s): {', '.join(missing)}")
    return [found[c] for c in codes]


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None; the same work whether or not it exists."""
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.active else None
    try:
        HASHER.verify(stored or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or stored is None:
        return None
    if HASHER.check_needs_rehash(stored):
        user.password_hash = HASHER.hash(password)
        session.flush()
    return user


def activate(session: Session, code: str, password: str) -> User:
    """Set the first password through a one-time activation code."""
    check_password_strength(password)
    user = session.scalar(select(User).where(User.activation_hash == digest(code)))
    if user is None or user.activation_expires_at is None or user.activation_expires_at < _now():
        raise AccountError("this activation link is invalid or has expired")
    user.password_hash = HASHER.hash(password)
    user.activation_hash = None
    user.activation_expires_at = None
    session.flush()
    return user


def revoke_access(session: Session, user: User) -> None:
    """End every session and token of a user."""
    now = _now()
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def disable(session: Session, username: str) -> User:
    user = get_user(session, username)
    user.active = False
    revoke_access(session, user)
    session.flush()
    return user


def reset(session: Session, username: str) -> str:
    """Clear the password, end sessions and tokens, and return a new activation code."""
    user = get_user(session, username)
    code = secrets.token_urlsafe(24)
    user.password_hash = None
    user.active = True
    user.activation_hash = digest(code)
    user.activation_expires_at = _now() + ACTIVATION_TTL
    revoke_access(session, user)
    session.flush()
    return code


def link_staff(session: Session, username: str, staff_source_id: str) -> User:
    """Link an account to the person it is: the visits it records name them as the worker."""
    user = get_user(session, username)
    staff = session.execute(
        select(Staff.id, Staff.retired_at).where(Staff.source_id == staff_source_id)
    ).one_or_none()
    if staff is None:
        raise AccountError(f"--staff: no staff with source id {staff_source_id!r}")
    if staff.retired_at is not None:
        raise AccountError(f"--staff: staff {staff_source_id!r} is retired")
    other = session.scalar(
        select(User.username).where(User.staff_id == staff.id, User.id != user.id)
    )
    if other is not None:
        raise AccountError(f"--staff: staff {staff_source_id!r} is linked to user {other!r}")
    user.staff_id = staff.id
    session.flush()
    return user


def issue_token(session: Session, username: str, *, expires_days: int | None = None) -> str:
    """A new bearer token for a user (shown once; only its hash is kept)."""
    user = get_user(session, username)
    if not user.active:
        raise AccountError(f"user {username!r} is disabled")
    token = "wgt_" + secrets.token_urlsafe(32)
    expires = _now() + timedelta(days=expires_days) if expires_days else None
    session.add(ApiToken(user_id=user.id, token_hash=digest(token), expires_at=expires))
    session.flush()
    return token


TOKEN_PRINCIPAL_SQL = (
    "SELECT t.id AS token_id, t.last_used_at, u.id, u.username, u.role, "  # noqa: S608 (constant columns)
    + SCOPE_COLUMNS.format(user="u.id")
    + " FROM api_tokens t JOIN users u ON u.id = t.user_id"
    " WHERE t.token_hash = :hash AND t.revoked_at IS NULL"
    " AND (t.expires_at IS NULL OR t.expires_at >= :now) AND u.active"
)
"""A valid token's user and grid scope in one statement: a request's whole identification."""


def principal_for_token(conn: Connection, token: str) -> Principal | None:
    """The principal of the active user a valid, unexpired, unrevoked token belongs to."""
    now = _now()
    row = conn.execute(text(TOKEN_PRINCIPAL_SQL), {"hash": digest(token), "now": now}).one_or_none()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH_INTERVAL:
        # At most once a minute: a write per request is wasted work.
        conn.execute(update(ApiToken).where(ApiToken.id == row.token_id).values(last_used_at=now))
    return principal_of_row(row)


def list_users(session: Session) -> list[dict[str, object]]:
    users = session.scalars(select(User).order_by(User.username)).all()
    grids = dict[int, list[str]]()
    for uid, code in session.execute(
        select(UserGrid.user_id, Grid.code).join(Grid, Grid.id == UserGrid.grid_id)
    ).all():
        grids.setdefault(uid, []).append(code)
    villages = dict[int, list[str]]()
    for uid, code in session.execute(
        select(UserVillage.user_id, Village.code).join(
            Village, Village.id == UserVillage.village_id
        )
    ).all():
        villages.setdefault(uid, []).append(code)
    return [
        {
            "username": u.username,
            "role": u.role.value,
            "active": u.active,
            "activated": u.password_hash is not None,
            "grids": sorted(grids.get(u.id, [])),
            "villages": sorted(villages.get(u.id, [])),
        }
        for u in users
    ]

"""Login, logout and account activation."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from geodata.auth import accounts, audit
from webapp.infra import database, params
from webapp.infra.errors import status_for
from webapp.infra.limits import LOGIN_PER_ACCOUNT, LOGIN_PER_IP, account_key, limiter
from webapp.infra.policy import public, requires
from webapp.infra.sessions import ServerSession

bp = Blueprint("auth", __name__)

FAILED = "Wrong username or password, or the account is not active."


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect, never a split header."""
    return params.local_path(target) or url_for("map.index")


@bp.get("/login")
@public
def login() -> str:
    return render_template("login.html", next=request.args.get("next", ""), error=None)


@bp.post("/login")
@public
@limiter.limit(LOGIN_PER_IP)
@limiter.limit(LOGIN_PER_ACCOUNT, key_func=account_key)
def login_post() -> WerkzeugResponse | tuple[str, int]:
    username = (request.form.get("username") or "").strip().lower()
    password = request.form.get("password") or ""
    with Session(database.engine()) as db, db.begin():
        user = accounts.authenticate(db, username, password)
        audit.record(
            db.connection(),
            actor=username if user is not None else "anonymous",
            action="login" if user is not None else "login_failed",
            object_type="user",
            object_ids=[user.id] if user is not None else [],
        )
        user_id = user.id if user is not None else None
    if user_id is None:
        return render_template("login.html", next=request.form.get("next", ""), error=FAILED), 401
    assert isinstance(session, ServerSession)
    session.clear()
    session["user_id"] = user_id
    session.regenerate()
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
@requires()
def logout() -> WerkzeugResponse:
    assert isinstance(session, ServerSession)
    session.end()
    return redirect(url_for("auth.login"))


@bp.get("/activate/<code>")
@public
def activate(code: str) -> str:
    return render_template("activate.html", code=code, error=None)


@bp.post("/activate/<code>")
@public
@limiter.limit(LOGIN_PER_IP)
def activate_post(code: str) -> WerkzeugResponse | tuple[str, int]:
    password = request.form.get("password") or ""
    if password != (request.form.get("confirm") or ""):
        return render_template("activate.html", code=code, error="The passwords differ."), 400
    try:
        with Session(database.engine()) as db, db.begin():
            user = accounts.activate(db, code, password)
            audit.record(db.connection(), actor=user.username, action="activate",
                         object_type="user", object_ids=[user.id])  # fmt: skip
    except accounts.AccountError as exc:
        # The form again with the reason; the status is the one webapp.infra.errors gives.
        return render_template("activate.html", code=code, error=str(exc)), status_for(exc)
    return redirect(url_for("auth.login"))

"""One authorisation layer for every endpoint: deny by default, role × action, then scope.

Each view declares its policy with `@requires(Action...)` or `@public`; a view without a
declaration is refused (403) for everyone, and a test walks the URL map to keep it so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect, same_origin, validate_csrf
from sqlalchemy import Connection
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import ValidationError

from geodata.auth import accounts
from geodata.auth.access import Action, Principal, principal_for_user_id
from webapp.infra import database
from webapp.infra.token_principals import TokenPrincipals

F = TypeVar("F", bound=Callable[..., Any])
POLICY_ATTR = "wangge_policy"
PUBLIC_ENDPOINTS = frozenset({"static"})
_TOKENS_KEY = "wangge.token_principals"

csrf = CSRFProtect()


@dataclass(frozen=True)
class ViewPolicy:
    action: Action | None
    """None: any signed-in user; with `public`, anyone."""
    public: bool = False
    upload: bool = False
    """The body is an upload: it is not read until the caller is allowed (the CSRF token of a
    session then comes in the X-CSRFToken header, never in the form)."""


def requires(action: Action | None = None, *, upload: bool = False) -> Callable[[F], F]:
    """The view needs a signed-in principal allowed to do `action` (None: any signed-in one).

    With `upload`, who the caller is, their role and the CSRF token are all checked from the
    headers, so a refused upload is answered without reading its body.
    """

    def mark(view: F) -> F:
        setattr(view, POLICY_ATTR, ViewPolicy(action, upload=upload))
        return view

    return mark


def public(view: F) -> F:
    """The view is open to anyone (the login page, health check)."""
    setattr(view, POLICY_ATTR, ViewPolicy(None, public=True))
    return view


def policy_of(app: Flask, endpoint: str) -> ViewPolicy | None:
    if endpoint in PUBLIC_ENDPOINTS:
        return ViewPolicy(None, public=True)
    view = app.view_functions.get(endpoint)
    found = getattr(view, POLICY_ATTR, None)
    return found if isinstance(found, ViewPolicy) else None


def current_principal() -> Principal | None:
    principal: Principal | None = g.get("principal")
    return principal


def principal() -> Principal:
    """The signed-in principal of a view that declared a policy (never None there)."""
    found = current_principal()
    if found is None:
        abort(401)
    return found


def _identify() -> Principal | None:
    """The caller: a bearer token (scripts, GIS clients) or the browser session."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.via_token = True
        token = header.removeprefix("Bearer ").strip()
        found = token_principals().principal(
            token, lambda: _look_up(lambda conn: accounts.principal_for_token(conn, token))
        )
        if found is None:
            abort(401)
        return found
    if "user_id" in session:
        user_id: int = session["user_id"]
        found = _look_up(lambda conn: principal_for_user_id(conn, user_id))
        if found is None:  # the user is gone or disabled
            session.clear()
        return found
    return None


def _look_up(read: Callable[[Connection], Principal | None]) -> Principal | None:
    with database.engine().begin() as conn:  # commits a token's last use
        return read(conn)


def token_principals() -> TokenPrincipals:
    """The current app's recently identified bearer tokens."""
    found: TokenPrincipals = current_app.extensions[_TOKENS_KEY]
    return found


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _protect_from_headers() -> None:
    """Flask-WTF's CSRF check with the token taken from the headers only (the body unread)."""
    headers: list[str] = current_app.config["WTF_CSRF_HEADERS"]
    token = next((request.headers[h] for h in headers if request.headers.get(h)), None)
    try:
        validate_csrf(token)
    except ValidationError as exc:
        raise CSRFError(exc.args[0]) from None
    strict = request.is_secure and current_app.config["WTF_CSRF_SSL_STRICT"]
    if strict and not same_origin(request.referrer or "", f"https://{request.host}/"):
        raise CSRFError("The referrer does not match the host.")
    g.csrf_valid = True


def _enforce() -> WerkzeugResponse | None:
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route: the 404 handler answers
    policy = policy_of(current_app, endpoint)
    if policy is None:
        abort(403)  # deny by default
    g.via_token = False
    g.principal = _identify()
    # Who and what before CSRF: the CSRF check may read the form, and a refused caller's
    # body is never read.
    if not policy.public:
        if g.principal is None:
            if _wants_json():
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if policy.action is not None and not g.principal.can(policy.action):
            abort(403)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not g.via_token:
        if policy.upload:
            _protect_from_headers()
        else:
            csrf.protect()
    return None


def _template_globals() -> dict[str, Any]:
    return {"current_principal": current_principal, "Action": Action}


def init_app(app: Flask) -> None:
    app.extensions[_TOKENS_KEY] = TokenPrincipals()
    app.context_processor(_template_globals)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked in _enforce, not for tokens
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # bound to the server-side session
    csrf.init_app(app)
    app.before_request(_enforce)

"""Flask sessions kept server-side in PostgreSQL: a copied cookie dies with logout or disable."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from geodata.auth import sessions
from webapp.infra import database

COOKIE = "wangge_session"


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """A session dict that knows its id and whether it must get a new one."""

    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        sid: str | None = None,
        last_seen_at: datetime | None = None,
    ) -> None:
        def on_update(_self: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.last_seen_at = last_seen_at
        self.modified = False
        self.renew = False
        self.ended = False

    def regenerate(self) -> None:
        """Take a new id (at login), so a planted id is worthless."""
        self.renew = True
        self.modified = True

    def end(self) -> None:
        """Revoke this session on the server (logout)."""
        self.clear()
        self.ended = True
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(COOKIE)
        if sid:
            with database.engine().begin() as conn:
                stored = sessions.load(conn, sid)
            if stored is not None:
                data = dict(stored.data)
                if stored.user_id is not None:
                    data["user_id"] = stored.user_id
                return ServerSession(data, sid=sid, last_seen_at=stored.last_seen_at)
        return ServerSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        cookie = {
            "httponly": True,
            "samesite": "Lax",
            "secure": bool(app.config["SESSION_COOKIE_SECURE"]),
            "path": "/",
        }
        if session.ended or (session.renew and session.sid):
            if session.sid:
                with database.engine().begin() as conn:
                    sessions.revoke(conn, session.sid)
            if session.ended:
                response.delete_cookie(COOKIE, path="/")
                return
            session.sid = None
        if not session.modified and session.sid:
            # Move the idle clock of a session in use, at most once a minute.
            if session.accessed and sessions.needs_touch(self._stored(session)):
                self._store(session)
            return
        if not session and not session.sid:
            return  # nothing worth a cookie
        if session.sid is None:
            session.sid = sessions.new_sid()
        self._store(session)
        response.set_cookie(COOKIE, session.sid, **cookie)  # type: ignore[arg-type]
        response.vary.add("Cookie")

    def _stored(self, session: ServerSession) -> sessions.StoredSession:
        assert session.sid is not None
        data = {k: v for k, v in session.items() if k != "user_id"}
        return sessions.StoredSession(
            session.sid, session.get("user_id"), data, last_seen_at=session.last_seen_at
        )

    def _store(self, session: ServerSession) -> None:
        with database.engine().begin() as conn:
            sessions.save(conn, self._stored(session))

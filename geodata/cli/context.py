"""What every `wangge` command shares: settings, engines, the acting principal, output."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
import orjson
from sqlalchemy import Engine

from geodata import db
from geodata.auth.access import Action, Principal, local_operator, principal_for
from geodata.errors import WanggeError
from geodata.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Context:
    """What every command shares: the settings and, lazily, the engines."""

    settings: Settings
    as_user: str | None = None

    def principal(self, session: Session) -> Principal:
        """Who acts: `--as NAME` / WANGGE_USER, else the local OS user as admin."""
        if self.as_user is None:
            return local_operator(getpass.getuser())
        from geodata.auth.accounts import get_user

        user = get_user(session, self.as_user)
        if not user.active:
            raise WanggeError(f"user {self.as_user!r} is disabled")
        return principal_for(session.connection(), user)

    @cached_property
    def engine(self) -> Engine:
        return db.make_engine(db.database_url(self.settings))

    @cached_property
    def admin_engine(self) -> Engine:
        return db.make_engine(db.database_url(self.settings, admin=True))

    def acting(self, action: Action) -> Principal:
        """The principal of this command, refused unless it may do `action`."""
        if self.as_user is None:
            principal = local_operator(getpass.getuser())
        else:
            from sqlalchemy.orm import Session

            with Session(self.admin_engine) as session:
                principal = self.principal(session)
        principal.require(action)
        return principal

    def close(self) -> None:
        """Return every pooled connection the command opened."""
        for name in ("engine", "admin_engine"):
            engine = self.__dict__.pop(name, None)
            if engine is not None:
                engine.dispose()


pass_ctx = click.make_pass_decorator(Context)


def emit(data: Any, fmt: str, render: Callable[[Any], str] | None = None) -> None:
    """Print a result as JSON or as readable text."""
    if fmt == "json":
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif render is not None:
        click.echo(render(data))
    else:
        for key, value in data.items() if isinstance(data, dict) else enumerate(data):
            click.echo(f"{key}: {value}")


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Domain errors become one clear line on stderr and the error's exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except WanggeError as exc:
            click.echo(f"wangge: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)

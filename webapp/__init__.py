"""The Flask web app around `geodata`: `create_app()` builds it; importing builds nothing.

The package itself stays light (the `wangge` command imports it): the app's modules load
when an app is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy import Engine

    from geodata.settings import Settings


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    admin_engine: Engine | None = None,
) -> Flask:
    """Build the app for `settings` (default: the environment); see `webapp.factory`."""
    from webapp.factory import create_app as build

    return build(settings, engine=engine, admin_engine=admin_engine)


__all__ = ["create_app"]

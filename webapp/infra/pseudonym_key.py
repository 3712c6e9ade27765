"""The export pseudonym key of this app's WANGGE_HOME (or WANGGE_EXPORT_KEY), read on use."""

from __future__ import annotations

from flask import Flask, current_app

from geodata.exports.privacy import load_key
from geodata.settings import Settings

_HOME_KEY = "wangge.export.home"


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions[_HOME_KEY] = settings.home


def pseudonym_key() -> bytes:
    return load_key(current_app.extensions[_HOME_KEY])

"""The pages' language: Chinese (zh_CN) or English, chosen with `?lang=` and kept in the session.

Without a choice, the browser's languages decide (Accept-Language); with none the pages
speak, a town whose villages have Chinese names is shown in Chinese, any other in English.
Messages are in webapp/translations/ (see babel.cfg there for extracting them); the Chinese
catalogue sits under `zh`, which gettext finds for zh_CN (Babel's zh_Hans_CN).
"""

from __future__ import annotations

import re

from flask import Flask, g, request, session
from flask_babel import Babel  # type: ignore[import-untyped]
from sqlalchemy import text

from webapp.infra import database

LANGUAGES: tuple[str, ...] = ("zh_CN", "en")
"""The languages of the pages, the first the default of a Chinese-named town."""
LANGUAGE_NAMES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
SESSION_KEY = "lang"
_HAN = re.compile(r"[\u3400-\u9fff]")
_SAMPLE_NAMES = 50


def N_(message: str) -> str:  # noqa: N802 - the usual name of the marker
    """Mark `message` for translation where it is defined; it is translated where it is shown."""
    return message


def town_language() -> str:
    """zh_CN when the town's villages have Chinese names, else en."""
    names = database.connection().execute(
        text("SELECT name FROM villages ORDER BY id LIMIT :n"), {"n": _SAMPLE_NAMES}
    )
    return "zh_CN" if any(_HAN.search(str(name)) for name in names.scalars()) else "en"


def browser_language() -> str | None:
    """The first of the browser's languages (Accept-Language, by preference) that the pages
    speak: any Chinese tag gives zh_CN, any English one en; None when none of them."""
    for tag, _quality in request.accept_languages:
        primary = tag.lower().split("-")[0].split("_")[0]
        if primary == "zh":
            return "zh_CN"
        if primary == "en":
            return "en"
    return None


def select_locale() -> str:
    """`?lang=` (remembered in a signed-in browser's session), the session's, the browser's
    (Accept-Language), or the town's."""
    cached: str | None = g.get("wangge_locale")
    if cached is not None:
        return cached
    asked = request.args.get("lang")
    chosen: str
    if asked in LANGUAGES:
        chosen = asked
        if "user_id" in session and session.get(SESSION_KEY) != asked:
            session[SESSION_KEY] = asked
    elif session.get(SESSION_KEY) in LANGUAGES:
        chosen = str(session[SESSION_KEY])
    else:
        chosen = browser_language() or town_language()
    g.wangge_locale = chosen
    return chosen


def current_language() -> str:
    """The language of this response, as a BCP 47 tag for `<html lang>`."""
    return select_locale().replace("_", "-")


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(current_language=current_language, languages=LANGUAGE_NAMES)

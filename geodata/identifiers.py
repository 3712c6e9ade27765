"""Source ids and codes: printable text without `<`, `>`, `"`, `'` or control characters.

Ids and codes travel into map tooltips, file names, URLs and other programs' HTML; names may
hold any text and are always shown as text, but an id is kept to characters that are harmless
wherever it goes. Every write of a source id or a code (imports, applied plans) checks it here.
"""

from __future__ import annotations

import re

from geodata.errors import ConfigError

MARKUP = "<>\"'"
"""The characters an id may not hold besides control and other unprintable characters."""

PATTERN = re.compile(r"""[^<>"'\x00-\x1f\x7f-\x9f]+""")
"""The rule as a regular expression (for documents and other programs). `identifier_problem`
also refuses what `str.isprintable` does not accept: line and paragraph separators, format
characters such as zero-width spaces and bidirectional overrides, unassigned code points."""

RULE = "printable characters without < > \" ' or control characters"


def identifier_problem(value: str) -> str | None:
    """Why `value` cannot be a source id or a code, or None when it can.

    The reason names the kind of character, never the value (which may be markup).
    """
    if not value.strip():
        return "is empty"
    if PATTERN.fullmatch(value) is not None and value.isprintable():
        return None
    markup = sorted({c for c in value if c in MARKUP}, key=MARKUP.index)
    if markup:
        return f"holds {' '.join(markup)}: an id or code is {RULE}"
    return f"holds a control or other unprintable character: an id or code is {RULE}"


class IdentifierError(ConfigError):
    """A source id or code that breaks the rule: bad input (HTTP 400, exit code 1)."""

    exit_code = 1


def check_identifier(field: str, value: str) -> str:
    """`value` when it may be a source id or code; else IdentifierError naming `field` and why."""
    problem = identifier_problem(value)
    if problem is not None:
        raise IdentifierError(f"{field} {problem}")
    return value

"""The one rule for source ids and codes: printable text without < > " ' or control characters."""

from __future__ import annotations

import pytest

from geodata.identifiers import PATTERN, IdentifierError, check_identifier, identifier_problem


@pytest.mark.parametrize(
    "value",
    ["osm:way/123", "plan:Added 30.58510,114.30970", "村委会-01", "G&1", "a b", "x" * 128],
)
def test_plain_text_passes(value: str) -> None:
    assert identifier_problem(value) is None
    assert check_identifier("code", value) == value
    assert PATTERN.fullmatch(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("<b>x</b>", "holds < >:"),
        ('"quoted"', 'holds ":'),
        ("it's", "holds ':"),
        ("a\x00b", "holds a control"),
        ("a\r\nb", "holds a control"),
        ("a\tb", "holds a control"),
        ("a\x85b", "holds a control"),  # C1 NEL
        ("a\u2028b", "unprintable"),  # line separator
        ("a\u202eb", "unprintable"),  # right-to-left override
        ("a\u200bb", "unprintable"),  # zero-width space
        ("", "is empty"),
        ("   ", "is empty"),
    ],
)
def test_markup_and_control_characters_are_named(value: str, reason: str) -> None:
    problem = identifier_problem(value)
    assert problem is not None
    assert reason in problem
    with pytest.raises(IdentifierError, match=r"^site 3: id ") as refused:
        check_identifier("site 3: id", value)
    assert refused.value.exit_code == 1

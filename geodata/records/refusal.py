"""The refusal of a write about people, units or the town's settings."""

from __future__ import annotations

from geodata.errors import WanggeError


class RecordRefused(WanggeError):  # noqa: N818 - reads as the outcome the person sees
    """Bad input for a record (a setting, a person, a team, a shift): the message names the
    object, the field and the reason, and nothing was changed. Exit code 1, HTTP 400."""

"""Masking of personal fields: shown masked unless an authorised user reveals one."""

from __future__ import annotations

import enum


class PersonalField(enum.StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    NAME = "name"


def mask_id_number(value: str | None) -> str | None:
    """`320412199001011234` → `3204**********1234`: region prefix and last four kept."""
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """`13912345678` → `139****5678`."""
    if not value:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str | None:
    """`张三丰` → `张**`: the surname only."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)


MASKS = {
    PersonalField.ID_NUMBER: mask_id_number,
    PersonalField.PHONE: mask_phone,
    PersonalField.NAME: mask_name,
}

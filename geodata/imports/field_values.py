"""Attribute values of a file parsed into the types of a layer's fields, every bad value named."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.identifiers import identifier_problem
from geodata.imports.layers import FieldSpec, FieldType

INT_MAX = 2_147_483_647
ECHO_MAX = 40
TRUE = frozenset({"true", "t", "yes", "y", "1"})
FALSE = frozenset({"false", "f", "no", "n", "0"})
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NESTED = object()
"""A nested object or list in place of a plain value."""

Mask = npt.NDArray[np.bool_]


@dataclass
class Parsed:
    """One field: values ready for COPY, and by position the reason each bad value is refused."""

    values: pd.Series
    problems: dict[int, str]


def as_text(values: pd.Series) -> pd.Series:
    """Every value as stripped text, None when missing or blank; nested values marked."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return pd.Series(values.to_numpy().astype(str), index=values.index, dtype=object)
    if isinstance(dtype, pd.StringDtype):
        stripped = values.str.strip()
        keep = (stripped.notna() & stripped.ne("")).to_numpy(dtype=bool)
        return stripped.astype(object).where(keep, None)
    return pd.Series([_text(v) for v in values.tolist()], index=values.index, dtype=object)


def _text(value: Any) -> Any:
    if type(value) is str:
        return value.strip() or None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return None
        if math.isfinite(number) and number.is_integer() and abs(number) < 2**53:
            return str(int(number))
        return repr(number)
    if isinstance(value, dict | list | tuple):
        return NESTED
    text = str(value).strip()
    return text or None


def _echo(spec: FieldSpec, text: str) -> str:
    """The value, quoted and cut short, unless the field is personal."""
    if spec.personal:
        return "the value"
    shown = text if len(text) <= ECHO_MAX else text[: ECHO_MAX - 1] + "…"
    return repr(shown)


def parse_field(spec: FieldSpec, text: pd.Series) -> Parsed:
    """Parse one column of text (see `as_text`) into `spec.type`, checking its rules."""
    problems: dict[int, str] = {}
    raw = text.tolist()
    nested = np.array([v is NESTED for v in raw], dtype=bool)
    for pos in np.flatnonzero(nested).tolist():
        problems[pos] = "a nested object or list, not a plain value"
    present = np.array([v is not None for v in raw], dtype=bool) & ~nested
    values: pd.Series
    clean = pd.Series([v if ok else None for v, ok in zip(raw, present, strict=True)], dtype=object)
    if spec.type is FieldType.TEXT:
        values = clean
        if spec.max_length is not None:
            long = present & (clean.str.len().fillna(0).to_numpy() > spec.max_length)
            _add(problems, long, f"longer than {spec.max_length} characters")
        if spec.identifier:
            for pos in np.flatnonzero(present).tolist():
                problem = identifier_problem(str(clean.iat[pos]))
                if problem is not None:
                    problems.setdefault(pos, f"the {spec.name} {problem}")
                    values = values.copy() if values is clean else values
                    values.iat[pos] = None  # never sent on to a query (NUL breaks them)
        nul = present & clean.str.contains("\x00", regex=False).fillna(False).to_numpy(bool)
        if nul.any():
            _add(problems, nul, "holds a NUL character, which no stored text may")
            values = values.where(~nul, None)
    elif spec.type in (FieldType.INT, FieldType.FLOAT):
        values = _numbers(spec, clean, present, problems)
    elif spec.type is FieldType.BOOL:
        lowered = clean.str.lower()
        truth = lowered.isin(TRUE).to_numpy()
        falsity = lowered.isin(FALSE).to_numpy()
        _bad(problems, spec, clean, present & ~truth & ~falsity, "is not true or false")
        flags: list[bool | None] = [
            True if t else (False if f else None)
            for t, f in zip(truth.tolist(), falsity.tolist(), strict=True)
        ]
        values = pd.Series(flags, dtype=object)
    elif spec.type is FieldType.CHOICE:
        lowered = clean.str.lower()
        known = lowered.isin(spec.choices).to_numpy()
        _bad(problems, spec, clean, present & ~known, f"is not one of {', '.join(spec.choices)}")
        values = lowered.where(known, None)
    elif spec.type is FieldType.DATE:
        values = _dates(spec, clean, present, problems)
    else:
        values = _datetimes(spec, clean, present, problems)
    values = values.where(present, None) if values.dtype == object else values
    return Parsed(values=values, problems=problems)


def parse_integers(spec: FieldSpec, values: pd.Series) -> Parsed | None:
    """A column the reader already holds as integers (no value missing), checked against a
    number field's rules without a round trip through text; None for any other column."""
    dtype = values.dtype
    numeric = spec.type in (FieldType.INT, FieldType.FLOAT)
    if not (numeric and isinstance(dtype, np.dtype) and dtype.kind in "iu"):
        return None
    problems: dict[int, str] = {}
    present = np.ones(len(values), dtype=bool)
    return Parsed(values=_numbers(spec, values, present, problems), problems=problems)


def _add(problems: dict[int, str], mask: Mask, reason: str) -> None:
    for pos in np.flatnonzero(mask).tolist():
        problems.setdefault(pos, reason)


def _bad(problems: dict[int, str], spec: FieldSpec, clean: pd.Series, mask: Mask, why: str) -> None:
    for pos in np.flatnonzero(mask).tolist():
        problems.setdefault(pos, f"{_echo(spec, str(clean.iat[pos]))} {why}")


def _numbers(
    spec: FieldSpec, clean: pd.Series, present: Mask, problems: dict[int, str]
) -> pd.Series:
    number = pd.to_numeric(clean, errors="coerce").astype("float64").to_numpy()
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(number)
        whole = finite & (np.mod(number, 1) == 0)
    if spec.type is FieldType.INT:
        _bad(problems, spec, clean, present & ~whole, "is not a whole number")
        good = present & whole
    else:
        _bad(problems, spec, clean, present & ~finite, "is not a finite number")
        good = present & finite
    low = spec.minimum
    high = (
        spec.maximum
        if spec.maximum is not None
        else (INT_MAX if spec.type is FieldType.INT else None)
    )
    with np.errstate(invalid="ignore"):
        if low is not None:
            _bad(problems, spec, clean, good & (number < low), f"is below {low:g}")
        if spec.above is not None:
            _bad(
                problems,
                spec,
                clean,
                good & (number <= spec.above),
                f"must be above {spec.above:g}",
            )
        if high is not None:
            _bad(problems, spec, clean, good & (number > high), f"is above {high:g}")
    if spec.type is FieldType.INT:
        ints = pd.array(np.where(good, number, 0).astype("int64"), dtype="Int64")
        return pd.Series(ints).where(pd.Series(good), pd.NA)
    return pd.Series(np.where(good, number, np.nan), dtype="float64")


def _dates(spec: FieldSpec, clean: pd.Series, present: Mask, problems: dict[int, str]) -> pd.Series:
    out: list[str | None] = []
    for pos, text in enumerate(clean.tolist()):
        if not present[pos]:
            out.append(None)
            continue
        try:
            if not ISO_DATE.match(text):
                raise ValueError(text)
            out.append(datetime.strptime(text, "%Y-%m-%d").date().isoformat())
        except ValueError:
            problems.setdefault(pos, f"{_echo(spec, text)} is not a date (YYYY-MM-DD)")
            out.append(None)
    return pd.Series(out, dtype=object)


def _datetimes(
    spec: FieldSpec, clean: pd.Series, present: Mask, problems: dict[int, str]
) -> pd.Series:
    out: list[str | None] = []
    for pos, text in enumerate(clean.tolist()):
        if not present[pos]:
            out.append(None)
            continue
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            problems.setdefault(pos, f"{_echo(spec, text)} is not an ISO 8601 date and time")
            out.append(None)
            continue
        if moment.tzinfo is None:
            problems.setdefault(
                pos, f"{_echo(spec, text)} has no UTC offset (e.g. 2026-02-01T09:30:00+08:00)"
            )
            out.append(None)
            continue
        out.append(moment.isoformat())
    return pd.Series(out, dtype=object)

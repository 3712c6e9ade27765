"""Publication of a count table: today's computed and perturbed, a closed day's frozen.

A closed day's table is computed, protected and stored the first time anyone asks for it
(no clock or job is needed); every later request reads the stored table. A record added or
changed afterwards for that day therefore never shows as a difference between two answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date

import orjson
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import Text

from geodata.disclosure.cellkey import CellKeys, load_secret
from geodata.disclosure.rules import is_closed, town_today
from geodata.disclosure.tables import CountTable, Published, protect

_READ = text(
    "SELECT figures, units FROM published_tables "
    "WHERE source = :source AND scope = :scope AND day = :day"
)
_FREEZE = text(
    "INSERT INTO published_tables (source, scope, day, figures, units) "
    "VALUES (:source, :scope, :day, :figures, :units) "
    "ON CONFLICT (source, scope, day) DO NOTHING"
).bindparams(bindparam("figures", type_=ARRAY(Text)), bindparam("units", type_=JSONB))


def scope_key(grid_ids: frozenset[int] | None) -> str:
    """The name of a principal's scope: the town, or a digest of its grids."""
    if grid_ids is None:
        return "town"
    listed = ",".join(str(g) for g in sorted(grid_ids))
    return "grids:" + hashlib.sha256(listed.encode()).hexdigest()[:40]


def source_key(name: str, figures: tuple[str, ...]) -> str:
    """A table's name with a digest of its figures: a table with other figures is another."""
    digest = hashlib.sha256("\x1f".join(figures).encode()).hexdigest()[:12]
    return f"{name}:{digest}"


def publish(
    conn: Connection,
    *,
    name: str,
    figures: tuple[str, ...],
    scope: str,
    day: date | None,
    count: Callable[[], CountTable],
) -> tuple[date, Published]:
    """The published table `name` of `day` (None: today) in `scope`, and the day it is of.

    `count` computes the true counts; it is called only when the table is not frozen yet.
    """
    today = town_today()
    day = today if day is None or day > today else day
    keys = CellKeys(load_secret(conn))
    if not is_closed(day, today=today):
        return day, protect(count(), day, keys)
    params = {"source": source_key(name, figures), "scope": scope, "day": day}
    stored = conn.execute(_READ, params).first()
    if stored is None:
        table = protect(count(), day, keys)
        conn.execute(_FREEZE, {**params, "figures": list(figures), "units": table})
        stored = conn.execute(_READ, params).one()
    units = stored[1] if isinstance(stored[1], dict) else orjson.loads(stored[1])
    return day, {str(k): list(v) for k, v in units.items()}

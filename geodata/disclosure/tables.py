"""A table of counts per unit made publishable: small cells suppressed, complements
suppressed so no suppressed cell can be recovered from a total, the rest perturbed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from geodata.disclosure.cellkey import CellKeys, published
from geodata.disclosure.rules import SUPPRESS_BELOW

Published = dict[str, list[int | None]]
"""Each unit's key and its published figures, in the order of the table's figures."""


@dataclass(frozen=True)
class Unit:
    """One row of a table: a grid, a village or a hexagon, and its true counts."""

    key: str
    """The unit's name as published (a grid or village code, an H3 cell)."""
    counts: tuple[int, ...]
    group: str = ""
    """The unit above it whose total is also published (a grid's village)."""
    grids: tuple[str, ...] = ()
    """The grids it sums, when it is made of grids: a unit is keyed by them, so a village
    whose only grid in scope is that grid publishes the grid's very figures (two draws for
    one true count would narrow it down)."""

    def cell(self, level: str) -> str:
        """What the perturbation of its figures is keyed by."""
        return "grids:" + ",".join(sorted(self.grids)) if self.grids else f"{level}:{self.key}"


@dataclass(frozen=True)
class CountTable:
    """True counts per unit of one level; `primary` is the figure that counts the people
    (or households) the others are about: when it is suppressed, so is the whole row."""

    level: str
    figures: tuple[str, ...]
    units: tuple[Unit, ...]
    primary: int | None = 0


def _primary_suppression(table: CountTable) -> list[list[bool]]:
    hidden = []
    for unit in table.units:
        row = [c < SUPPRESS_BELOW for c in unit.counts]
        if table.primary is not None and row[table.primary]:
            row = [True] * len(row)
        hidden.append(row)
    return hidden


def _groups(table: CountTable) -> list[list[int]]:
    """The sets of units whose sum is known: each group, and all of them (the town)."""
    by_group: dict[str, list[int]] = {}
    for i, unit in enumerate(table.units):
        if unit.group:
            by_group.setdefault(unit.group, []).append(i)
    return [*by_group.values(), list(range(len(table.units)))]


def complementary_suppression(table: CountTable, hidden: list[list[bool]]) -> None:
    """Where one cell of a column is hidden among units whose total is known, hide the
    smallest other cell too, until no total gives a hidden cell back (in place)."""
    groups = _groups(table)
    changed = True
    while changed:
        changed = False
        for f in range(len(table.figures)):
            for members in groups:
                if len(members) < 2:
                    continue
                alone = [i for i in members if hidden[i][f]]
                if len(alone) != 1:
                    continue
                shown = [i for i in members if not hidden[i][f]]
                partner = min(shown, key=lambda i: (table.units[i].counts[f], table.units[i].key))
                hidden[partner][f] = True
                changed = True


def protect(table: CountTable, day: date, keys: CellKeys) -> Published:
    """The table as it may be published on `day`.

    The answer depends on the true counts, the day and the secret alone, so the last
    KEPT_TABLES answers are kept in the process under all three: today's table asked again
    with the same counts (an export per village of one town-wide table) is not perturbed
    again. Each caller gets its own copy."""
    memo_key = (table, day, keys.fingerprint)
    with _kept_lock:
        found = _kept.get(memo_key)
        if found is not None:
            _kept.move_to_end(memo_key)
    if found is None:
        found = _protect(table, day, keys)
        with _kept_lock:
            _kept[memo_key] = found
            while len(_kept) > KEPT_TABLES:
                _kept.popitem(last=False)
    return {key: list(values) for key, values in found.items()}


KEPT_TABLES = 16
"""Protected tables kept per process, the oldest dropped first."""
_kept: OrderedDict[tuple[CountTable, date, bytes], Published] = OrderedDict()
_kept_lock = threading.Lock()


def _protect(table: CountTable, day: date, keys: CellKeys) -> Published:
    hidden = _primary_suppression(table)
    complementary_suppression(table, hidden)
    result: Published = {}
    for unit, row in zip(table.units, hidden, strict=True):
        cell = unit.cell(table.level)
        result[unit.key] = [
            None if hide else published(count, keys.draw(cell, day, figure))
            for count, hide, figure in zip(unit.counts, row, table.figures, strict=True)
        ]
    return result


def select_units(table: Published, keys: Sequence[str]) -> Published:
    """Whole units of a published table, in the order given (never rows inside a unit)."""
    return {k: table[k] for k in keys if k in table}

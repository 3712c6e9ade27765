"""Sources whose units are computed in memory, in a fixed order, each named by a key (the
coverage per grid or village, the counts per hexagon): their GeoJSON features come from
their rows, and one feature is found by its key's position."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from geodata.exports.geojson import feature_text
from geodata.exports.layers import FieldKind
from geodata.exports.privacy import Pseudonyms
from geodata.exports.sql_source import Shape


class UnitSource(ABC):
    @property
    @abstractmethod
    def fields(self) -> tuple[tuple[str, FieldKind], ...]: ...

    @abstractmethod
    def unit_keys(self, conn: Connection) -> list[str]:
        """The key of every unit, in the order of `rows`."""

    def count(self, conn: Connection) -> int:
        return len(self.unit_keys(conn))

    @abstractmethod
    def rows(
        self,
        conn: Connection,
        shape: Shape,
        pseudonyms: Pseudonyms | None,
        *,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Iterator[tuple[Any, ...]]: ...

    def features(
        self,
        conn: Connection,
        pseudonyms: Pseudonyms | None,
        *,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Iterator[str]:
        names = [name for name, _ in self.fields]
        for row in self.rows(conn, Shape.GEOJSON, pseudonyms, limit=limit, offset=offset):
            yield feature_text(row[0], row[1], names, row[2:])

    def feature(self, conn: Connection, pseudonyms: Pseudonyms | None, fid: str) -> str | None:
        keys = self.unit_keys(conn)
        if fid not in keys:
            return None
        return next(self.features(conn, pseudonyms, limit=1, offset=keys.index(fid)), None)

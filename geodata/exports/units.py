"""Sources whose units are computed in memory, in a fixed order, each named by a key (the
coverage per grid or village, the counts per hexagon): their GeoJSON features come from
their rows, and one feature is found by its key's position."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from geodata.exports.crs import LON_LAT, OutputCrs
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
        crs: OutputCrs = LON_LAT,
    ) -> Iterator[tuple[Any, ...]]: ...

    def features(
        self,
        conn: Connection,
        pseudonyms: Pseudonyms | None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        crs: OutputCrs = LON_LAT,
    ) -> Iterator[str]:
        names = [name for name, _ in self.fields]
        page = self.rows(conn, Shape.GEOJSON, pseudonyms, limit=limit, offset=offset, crs=crs)
        for row in page:
            yield feature_text(row[0], row[1], names, row[2:])

    def feature(
        self, conn: Connection, pseudonyms: Pseudonyms | None, fid: str, *, crs: OutputCrs = LON_LAT
    ) -> str | None:
        keys = self.unit_keys(conn)
        if fid not in keys:
            return None
        page = self.features(conn, pseudonyms, limit=1, offset=keys.index(fid), crs=crs)
        return next(page, None)

"""A layer (or an aggregate of one) read with one SQL statement, streamed row by row.

Rows come from a server-side cursor (`stream_results`), so an export of any size keeps a
bounded number of rows in memory. GeoJSON features are composed by PostGIS when no value
needs changing on the way; keyed pseudonyms are applied here, never in the database.
"""

from __future__ import annotations

import enum
import itertools
import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, TextClause, text

from geodata.exports.crs import LON_LAT, OutputCrs
from geodata.exports.filters import Filters
from geodata.exports.geojson import feature_text
from geodata.exports.layers import FieldKind
from geodata.exports.privacy import Pseudonyms

GEOJSON_DECIMALS = 7
"""Seven decimals of a degree are about 1 cm (RFC 7946 §11.2)."""
STREAM_ROWS = 5000
PREFETCH = 2
EXACT_DECIMALS = 15
"""Decimals of a degree finer than a double's step near 180: the value read back is the same."""
_CURSORS = itertools.count()


class Shape(enum.StrEnum):
    """How the geometry of a row is returned."""

    GEOJSON = "geojson"
    WKB = "wkb"
    WKT = "wkt"
    LONLAT = "lonlat"


@dataclass(frozen=True)
class Column:
    """One published property: its name, type and SQL, and whose pseudonym it becomes."""

    name: str
    kind: FieldKind
    sql: str
    pseudonym_of: str | None = None


def geometry_columns(geom: str, shape: Shape, *, crs: OutputCrs = LON_LAT) -> list[str]:
    """SQL for the geometry (WGS84) in `shape`, in `crs`: RFC 7946 winding for GeoJSON and
    WKT (counterclockwise in the CRS's east and north, whatever the order of the axes)."""
    placed = crs.place(geom)
    ccw = crs.order(f"ST_ForcePolygonCCW({placed})")
    digits = int(crs.decimals)
    if shape is Shape.GEOJSON:
        return [f"coalesce(ST_AsGeoJSON({ccw}, {digits}, 0), 'null')"]
    if shape is Shape.WKB:
        return [f"ST_AsBinary({crs.order(placed)})"]
    if shape is Shape.WKT:
        return [f"ST_AsText({ccw}, {digits})"]
    point = crs.order(crs.place(f"ST_PointOnSurface({geom})"))
    return [
        f"round(ST_X({point})::numeric, {digits})::float8",
        f"round(ST_Y({point})::numeric, {digits})::float8",
    ]


def exact_geometry_columns(geom: str, shape: Shape) -> list[str]:
    """SQL for the geometry as given, not rounded (a file to be imported back must give the
    very geometry, or the import finds it changed)."""
    if shape is Shape.GEOJSON:
        return [f"coalesce(ST_AsGeoJSON({geom}, {EXACT_DECIMALS}, 0), 'null')"]
    if shape is Shape.WKB:
        return [f"ST_AsBinary({geom})"]
    if shape is Shape.WKT:
        return [f"ST_AsText({geom}, {EXACT_DECIMALS})"]
    return [f"ST_X({geom})", f"ST_Y({geom})"]


def json_literal(name: str) -> str:
    """A property name as an SQL string literal (names are constants of this package)."""
    assert name.isidentifier(), name
    return f"'{name}'"


class FeatureSource(Protocol):
    """What the writers read: typed properties, and rows or Feature texts as they stream."""

    @property
    def name(self) -> str: ...

    @property
    def geometry_type(self) -> str: ...

    @property
    def published_id_kind(self) -> FieldKind: ...

    @property
    def fields(self) -> tuple[tuple[str, FieldKind], ...]: ...

    def count(self, conn: Connection) -> int: ...

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
    ) -> Iterator[str]: ...

    def feature(
        self, conn: Connection, pseudonyms: Pseudonyms | None, fid: str, *, crs: OutputCrs = LON_LAT
    ) -> str | None:
        """One Feature text by its published id (None: no such feature here)."""
        ...


@dataclass
class SqlSource:
    """Rows of `from_sql` filtered by `where`, ordered by `id_sql`."""

    name: str
    geometry_type: str
    from_sql: str
    id_sql: str
    geom_sql: str
    columns: tuple[Column, ...]
    id_kind: FieldKind = FieldKind.INT
    id_pseudonym_of: str | None = None
    where: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    for_import: bool = False
    """A file to be imported back: the geometry as stored (exact_geometry_columns), and no
    table id in a Feature (the import keys rows by source_id)."""

    # -- what it publishes ---------------------------------------------------
    @property
    def published_id_kind(self) -> FieldKind:
        return FieldKind.TEXT if self.id_pseudonym_of else self.id_kind

    @property
    def fields(self) -> tuple[tuple[str, FieldKind], ...]:
        return tuple((c.name, FieldKind.TEXT if c.pseudonym_of else c.kind) for c in self.columns)

    @property
    def needs_pseudonyms(self) -> bool:
        return self.id_pseudonym_of is not None or any(c.pseudonym_of for c in self.columns)

    # -- SQL -----------------------------------------------------------------
    def _geometry(self, shape: Shape, crs: OutputCrs) -> list[str]:
        if self.for_import:
            return exact_geometry_columns(self.geom_sql, shape)
        return geometry_columns(self.geom_sql, shape, crs=crs)

    def _where_sql(self) -> str:
        return f"WHERE {' AND '.join(self.where)}" if self.where else ""

    def _page_sql(self, limit: int | None, offset: int | None) -> str:
        """ORDER BY and LIMIT/OFFSET for a page; a whole export streams in table order."""
        if limit is None and not offset:
            return ""
        page = f" ORDER BY {self.id_sql}"
        if limit is not None:
            page += f" LIMIT {int(limit)}"
        if offset:
            page += f" OFFSET {int(offset)}"
        return page

    def select(
        self,
        shape: Shape,
        *,
        limit: int | None = None,
        offset: int | None = None,
        crs: OutputCrs = LON_LAT,
    ) -> TextClause:
        cols = [self.id_sql, *self._geometry(shape, crs)]
        cols += [c.sql for c in self.columns]
        return text(
            f"SELECT {', '.join(cols)} FROM {self.from_sql} {self._where_sql()}"  # noqa: S608 (a source defined in code; values are bound, limit and offset are ints)
            f"{self._page_sql(limit, offset)}"
        )

    def select_features(
        self, *, limit: int | None = None, offset: int | None = None, crs: OutputCrs = LON_LAT
    ) -> TextClause:
        """Whole GeoJSON Feature texts composed by PostGIS (no pseudonyms to apply)."""
        (geometry,) = self._geometry(Shape.GEOJSON, crs)
        properties = ", ".join(f"{json_literal(c.name)}, {c.sql}" for c in self.columns)
        fid = self.id_sql if self.id_kind is FieldKind.INT else f"to_json({self.id_sql})::text"
        head = f"""'{{"type":"Feature","id":' || {fid} || ',"geometry":'"""
        if self.for_import:
            head = """'{"type":"Feature","geometry":'"""
        feature = (
            f"""{head} || {geometry} """
            f"""|| ',"properties":' || json_build_object({properties})::text || '}}'"""
        )
        return text(
            f"SELECT {feature} FROM {self.from_sql} {self._where_sql()}"  # noqa: S608 (a source defined in code; values are bound, limit and offset are ints)
            f"{self._page_sql(limit, offset)}"
        )

    def select_count(self) -> TextClause:
        return text(f"SELECT count(*) FROM {self.from_sql} {self._where_sql()}")  # noqa: S608 (a source defined in code; values are bound, limit and offset are ints)

    def select_ids(self) -> TextClause:
        return text(f"SELECT {self.id_sql} FROM {self.from_sql} {self._where_sql()}")  # noqa: S608 (a source defined in code; values are bound, limit and offset are ints)

    def with_id(self, fid: object) -> SqlSource:
        """The same source narrowed to one feature."""
        return SqlSource(
            name=self.name,
            geometry_type=self.geometry_type,
            from_sql=self.from_sql,
            id_sql=self.id_sql,
            geom_sql=self.geom_sql,
            columns=self.columns,
            id_kind=self.id_kind,
            id_pseudonym_of=self.id_pseudonym_of,
            where=[*self.where, f"{self.id_sql} = :_fid"],
            params={**self.params, "_fid": fid},
            for_import=self.for_import,
        )

    # -- reading -------------------------------------------------------------
    def count(self, conn: Connection) -> int:
        return int(conn.execute(self.select_count(), self.params).scalar_one())

    def rows(
        self,
        conn: Connection,
        shape: Shape,
        pseudonyms: Pseudonyms | None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        crs: OutputCrs = LON_LAT,
    ) -> Iterator[tuple[Any, ...]]:
        """(id, geometry..., properties...) tuples, pseudonyms applied, as they stream."""
        statement = self.select(shape, limit=limit, offset=offset, crs=crs)
        result = stream(conn, statement, self.params)
        n_geom = 2 if shape is Shape.LONLAT else 1
        swaps = [
            (1 + n_geom + i, c.pseudonym_of) for i, c in enumerate(self.columns) if c.pseudonym_of
        ]
        if not self.needs_pseudonyms:
            for part in result:
                yield from (tuple(row) for row in part)
            return
        ps = _required(pseudonyms)
        for part in result:
            for row in part:
                values = list(row)
                if self.id_pseudonym_of:
                    values[0] = ps(self.id_pseudonym_of, values[0])
                for index, kind in swaps:
                    values[index] = ps(kind, values[index])
                yield tuple(values)

    def features(
        self,
        conn: Connection,
        pseudonyms: Pseudonyms | None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        crs: OutputCrs = LON_LAT,
    ) -> Generator[str, None, None]:
        """GeoJSON Feature texts, as they stream."""
        if not self.needs_pseudonyms:
            statement = self.select_features(limit=limit, offset=offset, crs=crs)
            for part in stream(conn, statement, self.params):
                yield from (row[0] for row in part)
            return
        names = [c.name for c in self.columns]
        page = self.rows(conn, Shape.GEOJSON, pseudonyms, limit=limit, offset=offset, crs=crs)
        for values in page:
            yield feature_text(values[0], values[1], names, values[2:], default=_json_default)

    def feature(
        self, conn: Connection, pseudonyms: Pseudonyms | None, fid: str, *, crs: OutputCrs = LON_LAT
    ) -> str | None:
        real: object | None
        if self.id_pseudonym_of is not None:
            real = self.find_pseudonym(conn, _required(pseudonyms), fid)
        elif self.id_kind is FieldKind.INT:
            real = int(fid) if fid.isdigit() and len(fid) < 19 else None
        else:
            real = fid
        if real is None:
            return None
        features = self.with_id(real).features(conn, pseudonyms, crs=crs)
        try:
            return next(features, None)
        finally:
            features.close()  # ends the cursor's thread now, not when collected

    def find_pseudonym(self, conn: Connection, pseudonyms: Pseudonyms, fid: str) -> object | None:
        """The real id behind a pseudonymous feature id, by keyed search (None: no such)."""
        if self.id_pseudonym_of is None:
            return None
        result = stream(conn, self.select_ids(), self.params)
        try:
            for part in result:
                for (real,) in part:
                    if pseudonyms(self.id_pseudonym_of, real) == fid:
                        found: object = real
                        return found
        finally:
            result.close()
        return None


def stream(
    conn: Connection, statement: TextClause, params: dict[str, Any]
) -> Generator[list[tuple[Any, ...]], None, None]:
    """Rows of `statement` in lists of STREAM_ROWS from a server-side cursor of this
    transaction (DECLARE ... CURSOR, then FETCH): memory holds at most PREFETCH lists.

    A thread fetches the next list while the caller writes the last one, so that PostGIS
    composes features while Python writes them; the connection is left to that thread
    until the rows are read or the caller stops reading.
    """
    compiled = statement.compile(dialect=conn.dialect)
    raw = conn.connection.driver_connection
    assert raw is not None
    name = f"wangge_stream_{next(_CURSORS)}"
    chunks: queue.Queue[list[tuple[Any, ...]] | BaseException | None] = queue.Queue(PREFETCH)
    stop = threading.Event()

    def put(item: list[tuple[Any, ...]] | BaseException | None) -> None:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def fetch() -> None:
        try:
            with raw.cursor(name=name) as cursor:
                cursor.itersize = STREAM_ROWS
                cursor.execute(str(compiled), compiled.construct_params(params))
                while not stop.is_set() and (rows := cursor.fetchmany(STREAM_ROWS)):
                    put(rows)
        except BaseException as exc:  # handed to the reader, raised there
            put(exc)
        else:
            put(None)

    worker = threading.Thread(target=fetch, name=name, daemon=True)
    worker.start()
    try:
        while (item := chunks.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _required(pseudonyms: Pseudonyms | None) -> Pseudonyms:
    if pseudonyms is None:
        raise ValueError("a pseudonymous source needs the pseudonym key")
    return pseudonyms


def _json_default(value: object) -> object:
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(type(value).__name__)


def end_of_day_params(filters: Filters) -> dict[str, Any]:
    """`as_of` as an exclusive timestamp bound and an inclusive date bound."""
    if filters.as_of is None:
        return {}
    return {"as_of_date": filters.as_of, "as_of_end": filters.as_of + timedelta(days=1)}

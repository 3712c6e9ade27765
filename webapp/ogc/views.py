"""The endpoints: landing page, conformance, OpenAPI, collections, items and one item.

Every answer is JSON (GeoJSON for features) or HTML, by `f=` or the Accept header. Which
collections exist, and how their personal rows look, depends on the caller's role; rows of
personal layers stay within the caller's grids (row-level security and an explicit filter).
Every read of a collection drawn from personal data is audited: who, which, how many rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import orjson
from flask import Blueprint, Response, abort, render_template, request, url_for
from sqlalchemy import Connection, text
from werkzeug.exceptions import HTTPException

from geodata.auth import audit
from geodata.auth.access import Action, Principal
from geodata.auth.rls import apply_scope
from geodata.exports.catalog import Collection, collections_for
from geodata.exports.filters import Filters
from geodata.exports.privacy import Pseudonyms, RowView
from geodata.maps.layers import town_extent
from webapp.infra import database
from webapp.infra.policy import principal, requires
from webapp.infra.pseudonym_key import pseudonym_key
from webapp.infra.responses import GEOJSON_MEDIA_TYPE
from webapp.ogc import crs, query
from webapp.ogc.documents import CONFORMANCE, CRS84, OPENAPI_MEDIA_TYPE, openapi

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
JSON = "application/json"
HTML = "text/html"


# -- answers -------------------------------------------------------------------
def _wants_html() -> bool:
    f = request.args.get("f")
    if f is not None:
        if f not in ("json", "geojson", "html"):
            abort(400, description="f: json or html")
        return f == "html"
    best = request.accept_mimetypes.best_match([JSON, GEOJSON_MEDIA_TYPE, HTML])
    return best == HTML


def _url(endpoint: str, media: str | None = None, **values: Any) -> str:
    if media == HTML:
        values["f"] = "html"
    elif media is not None and media != OPENAPI_MEDIA_TYPE:
        values["f"] = "json"
    return url_for(endpoint, _external=True, **values)


def _link(href: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": title}


def _self_links(endpoint: str, json_type: str = JSON, **values: Any) -> list[dict[str, str]]:
    html = _wants_html()
    return [
        _link(_url(endpoint, HTML if html else json_type, **values), "self",
              HTML if html else json_type, "this document"),
        _link(_url(endpoint, json_type if html else HTML, **values), "alternate",
              json_type if html else HTML, "this document as " + ("JSON" if html else "HTML")),
    ]  # fmt: skip


def _answer(doc: dict[str, Any], title: str, media: str = JSON) -> Response:
    if _wants_html():
        page = render_template(
            "ogc.html",
            title=title,
            description=doc.get("description"),
            links=doc.get("links", []),
            body=orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode(),
        )
        return Response(page, mimetype=HTML)
    return Response(orjson.dumps(doc), mimetype=media)


@bp.errorhandler(HTTPException)
def _error(exc: HTTPException) -> Response:
    """OGC exceptions: a code and a description, as JSON."""
    status = exc.code or 500
    body = {"code": exc.name, "description": exc.description if status < 500 else exc.name}
    response = Response(orjson.dumps(body), status=status, mimetype=JSON)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


# -- collections ---------------------------------------------------------------
def _collection(cid: str) -> Collection:
    found = collections_for(principal()).get(cid)
    if found is None:
        abort(404, description="no such collection (see /ogc/collections)")
    return found


def _instant(value: date | datetime | None, *, end: bool) -> str | None:
    """An RFC 3339 time in UTC; a date stands for its first (or, as an end, last) second."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.max if end else time.min, tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _times(collections: list[Collection]) -> dict[str, list[str | None]]:
    """The temporal extent of each collection with a time, as far as the caller may read."""
    who = principal()
    found: dict[str, list[str | None]] = {}
    timed = [c for c in collections if c.time_kind is not None]
    if not timed:
        return found
    with database.engine().begin() as conn:
        _scoped(conn, who)
        for c in timed:
            span = c.time_range(conn, who)
            if span is not None:
                found[c.id] = [_instant(span[0], end=False), _instant(span[1], end=True)]
    return found


def _describe(
    c: Collection,
    extent: list[float] | None,
    times: dict[str, list[str | None]],
    crs_uris: list[str],
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": crs_uris,
        "storageCrs": CRS84,
        "links": [
            _link(_url("ogc.collection", JSON, cid=c.id), "self", JSON, c.title),
            _link(_url("ogc.collection", HTML, cid=c.id), "alternate", HTML, c.title),
            _link(_url("ogc.items", GEOJSON_MEDIA_TYPE, cid=c.id), "items",
                  GEOJSON_MEDIA_TYPE, f"{c.title} as GeoJSON"),
            _link(_url("ogc.items", HTML, cid=c.id), "items", HTML, f"{c.title} as HTML"),
        ],
    }  # fmt: skip
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    if c.id in times:
        doc.setdefault("extent", {})["temporal"] = {
            "interval": [times[c.id]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return doc


def _extent(conn: Connection) -> list[float] | None:
    box = town_extent(conn)
    return None if box is None else [box.min_lon, box.min_lat, box.max_lon, box.max_lat]


@bp.get("")
@bp.get("/")
@requires(Action.VIEW_MAP)
def landing() -> Response:
    query.only("f")
    doc = {
        "title": "wangge: the town's layers",
        "description": "Villages, grids, buildings, entrances, checkpoints and more, "
        "and what your role may read of households, residents, visits and coverage.",
        "links": [
            *_self_links("ogc.landing"),
            _link(_url("ogc.api"), "service-desc", OPENAPI_MEDIA_TYPE, "the API definition"),
            _link(_url("ogc.api", HTML), "service-doc", HTML, "the API definition as HTML"),
            _link(_url("ogc.conformance", JSON), "conformance", JSON, "conformance classes"),
            _link(_url("ogc.collections", JSON), "data", JSON, "the collections"),
        ],
    }
    return _answer(doc, "wangge OGC API - Features")


@bp.get("/conformance")
@requires(Action.VIEW_MAP)
def conformance() -> Response:
    query.only("f")
    return _answer(
        {"conformsTo": CONFORMANCE, "links": _self_links("ogc.conformance")}, "Conformance"
    )


@bp.get("/api")
@requires(Action.VIEW_MAP)
def api() -> Response:
    query.only("f")
    doc = openapi(
        _url("ogc.landing").rstrip("/"),
        list(collections_for(principal())),
        crs.uris(database.connection()),
    )
    return _answer(doc, "API definition", OPENAPI_MEDIA_TYPE)


@bp.get("/collections")
@requires(Action.VIEW_MAP)
def collections() -> Response:
    query.only("f")
    extent = _extent(database.connection())
    found = list(collections_for(principal()).values())
    times = _times(found)
    crs_uris = crs.uris(database.connection())
    doc = {
        "links": _self_links("ogc.collections"),
        "crs": crs_uris,
        "collections": [_describe(c, extent, times, crs_uris) for c in found],
    }
    return _answer(doc, "Collections")


@bp.get("/collections/<cid>")
@requires(Action.VIEW_MAP)
def collection(cid: str) -> Response:
    query.only("f")
    c = _collection(cid)
    conn = database.connection()
    return _answer(_describe(c, _extent(conn), _times([c]), crs.uris(conn)), c.title)


# -- features ------------------------------------------------------------------
def _filters(c: Collection, who: Principal, *, with_query: bool) -> Filters:
    if not with_query:
        return Filters(grid_ids=who.grid_ids)
    times = query.time_range()
    if times is not None and c.time_kind is None:
        abort(400, description=f"collection {c.id!r} has no time: no datetime parameter")
    box = crs.bbox(crs.named("bbox-crs"))
    if c.layer is None:  # coverage: one day
        day = (times[1] or times[0]) if times else None
        return Filters(bbox=box, grid_ids=who.grid_ids, as_of=day.date() if day else None)
    start, end = times if times else (None, None)
    return Filters(bbox=box, start=start, end=end, grid_ids=who.grid_ids)


def _scoped(conn: Connection, who: Principal) -> None:
    apply_scope(conn, who)
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))


def _pseudonyms(c: Collection) -> Pseudonyms | None:
    return Pseudonyms(pseudonym_key()) if c.view is RowView.PSEUDONYMOUS else None


def _audit(conn: Connection, who: Principal, c: Collection, rows: int) -> None:
    if not c.personal:
        return
    detail: dict[str, object] = {"via": "ogc"}
    if c.view is not None:
        detail["privacy"] = c.view.value
    if c.level is not None:
        detail["privacy"] = "aggregate"
        detail["level"] = c.level.value
    audit.record(
        conn, actor=who.name, action="read", object_type=c.id, row_count=rows, detail=detail
    )


@bp.get("/collections/<cid>/items")
@requires(Action.VIEW_MAP)
def items(cid: str) -> Response:
    query.only("f", "bbox", "bbox-crs", "limit", "offset", "datetime", "crs")
    c = _collection(cid)
    who = principal()
    paging = query.page()
    filters = _filters(c, who, with_query=True)
    output = crs.named("crs")
    with database.engine().begin() as conn:
        _scoped(conn, who)
        source = c.source(filters, who)
        matched = source.count(conn)
        features = list(
            source.features(
                conn, _pseudonyms(c), limit=paging.limit, offset=paging.offset, crs=output.output
            )
        )
        _audit(conn, who, c, len(features))
    links = _page_links(cid, paging, len(features), matched)
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if _wants_html():
        doc = {
            "type": "FeatureCollection",
            "features": [orjson.loads(f) for f in features],
            "numberMatched": matched,
            "numberReturned": len(features),
            "links": links,
        }
        return _with_crs(_answer(doc, f"{c.title}: features"), output)
    tail = orjson.dumps(
        {"numberMatched": matched, "numberReturned": len(features), "timeStamp": stamp,
         "links": links}
    ).decode()  # fmt: skip
    body = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]," + tail[1:]
    return _with_crs(Response(body, mimetype=GEOJSON_MEDIA_TYPE), output)


def _with_crs(response: Response, output: crs.Crs) -> Response:
    response.headers["Content-Crs"] = output.header
    return response


def _page_links(cid: str, paging: query.Page, returned: int, matched: int) -> list[dict[str, str]]:
    keep = {k: v for k, v in request.args.items() if k not in ("offset", "limit", "f")}
    links = _self_links(
        "ogc.items", GEOJSON_MEDIA_TYPE, cid=cid, **keep, offset=paging.offset, limit=paging.limit
    )
    if paging.offset + returned < matched:
        links.append(
            _link(
                _url("ogc.items", GEOJSON_MEDIA_TYPE, cid=cid, **keep,
                     offset=paging.offset + paging.limit, limit=paging.limit),
                "next", GEOJSON_MEDIA_TYPE, "the next page",
            )
        )  # fmt: skip
    if paging.offset > 0:
        links.append(
            _link(
                _url("ogc.items", GEOJSON_MEDIA_TYPE, cid=cid, **keep,
                     offset=max(paging.offset - paging.limit, 0), limit=paging.limit),
                "prev", GEOJSON_MEDIA_TYPE, "the previous page",
            )
        )  # fmt: skip
    links.append(_link(_url("ogc.collection", JSON, cid=cid), "collection", JSON, "collection"))
    return links


@bp.get("/collections/<cid>/items/<fid>")
@requires(Action.VIEW_MAP)
def item(cid: str, fid: str) -> Response:
    query.only("f", "crs")
    c = _collection(cid)
    who = principal()
    output = crs.named("crs")
    with database.engine().begin() as conn:
        _scoped(conn, who)
        source = c.source(_filters(c, who, with_query=False), who)
        found = source.feature(conn, _pseudonyms(c), fid, crs=output.output)
        _audit(conn, who, c, 0 if found is None else 1)
    if found is None:
        abort(404, description="no such feature here")
    links = [
        *_self_links("ogc.item", GEOJSON_MEDIA_TYPE, cid=cid, fid=fid,
                     **{k: v for k, v in request.args.items() if k == "crs"}),
        _link(_url("ogc.collection", JSON, cid=cid), "collection", JSON, "collection"),
    ]  # fmt: skip
    if _wants_html():
        doc = orjson.loads(found)
        doc["links"] = links
        return _with_crs(_answer(doc, f"{c.title}: {fid}"), output)
    body = found[:-1] + ',"links":' + orjson.dumps(links).decode() + "}"
    return _with_crs(Response(body, mimetype=GEOJSON_MEDIA_TYPE), output)

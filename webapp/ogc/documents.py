"""The fixed documents of the API: conformance classes and the OpenAPI 3.0 description."""

from __future__ import annotations

from typing import Any

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


def _param(name: str, schema: dict[str, Any], description: str, *, path: bool = False) -> Any:
    return {
        "name": name,
        "in": "path" if path else "query",
        "required": path,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
    }


def _json(description: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "object"}}}}


def openapi(base: str, collection_ids: list[str], crs_uris: list[str]) -> dict[str, Any]:
    """An OpenAPI 3.0 description of this API as the caller may use it, in the CRSs of
    `crs_uris` (the first the default)."""
    f = _param("f", {"type": "string", "enum": ["json", "html"]}, "the answer's format")
    collection = _param(
        "collectionId", {"type": "string", "enum": collection_ids}, "a collection", path=True
    )
    feature = _param("featureId", {"type": "string"}, "a feature", path=True)
    bbox = _param(
        "bbox",
        {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
        "minLon,minLat,maxLon,maxLat in WGS84, or the box in bbox-crs",
    )
    limit = _param(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "features per page",
    )
    offset = _param("offset", {"type": "integer", "minimum": 0, "default": 0}, "features skipped")
    datetime = _param(
        "datetime", {"type": "string"}, "an instant or an interval (RFC 3339, `..` open)"
    )
    crs = _param(
        "crs",
        {"type": "string", "format": "uri", "enum": crs_uris, "default": crs_uris[0]},
        "the CRS of the geometries (EPSG:4326: latitude first)",
    )
    bbox_crs = _param(
        "bbox-crs",
        {"type": "string", "format": "uri", "enum": crs_uris, "default": crs_uris[0]},
        "the CRS of bbox (EPSG:4326: minLat,minLon,maxLat,maxLon)",
    )
    content_crs = {
        "Content-Crs": {
            "description": "the CRS of the geometries, a URI in angle brackets",
            "schema": {"type": "string"},
        }
    }
    geojson = "application/geo+json"
    return {
        "openapi": "3.0.3",
        "info": {"title": "wangge OGC API - Features", "version": "1.0.0"},
        "servers": [{"url": base}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/": {"get": {"operationId": "getLandingPage", "parameters": [f],
                          "responses": {"200": _json("the landing page")}}},
            "/conformance": {"get": {"operationId": "getConformance", "parameters": [f],
                                     "responses": {"200": _json("conformance classes")}}},
            "/collections": {"get": {"operationId": "getCollections", "parameters": [f],
                                     "responses": {"200": _json("the collections")}}},
            "/collections/{collectionId}": {
                "get": {"operationId": "describeCollection", "parameters": [collection, f],
                        "responses": {"200": _json("one collection"), "404": _json("none")}}
            },
            "/collections/{collectionId}/items": {
                "get": {
                    "operationId": "getFeatures",
                    "parameters": [collection, bbox, bbox_crs, limit, offset, datetime, crs, f],
                    "responses": {"200": {**_json("features", geojson), "headers": content_crs},
                                  "400": _json("bad query")},
                }
            },
            "/collections/{collectionId}/items/{featureId}": {
                "get": {"operationId": "getFeature", "parameters": [collection, feature, crs, f],
                        "responses": {"200": {**_json("a feature", geojson),
                                              "headers": content_crs},
                                      "400": _json("bad query"), "404": _json("none")}}
            },
        },
    }  # fmt: skip

"""Where the real data sets lie: ../shared/data beside the checkout (or WANGGE_SHARED_DATA)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA = Path(
    os.environ.get("WANGGE_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
OSM_GPKG = SHARED_DATA / "osm" / "liechtenstein-2013-08-03.gpkg"
OSM_PBF = SHARED_DATA / "osm" / "liechtenstein-2013-08-03.osm.pbf"
SUZHOU_BUILDINGS = SHARED_DATA / "china" / "suzhou_buildings_floors.geojson"
ZHAOQING_COMPOUNDS = SHARED_DATA / "china" / "zhaoqing_compounds_gated.geojson"

"""A small town for patrol planning tests: one square village cut by a street grid into
N x N blocks, a building with households in each block, quick to zone and route."""

from __future__ import annotations

from sqlalchemy import Connection, text

LON0, LAT0 = 114.30, 30.50
STEP = 0.0015
"""Degrees between streets (about 150 m)."""
N = 6
"""Blocks along each side (N * N blocks)."""


def make_grid_town(conn: Connection) -> int:
    """Insert the village, its grid, the streets and one building per block; returns the
    number of blocks."""
    size = N * STEP
    conn.execute(
        text(
            "INSERT INTO villages (source_id, code, name, kind, geom) VALUES"
            " ('patrol-town:v1', 'PT1', 'Grid village', 'village',"
            " ST_Multi(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)))"
        ),
        {"x0": LON0, "y0": LAT0, "x1": LON0 + size, "y1": LAT0 + size},
    )
    conn.execute(
        text(
            "INSERT INTO grids (source_id, village_id, code, name, geom)"
            " SELECT 'patrol-town:g1', id, 'PT1-G1', 'Grid one', geom FROM villages"
            " WHERE code = 'PT1'"
        )
    )
    # streets run past the village's edge by half a block, as real roads leave a village
    lines = []
    for i in range(N + 1):
        x = LON0 + i * STEP
        y = LAT0 + i * STEP
        lines.append((f"ns{i}", x, LAT0 - STEP / 2, x, LAT0 + size + STEP / 2))
        lines.append((f"ew{i}", LON0 - STEP / 2, y, LON0 + size + STEP / 2, y))
    for name, x0, y0, x1, y1 in lines:
        conn.execute(
            text(
                "INSERT INTO roads (source_id, highway, name, geom) VALUES"
                " (:s, 'residential', :n, ST_MakeLine(ST_Point(:x0, :y0, 4326),"
                " ST_Point(:x1, :y1, 4326)))"
            ),
            {"s": f"patrol-town:{name}", "n": name, "x0": x0, "y0": y0, "x1": x1, "y1": y1},
        )
    for i in range(N):
        for j in range(N):
            cx, cy = LON0 + (i + 0.5) * STEP, LAT0 + (j + 0.5) * STEP
            d = STEP / 8
            bid = conn.execute(
                text(
                    "INSERT INTO buildings (source_id, geom, grid_id)"
                    " SELECT :s, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326), g.id"
                    " FROM grids AS g WHERE g.code = 'PT1-G1' RETURNING id"
                ),
                {"s": f"patrol-town:b{i}-{j}", "x0": cx - d, "y0": cy - d, "x1": cx + d,
                 "y1": cy + d},
            ).scalar_one()  # fmt: skip
            for h in range(1 + (i * N + j) % 4):
                conn.execute(
                    text(
                        "INSERT INTO households (source_id, building_id, grid_id, members,"
                        " status) SELECT :s, :b, g.id, 2, 'normal' FROM grids AS g"
                        " WHERE g.code = 'PT1-G1'"
                    ),
                    {"s": f"patrol-town:h{i}-{j}-{h}", "b": bid},
                )
    return N * N

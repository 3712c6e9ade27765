"""Villages, grids, compounds, buildings, roads and entrances of a synthetic town as rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from numpy.typing import NDArray

from geodata.samples.columnar import Table, local_ids, nullable
from geodata.samples.sorted_groups import first_per_group
from geodata.samples.synthetic.layout import Floats, Ints, Layout
from geodata.vocab import Closure, CompoundKind, EntranceState, VillageKind

StrArray = NDArray[np.str_]
Geoms = NDArray[np.object_]

NAME_CHARS = np.array(
    list(
        "东西南北上下前后新大小长高青白石金龙凤桃李杏柳竹松梅兰和平安宁福寿永兴隆昌盛泰康乐丰茂华光明阳山水河湖塘岭岗沙田洲湾"
    )
)
COMPOUND_WORDS = np.array(
    [
        "幸福", "阳光", "和平", "锦绣", "翠苑", "金色", "万家", "富康",
        "华庭", "丽景", "星河", "海天", "怡景", "康乐", "丰泽", "紫荆",
        "兰亭", "玉兰", "碧水", "绿茵", "春晖", "朝阳", "嘉和", "恒安",
    ]
)  # fmt: skip
COMPOUND_SUFFIXES = np.array(["花园", "小区", "新村", "公寓", "家园", "雅苑", "名居"])
SIDE_NAMES = np.array(list("南东北西"))
"""Side 0 is south, then counter-clockwise: east, north, west."""

VILLAGE_KINDS = np.array([k.value for k in (VillageKind.VILLAGE, VillageKind.COMMUNITY,
                                            VillageKind.URBAN_VILLAGE)])  # fmt: skip
VILLAGE_KINDS_P = np.array([0.7, 0.2, 0.1])
BUILDING_YARD_SHARE = 0.15


@dataclass(frozen=True)
class Places:
    tables: list[Table]
    village_names: StrArray
    grid_names: StrArray
    building_floors: Ints
    entrance_since: NDArray[np.datetime64]
    entrance_states: StrArray


def geometries(values: object) -> Geoms:
    """The array a vectorised shapely constructor returned (its stubs also allow one geometry)."""
    assert isinstance(values, np.ndarray)
    return values


def polygons(bounds: Floats) -> Geoms:
    """One rectangle per row of bounds (xmin, ymin, xmax, ymax)."""
    return geometries(shapely.box(bounds[:, 0], bounds[:, 1], bounds[:, 2], bounds[:, 3]))


def multipolygons(bounds: Floats) -> Geoms:
    """One single-part MultiPolygon per row of bounds."""
    return geometries(shapely.multipolygons(polygons(bounds), indices=np.arange(len(bounds))))


def _numbered(prefix: StrArray | str, numbers: Ints, suffix: str) -> StrArray:
    """prefix + number + suffix, row by row."""
    return np.strings.add(np.strings.add(prefix, numbers.astype(np.str_)), suffix)


def village_names(rng: np.random.Generator, kinds: StrArray) -> StrArray:
    n = len(kinds)
    stem = np.strings.add(
        NAME_CHARS[rng.integers(0, len(NAME_CHARS), n)],
        NAME_CHARS[rng.integers(0, len(NAME_CHARS), n)],
    )
    suffix = np.where(kinds == VillageKind.COMMUNITY.value, "社区", "村")
    return np.strings.add(stem, suffix)


def _villages(rng: np.random.Generator, layout: Layout, code_prefix: str) -> tuple[Table, StrArray]:
    n = len(layout.village_bounds)
    kinds = VILLAGE_KINDS[rng.choice(len(VILLAGE_KINDS), n, p=VILLAGE_KINDS_P)]
    names = village_names(rng, kinds)
    ids = local_ids(n)
    codes = np.strings.add(code_prefix, np.strings.zfill(ids.astype(np.str_), 4))
    table = Table(
        "villages",
        {
            "id": ids,
            "code": codes,
            "name": names,
            "kind": kinds,
            "geom": multipolygons(layout.village_bounds),
        },
        source_kind="village",
    )
    return table, names


def _grids(layout: Layout, village: Table, village_names: StrArray) -> tuple[Table, StrArray]:
    gv = layout.grid_village
    n = len(gv)
    first = np.searchsorted(gv, np.arange(len(village)))
    number = np.arange(n) - first[gv] + 1
    codes = np.strings.add(
        np.strings.add(village.columns["code"][gv], "-"),
        np.strings.zfill(number.astype(np.str_), 2),
    )
    names = _numbered(np.strings.add(village_names[gv], "第"), number, "网格")
    table = Table(
        "grids",
        {
            "id": local_ids(n),
            "village_id": gv + 1,
            "code": codes,
            "name": names,
            "geom": multipolygons(layout.grid_bounds),
        },
        refs={"village_id": "villages"},
        source_kind="grid",
    )
    return table, names


def _compounds(rng: np.random.Generator, layout: Layout) -> tuple[Table, StrArray]:
    n = len(layout.compound_grid)
    entrances = np.bincount(layout.compound_entrance_compound, minlength=n)
    yard = rng.random(n) < BUILDING_YARD_SHARE
    kind = np.where(yard, CompoundKind.BUILDING_YARD.value, CompoundKind.RESIDENTIAL.value)
    # A compound with one gate may be left open; with more, all but one are sealed.
    open_closure = (entrances == 1) & (rng.random(n) < 0.5)
    closure = np.where(open_closure, Closure.OPEN.value, Closure.SEALED_MANAGED.value)
    word = COMPOUND_WORDS[rng.integers(0, len(COMPOUND_WORDS), n)]
    suffix = COMPOUND_SUFFIXES[rng.integers(0, len(COMPOUND_SUFFIXES), n)]
    names = np.where(
        yard,
        np.strings.add(word, "大院"),
        np.strings.add(word, suffix),
    )
    table = Table(
        "compounds",
        {
            "id": local_ids(n),
            "name": names,
            "kind": kind,
            "closure": closure,
            "village_id": layout.grid_village[layout.compound_grid] + 1,
            "geom": polygons(layout.compound_bounds),
        },
        refs={"village_id": "villages"},
        source_kind="compound",
    )
    return table, names


def _buildings(rng: np.random.Generator, layout: Layout) -> tuple[Table, Ints]:
    n = len(layout.building_grid)
    floors = np.maximum(1, rng.binomial(6, 0.45, n) + (layout.building_households > 3))
    table = Table(
        "buildings",
        {
            "id": local_ids(n),
            "name": _numbered("", layout.building_index + 1, "栋"),
            "floors": floors,
            "use": np.full(n, "residential"),
            "compound_id": layout.building_compound + 1,
            "grid_id": layout.building_grid + 1,
            "geom": polygons(layout.building_bounds),
        },
        refs={"compound_id": "compounds", "grid_id": "grids"},
        source_kind="building",
    )
    return table, floors


def _segments(x0: Floats, y0: Floats, x1: Floats, y1: Floats) -> Floats:
    """(n, 2, 2) coordinates of n two-point lines."""
    return np.stack([np.stack([x0, y0], axis=1), np.stack([x1, y1], axis=1)], axis=1)


def _roads(layout: Layout, village_names: StrArray) -> Table:
    """Roads along village edges (each edge once) and along the edges between grids."""
    vb = layout.village_bounds
    cols, _ = layout.village_layout
    v = np.arange(len(vb))
    col, row = layout.village_col_row.T
    top = v + cols >= len(vb)  # no village above
    right = (col == cols - 1) | (v + 1 >= len(vb))  # no village to the right
    gb, gv = layout.grid_bounds, layout.grid_village
    grow, gcol = layout.grid_row_col.T
    across = (grow > 0) & (gcol == 0)  # one road across the village below each row of grids
    between = gcol > 0  # one road along the west side of each grid but the first of a row
    x0, y0, x1, y1 = vb.T
    parts = [
        (_segments(x0, y0, x1, y0), "secondary", _numbered("纬", row + 1, "路")),
        (_segments(x0, y0, x0, y1), "secondary", _numbered("经", col + 1, "路")),
        (_segments(x0[top], y1[top], x1[top], y1[top]), "secondary",
         _numbered("纬", row[top] + 2, "路")),
        (_segments(x1[right], y0[right], x1[right], y1[right]), "secondary",
         _numbered("经", col[right] + 2, "路")),
        (_segments(x0[gv[across]], gb[across, 1], x1[gv[across]], gb[across, 1]), "residential",
         _numbered(village_names[gv[across]], grow[across], "横巷")),
        (_segments(gb[between, 0], gb[between, 1], gb[between, 0], gb[between, 3]), "residential",
         _numbered(village_names[gv[between]], gcol[between], "纵巷")),
    ]  # fmt: skip
    coords = np.concatenate([p[0] for p in parts])
    return Table(
        "roads",
        {
            "id": local_ids(len(coords)),
            "highway": np.concatenate([np.full(len(p[0]), p[1]) for p in parts]),
            "name": np.concatenate([p[2] for p in parts]),
            "geom": geometries(shapely.linestrings(coords)),
        },
        source_kind="road",
    )


def _entrances(
    rng: np.random.Generator,
    layout: Layout,
    village_names: StrArray,
    compound_names: StrArray,
    reference: date,
) -> tuple[Table, NDArray[np.datetime64], StrArray]:
    """Village gates first (checkpoint k of a village at its gate k), then compound gates."""
    gate_v = layout.village_entrance_village
    checkpoints = np.bincount(layout.checkpoint_village, minlength=len(village_names))
    staffed = layout.village_entrance_index < checkpoints[gate_v]
    # A village with no checkpoint keeps its first gate open; every other gate is sealed.
    gate_open = (checkpoints[gate_v] == 0) & (layout.village_entrance_index == 0)
    gate_state = np.where(
        staffed,
        EntranceState.CHECKPOINT.value,
        np.where(gate_open, EntranceState.OPEN.value, EntranceState.SEALED.value),
    )
    gate_name = _numbered(
        np.strings.add(village_names[gate_v], SIDE_NAMES[layout.village_entrance_side]),
        layout.village_entrance_index + 1,
        "号路口",
    )
    ce = layout.compound_entrance_compound
    first = first_per_group(ce)
    compound_state = np.where(first, EntranceState.OPEN.value, EntranceState.SEALED.value)
    compound_name = np.strings.add(
        np.strings.add(compound_names[ce], SIDE_NAMES[layout.compound_entrance_side]), "门"
    )
    n_gates, n = len(gate_v), len(gate_v) + len(ce)
    state = np.concatenate([gate_state, compound_state])
    # Gates were sealed or staffed 3-30 days before the reference day; open ones long before.
    days = np.where(state == EntranceState.OPEN.value, 60, rng.integers(3, 31, n))
    seconds = rng.integers(8 * 3600, 18 * 3600, n)
    since = (
        np.datetime64(reference, "s")
        - days.astype("timedelta64[D]")
        + seconds.astype("timedelta64[s]")
    )
    xy = np.concatenate([layout.village_entrance_xy, layout.compound_entrance_xy])
    owner_village = np.concatenate([gate_v + 1, np.zeros(len(ce), dtype=np.int64)])
    owner_compound = np.concatenate([np.zeros(n_gates, dtype=np.int64), ce + 1])
    is_gate = np.arange(n) < n_gates
    table = Table(
        "entrances",
        {
            "id": local_ids(n),
            "name": np.concatenate([gate_name, compound_name]),
            "compound_id": nullable(owner_compound, is_gate),
            "village_id": nullable(owner_village, ~is_gate),
            "state": state,
            "since": since,
            "changed_by": np.full(n, "synthetic"),
            "geom": geometries(shapely.points(xy)),
        },
        refs={"compound_id": "compounds", "village_id": "villages"},
        source_kind="entrance",
    )
    return table, since, state


def entrance_events(since: NDArray[np.datetime64], state: StrArray) -> Table:
    """How each entrance came to its state: opened from the start, or closed or staffed later."""
    n = len(state)
    initial = state == EntranceState.OPEN.value
    return Table(
        "entrance_events",
        {
            "id": local_ids(n),
            "entrance_id": local_ids(n),
            "at": since,
            "from_state": nullable(np.full(n, EntranceState.OPEN.value), initial),
            "to_state": state,
            "user_name": np.full(n, "synthetic"),
        },
        refs={"entrance_id": "entrances"},
    )


def build_places(
    rng: np.random.Generator, layout: Layout, *, code_prefix: str, reference: date
) -> Places:
    """Rows of every place table of the town, in the order they can be loaded."""
    villages, vnames = _villages(rng, layout, code_prefix)
    grids, gnames = _grids(layout, villages, vnames)
    compounds, cnames = _compounds(rng, layout)
    buildings, floors = _buildings(rng, layout)
    roads = _roads(layout, vnames)
    entrances, since, state = _entrances(rng, layout, vnames, cnames, reference)
    return Places(
        tables=[villages, grids, compounds, buildings, roads, entrances],
        village_names=vnames,
        grid_names=gnames,
        building_floors=floors,
        entrance_since=since,
        entrance_states=state,
    )

"""A generated town of any size, the same for the same seed, bulk-loaded with COPY.

``wangge load synthetic --households N --seed S`` builds every table of a
town in numpy arrays (a few seconds for a million households) and writes
them with COPY in PostgreSQL's text format, in the caller's transaction.

Ids are chosen here, not by the identity sequences, so that children refer
to parents without round trips: the tables written are locked against
concurrent writers (SHARE ROW EXCLUSIVE) until the caller's transaction ends,
rows get ids after each table's current largest id, and each sequence is
moved past them. A town is loaded once per seed: loading a seed whose town
is already there raises ``WanggeError`` and changes nothing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
from psycopg import sql
from sqlalchemy import Connection, text
from tqdm import tqdm

from geodata.auth.rls import bypasses_rls
from geodata.db.bulk import raw
from geodata.errors import ConfigError, WanggeError
from geodata.samples.columnar import Table, copy_table
from geodata.samples.history import HISTORY_DAYS
from geodata.samples.synthetic import population
from geodata.samples.synthetic.duty import STAFF_PER_GRID, build_duty
from geodata.samples.synthetic.layout import TownCounts, build_layout
from geodata.samples.synthetic.places import build_places, entrance_events

HOUSEHOLDS_PER_GRID = 500
HOUSEHOLDS_PER_VILLAGE = 2_000
HOUSEHOLDS_PER_CHECKPOINT = 2_000
REFERENCE_DATE = date(2022, 4, 15)
"""The day the town is seen on: visits, shifts and quarantines are dated from it."""

ORIGIN = (113.0, 23.0)
ORIGIN_STEP_DEG = 0.5
ORIGIN_SLOTS = (8, 6)
"""Towns of different seeds start at different places (seed modulo 48), 0.5° apart."""

LOAD_ORDER = (
    "villages",
    "grids",
    "teams",
    "staff",
    "compounds",
    "buildings",
    "roads",
    "households",
    "residents",
    "entrances",
    "entrance_events",
    "checkpoints",
    "patrol_zones",
    "checkpoint_shifts",
    "shift_staff",
    "isolation_sites",
    "visits",
)
"""Parents before children; grids get their leaders once the staff are in."""

# Independent random streams, so that a change in one part leaves the others as they were.
_STREAMS = ("layout", "places", "duty", "households", "residents", "visits")


@dataclass(frozen=True, kw_only=True)
class SyntheticSpec:
    """What to generate; ``from_counts`` fills in the usual ratios."""

    households: int
    villages: int
    grids: int
    checkpoints: int
    seed: int
    reference_date: date = REFERENCE_DATE
    shift_days: int = 1
    """Days of shifts at every checkpoint: the reference day and the days before it."""

    @classmethod
    def from_counts(
        cls,
        *,
        households: int,
        villages: int | None = None,
        grids: int | None = None,
        checkpoints: int | None = None,
        seed: int,
        reference_date: date = REFERENCE_DATE,
        shift_days: int = 1,
    ) -> SyntheticSpec:
        """About 500 households a grid, 2,000 a village and a checkpoint per 2,000 households."""
        if households < 1:
            raise ConfigError("a synthetic town needs at least one household")
        if not 0 <= seed < 2**63:
            raise ConfigError("the seed of a synthetic town must be in 0 .. 2**63 - 1")
        if villages is None:
            villages = max(1, round(households / HOUSEHOLDS_PER_VILLAGE))
            if grids is not None:
                villages = min(villages, grids)
        if grids is None:
            grids = max(villages, round(households / HOUSEHOLDS_PER_GRID))
        if checkpoints is None:
            checkpoints = max(1, round(households / HOUSEHOLDS_PER_CHECKPOINT))
        if villages < 1 or grids < villages:
            raise ConfigError(f"need 1 <= villages <= grids (got {villages} and {grids})")
        if checkpoints < 0:
            raise ConfigError("checkpoints must not be negative")
        if not 1 <= shift_days <= HISTORY_DAYS:
            raise ConfigError(f"shift days must be in 1 .. {HISTORY_DAYS} (got {shift_days})")
        return cls(
            households=households,
            villages=villages,
            grids=grids,
            checkpoints=checkpoints,
            seed=seed,
            reference_date=reference_date,
            shift_days=shift_days,
        )

    @property
    def origin(self) -> tuple[float, float]:
        """South-west corner of the town (longitude, latitude)."""
        cols, rows = ORIGIN_SLOTS
        slot = self.seed % (cols * rows)
        return (
            ORIGIN[0] + ORIGIN_STEP_DEG * (slot % cols),
            ORIGIN[1] + ORIGIN_STEP_DEG * (slot // cols),
        )

    @property
    def source_prefix(self) -> str:
        """Every source id of the town starts with this."""
        return f"syn{self.seed}:"

    @property
    def code_prefix(self) -> str:
        return f"S{self.seed}-"


def generate_town(spec: SyntheticSpec) -> dict[str, Table]:
    """Every row of the town in memory, keyed by table in LOAD_ORDER; ids are local (from 1)."""
    rng = dict(zip(_STREAMS, np.random.default_rng(spec.seed).spawn(len(_STREAMS)), strict=True))
    counts = TownCounts(
        households=spec.households,
        villages=spec.villages,
        grids=spec.grids,
        checkpoints=spec.checkpoints,
    )
    layout = build_layout(rng["layout"], counts, spec.origin)
    places = build_places(
        rng["places"], layout, code_prefix=spec.code_prefix, reference=spec.reference_date
    )
    duty = build_duty(
        rng["duty"],
        layout,
        village_names=places.village_names,
        grid_names=places.grid_names,
        reference=spec.reference_date,
        shift_days=spec.shift_days,
    )
    household = population.households(
        rng["households"],
        building_households=layout.building_households,
        building_grid=layout.building_grid,
        building_floors=places.building_floors,
    )
    resident = population.residents(rng["residents"], household, reference=spec.reference_date)
    visit = population.visits(
        rng["visits"],
        household,
        resident,
        grid_staff=duty.first_grid_staff,
        staff_per_grid=STAFF_PER_GRID,
        reference=spec.reference_date,
    )
    household = _with_latest_visit(household, visit)
    tables = [
        *places.tables,
        entrance_events(places.entrance_since, places.entrance_states),
        duty.teams,
        duty.staff,
        duty.checkpoints,
        duty.patrol_zones,
        duty.shifts,
        duty.shift_staff,
        duty.isolation_sites,
        household,
        resident,
        visit,
    ]
    village_of_household = layout.grid_village[household.columns["grid_id"] - 1]
    population_of = np.bincount(
        village_of_household, weights=household.columns["members"], minlength=spec.villages
    ).astype(np.int64)
    villages = tables[0]
    tables[0] = replace(villages, columns={**villages.columns, "population": population_of})
    by_name = {t.name: t for t in tables}
    return {name: by_name[name] for name in LOAD_ORDER}


def _with_latest_visit(household: Table, visit: Table) -> Table:
    """Households carrying their latest visit, as the triggers on visits keep it: loaded so,
    the visits that follow change no household row."""
    at = visit.columns["visited_at"].astype("datetime64[s]")
    order = np.argsort(at, kind="stable")
    latest = np.full(len(household), np.datetime64("NaT"), dtype="datetime64[s]")
    latest[visit.columns["household_id"][order] - 1] = at[order]  # the latest written last
    column = np.ma.masked_array(latest, mask=np.isnat(latest))
    return replace(household, columns={**household.columns, "last_visited_at": column})


def already_loaded(conn: Connection, spec: SyntheticSpec) -> bool:
    """Whether a town of this seed is in the database."""
    pattern = spec.source_prefix.replace("\\", "\\\\").replace("%", "\\%") + "%"
    found = conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM villages WHERE source_id LIKE :p)"), {"p": pattern}
    ).scalar_one()
    return bool(found)


def _lock_and_offsets(conn: Connection, tables: list[str]) -> dict[str, int]:
    """Lock the tables against other writers; each table's largest id, the offset of ours."""
    offsets = {}
    with raw(conn).cursor() as cur:
        cur.execute(
            sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in tables)
            )
        )
        for t in tables:
            row = cur.execute(
                sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(t))
            ).fetchone()
            assert row is not None
            offsets[t] = int(row[0])
    return offsets


def _advance_sequence(conn: Connection, table: str, last_id: int) -> None:
    """Move the id sequence past our ids; never backwards (setval is not rolled back)."""
    raw(conn).execute(
        "SELECT setval(s, GREATEST(nextval(s), %s)) FROM pg_get_serial_sequence(%s, 'id') AS s",
        (last_id, table),
    )


def _set_grid_leaders(conn: Connection, *, first_grid: int, first_staff: int) -> None:
    raw(conn).execute(
        "UPDATE grids g SET leader_id = s.id FROM staff s"
        " WHERE s.grid_id = g.id AND s.role = 'grid_leader' AND g.id >= %s AND s.id >= %s",
        (first_grid, first_staff),
    )


def load_synthetic(
    conn: Connection, spec: SyntheticSpec, *, progress: bool = True
) -> dict[str, int]:
    """Generate the town of ``spec`` and COPY it in; the rows written per table.

    Runs in the caller's transaction and never commits, as a role exempt from
    row security (COPY cannot write tables under it). Raises ``WanggeError``
    when a town of the same seed is already loaded or the role is not exempt.
    ``progress`` shows a bar on stderr, counting rows.
    """
    if not bypasses_rls(conn):
        raise WanggeError(
            "loading a synthetic town needs a role exempt from row security (the owner role): "
            "COPY cannot write tables under row-level security"
        )
    if already_loaded(conn, spec):
        raise WanggeError(
            f"a synthetic town with seed {spec.seed} is already loaded; "
            "choose another seed or start from an empty database"
        )
    with tqdm(
        total=None, desc="generating", unit=" rows", file=sys.stderr, disable=not progress
    ) as bar:
        town = generate_town(spec)
        bar.reset(total=sum(len(t) for t in town.values()))
        offsets = _lock_and_offsets(conn, list(town))
        counts: dict[str, int] = {}
        for name, table in town.items():
            bar.set_description(name)
            counts[name] = copy_table(
                conn, table, offsets=offsets, source_prefix=spec.source_prefix, on_rows=bar.update
            )
            if name == "staff":
                _set_grid_leaders(
                    conn, first_grid=offsets["grids"] + 1, first_staff=offsets["staff"] + 1
                )
        bar.set_description("analyzing")
        for name, table in town.items():
            _advance_sequence(conn, name, offsets[name] + len(table))
            raw(conn).execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))
        bar.set_description("synthetic town")
    return counts

"""The sample town: Liechtenstein's 11 municipalities as villages, built from the bundled extract.

Choices, all deterministic from the seed (``numpy.random.default_rng(seed)``) and dated
relative to ``today``:

- Villages: the admin_level 8 boundaries inside the admin_level 2 one (Fläsch, Swiss, is
  left out), as multipolygons (Vaduz has 7 parts). Code ``9900`` + municipality number
  (7001-7011), e.g. ``99007001``: region 99 does not exist, so the codes are visibly
  synthetic. Vaduz is a ``community``, the others ``village``; population = the synthetic
  residents. The stored outline carries, on its boundary, the vertices where grid edges
  meet it (same shape).
- Buildings: every OSM building whose point on surface lies in a village (4 of the 3,723
  stand just across the border in Switzerland or Austria and are left out). Floors from
  ``building:levels`` else by type (see ``osm_extract.building_floors``); ``use`` is the
  ``building`` tag; compound and grid from the point on surface.
- Households: residential-looking buildings only (house/residential/apartments/yes, no
  amenity, no name, not in industrial/commercial/farmyard/quarry/cemetery/construction
  landuse, 40 m² or more, a ``yes`` building at most 1,500 m²): round(footprint m² in
  EPSG:2056 × floors ÷ 90 m² × U(0.85, 1.15)), at least 1, a house at most 2. Unit and room
  from the position in the building (two flats a floor per stairwell: rooms 101, 102...).
  Members 1-6; ``home_quarantine`` when a returnee of the household is still in quarantine.
- Compounds: residential buildings buffered by 6 m and unioned; each connected part (holes
  filled, parts nested in another dropped) holding at least 4 residential buildings and at
  most 250 households becomes a compound, clipped to its village (largest part kept).
  Inside residential landuse it is a ``residential_compound``, else a ``building_yard``;
  85% ``sealed_managed``. Named after the nearest named road.
- Grids: per village, units (a compound, or a building outside compounds) weighted by
  households are cut recursively across the longer axis until each part holds at most 300
  households (a part of k×300 becomes ⌊k/2⌋ + ⌈k/2⌉ parts, the cut placed so that both
  sides can still make parts of 150-300); the cuts are tried turned by 0°-165° and the turn
  with the fewest parts outside 150-300 is kept. The Voronoi cells of the building points,
  dissolved per part, are noded with the village boundary and the compound rings into faces;
  a face goes to its compound's part, else to its Voronoi part. So each compound lies whole
  in one grid, forest and mountain land joins the nearest grid, and grids share their edges
  vertex for vertex: no gap or overlap in any CRS. Detached crumbs under 500 m² holding no
  building join the neighbour they share most edge with. Code = village code + 2 digits.
- Entrances: where roads cross a compound's outer ring (one per 20 m cell), else the point
  of the ring nearest to the nearest road; where primary to residential roads cross a
  village boundary (one per 50 m cell). A compound keeps the entrance on its best road open
  and the rest sealed; a village's entrances are sealed except those with a checkpoint.
  Deliberate faults for the checks: 2 compounds with two open entrances, 2 with none open,
  1 sealed compound entrance 30 m outside its compound.
- Checkpoints: 2-4 per village at the village entrances on the best roads (one per road name);
  on a primary road half are ``road`` checkpoints, the rest ``village_gate``. Shifts
  00-08, 08-16, 16-24 (Asia/Shanghai) for today and the 6 days before; one in eight
  understaffed by one.
- Teams: per village a combat unit (作战单元) with its groups: a checkpoint group, an
  emergency group and day and night patrol teams; per grid a household-visit group (入户组)
  under its village's unit.
- Staff: per grid a leader and 2 workers (its household-visit group); per checkpoint 3 crews
  of staff per shift people (the checkpoint group), crew k on shift k of every day, so nobody
  is on overlapping shifts or more than 8 h in any 24; 4-6 per patrol team; 4 in the
  emergency group (role ``patrol``: the roles have no emergency role); a village secretary per
  village (in its combat unit, ``villages.secretary_id``); a yard head per compound
  (``compounds.head_id``); a building head per building of 8 households or more
  (``buildings.head_id``). Shifts hold their people (``shift_staff``); the head count follows.
- Patrol zones: per village the day zone is the whole village, the night zone the land
  within 100 m of its buildings.
- Isolation site: 120 beds and 10 reserve rooms at the centroid of the largest school.
- Visits over the 14 days before today: each household screened once (a third twice) on a
  working day of its grid (grids rest on about one day in eight), about 3% never visited;
  households of returnees visited twice a day (about 09:00 and 16:00) during quarantine,
  one visit in twenty missed.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geodata.samples.history import history_start
from geodata.samples.osm_extract import WGS84, OsmExtract, read_extract
from geodata.samples.people import synthetic_residents
from geodata.samples.town.campaign import plan_campaign
from geodata.samples.town.duty import (
    plan_checkpoints,
    plan_isolation_site,
    plan_patrol_shifts,
    plan_patrol_zones,
    plan_shifts,
)
from geodata.samples.town.entrances import plan_entrances
from geodata.samples.town.geometry import locate
from geodata.samples.town.grids import plan_grids
from geodata.samples.town.households import household_rows
from geodata.samples.town.people import plan_shift_staff, plan_staff, plan_teams, responsible
from geodata.samples.town.places import plan_buildings, plan_compounds, plan_roads, plan_villages
from geodata.samples.town.plan import TownPlan
from geodata.samples.town.visits import plan_visits
from geodata.samples.town.writer import write_plan
from geodata.town_time import town_today


def load_sample(conn: Connection, *, seed: int = 2020, today: date | None = None) -> dict[str, int]:
    """Load the sample town in the caller's transaction; rows inserted per table.

    Idempotent: when villages from OpenStreetMap are already there, returns ``{}``.
    """
    loaded = conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM villages WHERE source_id LIKE 'osm:%')")
    ).scalar_one()
    if loaded:
        return {}
    plan = build_plan(read_extract(), seed=seed, today=today or town_today())
    return write_plan(conn, plan)


def build_plan(extract: OsmExtract, *, seed: int, today: date) -> TownPlan:
    """The whole town in memory, from the extract, the seed and the date."""
    streams = np.random.default_rng(seed).spawn(7)
    villages = plan_villages(extract.municipalities)
    buildings = plan_buildings(streams[0], extract, villages)
    roads = plan_roads(extract.roads)
    compounds = plan_compounds(streams[1], buildings, villages, extract.landuse, roads)
    buildings["compound"] = locate(buildings.geometry.representative_point(), compounds.geometry)
    grids, outlines = plan_grids(villages, buildings, compounds)
    villages = villages.set_geometry(gpd.GeoSeries(outlines, crs=WGS84))
    buildings["grid"] = locate(buildings.geometry.representative_point(), grids.geometry)
    households = household_rows(streams[2], buildings)
    residents = synthetic_residents(streams[2], households["members"], today=today)
    residents["grid"] = households["grid"].to_numpy()[residents["household"].to_numpy()]
    in_quarantine = residents["returnee"] & (residents["quarantine_until"] >= today)
    quarantined = np.bincount(residents["household"][in_quarantine], minlength=len(households))
    households["status"] = np.where(quarantined > 0, "home_quarantine", "normal")
    villages["population"] = np.bincount(
        grids["village"].to_numpy()[residents["grid"].to_numpy()], minlength=len(villages)
    )
    entrances = plan_entrances(streams[3], villages, compounds, roads, today=today)
    checkpoints = plan_checkpoints(streams[3], villages, entrances, roads)
    checkpoints["created_at"] = history_start(today)
    teams = plan_teams(villages, grids)
    staff = plan_staff(
        streams[4], villages, grids, compounds, buildings, households, teams, checkpoints
    )
    grids["leader"] = responsible(staff, "grid_leader")
    villages["secretary"] = responsible(staff, "village_secretary")
    shifts = plan_shifts(streams[5], checkpoints, today=today)
    patrol_zones = plan_patrol_zones(villages, buildings, teams)
    patrol_shifts, on_patrol = plan_patrol_shifts(patrol_zones, staff, today=today)
    shift_staff = plan_shift_staff(shifts, staff, checkpoints)
    on_patrol["shift"] += len(shifts)
    shifts = pd.concat(
        [shifts.assign(zone=-1), patrol_shifts.assign(checkpoint=-1)], ignore_index=True
    )
    return TownPlan(
        villages=villages,
        grids=grids,
        compounds=compounds,
        buildings=buildings,
        roads=roads,
        households=households,
        residents=residents,
        entrances=entrances,
        checkpoints=checkpoints,
        shifts=shifts,
        shift_staff=pd.concat([shift_staff, on_patrol], ignore_index=True),
        teams=teams,
        staff=staff,
        patrol_zones=patrol_zones,
        isolation_sites=plan_isolation_site(buildings, villages),
        visits=plan_visits(streams[6], households, residents, staff, today=today),
        campaigns=plan_campaign(today),
    )

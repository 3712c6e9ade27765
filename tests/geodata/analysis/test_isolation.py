"""Isolation bed assignment, checked against independent exact solves: scipy's milp on a dense
model written here, a brute force over every assignment, and the Hungarian method on beds."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp

from geodata.analysis import isolation
from geodata.analysis.isolation import OPTIMAL, Assignment, assign, hand_out_beds
from geodata.analysis.isolation import solve as isolation_solve

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def random_case(
    seed: int, n_people: int, n_sites: int, *, beds_per_person: float, unreachable: float = 0.0
) -> tuple[Floats, Ints, Ints]:
    """People in households of 1-4 around homes in a 5 km square, sites in it, Manhattan
    metres; a share of (person, site) pairs unreachable."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, size=n_people)
    household = np.repeat(np.arange(n_people), sizes)[:n_people]
    homes = rng.uniform(0, 5000, size=(n_people, 2))[household]
    sites = rng.uniform(0, 5000, size=(n_sites, 2))
    dist = np.abs(homes[:, None, :] - sites[None, :, :]).sum(axis=2)
    dist += rng.uniform(0, 50, size=dist.shape)  # members' own doors
    dist[rng.random(dist.shape) < unreachable] = np.inf
    total = max(round(beds_per_person * n_people), 0)
    beds = rng.multinomial(total, np.ones(n_sites) / n_sites).astype(np.int64)
    return dist, beds, household


def milp_reference(
    dist: Floats, beds: Ints, household: Ints | None, *, keep_families: bool
) -> tuple[int, float]:
    """People placed and total metres of the lexicographic optimum, by scipy's milp on a dense
    model: first the most people, then the least distance with that many."""
    n_people, n_sites = dist.shape
    if keep_families and household is not None:
        _, unit_of = np.unique(household, return_inverse=True)
    else:
        unit_of = np.arange(n_people)
    n_units = int(unit_of.max()) + 1
    size = np.bincount(unit_of, minlength=n_units).astype(float)
    cost = np.zeros((n_units, n_sites))
    np.add.at(cost, unit_of, dist)
    reachable = np.isfinite(cost)
    cost[~reachable] = 0.0
    n = n_units * n_sites  # variable (u, j) at u * n_sites + j
    one_site = np.kron(np.eye(n_units), np.ones(n_sites))
    beds_row = np.kron(size[:, None], np.eye(n_sites)).T.reshape(n_sites, n)
    rows = [
        LinearConstraint(one_site, 0, 1),
        LinearConstraint(beds_row, -np.inf, beds.astype(float)),
    ]
    bounds = Bounds(np.zeros(n), reachable.ravel().astype(float))
    weight = np.repeat(size, n_sites)
    most = milp(-weight, constraints=rows, integrality=np.ones(n), bounds=bounds)
    assert most.success
    people = round(-most.fun)
    rows.append(LinearConstraint(weight[None, :], people - 0.5, np.inf))
    nearest = milp(
        cost.ravel(),
        constraints=rows,
        integrality=np.ones(n),
        bounds=bounds,
        options={"mip_rel_gap": 0.0},
    )
    assert nearest.success
    return people, float(nearest.fun)


def brute_force(
    dist: Floats, beds: Ints, household: Ints | None, *, keep_families: bool
) -> tuple[int, float]:
    """The same, by trying every unit at every site or none."""
    n_people, n_sites = dist.shape
    members = (
        [np.flatnonzero(household == h) for h in np.unique(household)]
        if keep_families and household is not None
        else [np.array([i]) for i in range(n_people)]
    )
    best = (-1, np.inf)
    for choice in itertools.product(range(-1, n_sites), repeat=len(members)):
        load = np.zeros(n_sites, dtype=np.int64)
        people, metres = 0, 0.0
        for who, at in zip(members, choice, strict=True):
            if at >= 0:
                load[at] += len(who)
                people += len(who)
                metres += float(dist[who, at].sum())
        if np.any(load > beds) or not np.isfinite(metres):
            continue
        if people > best[0] or (people == best[0] and metres < best[1]):
            best = (people, metres)
    return best


def check_feasible(
    result: Assignment, dist: Floats, beds: Ints, household: Ints, *, keep_families: bool
) -> None:
    placed = result.site >= 0
    assert np.all(np.isfinite(dist[placed, result.site[placed]]))
    load = np.bincount(result.site[placed], minlength=len(beds))
    assert np.array_equal(load, result.load)
    assert np.all(load <= beds)
    assert result.total_distance_m == pytest.approx(dist[placed, result.site[placed]].sum())
    if keep_families:
        for h in np.unique(household):
            assert len(set(result.site[household == h].tolist())) == 1


CASES = [
    # seed, people, sites, beds per person, unreachable share
    (1, 30, 4, 1.3, 0.0),
    (2, 40, 5, 1.05, 0.1),
    (3, 35, 3, 0.7, 0.0),  # short of beds
    (4, 25, 6, 1.0, 0.3),
    (5, 40, 4, 1.0, 0.0),  # exactly as many beds as people
    (6, 20, 2, 0.5, 0.2),
]


@pytest.mark.parametrize(("seed", "n_people", "n_sites", "per_person", "unreachable"), CASES)
@pytest.mark.parametrize("keep_families", [False, True])
def test_matches_milp(
    seed: int,
    n_people: int,
    n_sites: int,
    per_person: float,
    unreachable: float,
    keep_families: bool,
) -> None:
    dist, beds, household = random_case(
        seed, n_people, n_sites, beds_per_person=per_person, unreachable=unreachable
    )
    result = assign(dist, beds, household, keep_families=keep_families)
    assert result.status == OPTIMAL
    check_feasible(result, dist, beds, household, keep_families=keep_families)
    people, metres = milp_reference(dist, beds, household, keep_families=keep_families)
    assert result.assigned == people
    assert result.total_distance_m == pytest.approx(metres, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("seed", [3, 14, 16, 17])
def test_households_second_pass_matches_milp(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first guess too small to prove anything (on these seeds the first MIP's answer is not
    the optimum): the second MIP must still find the optimum."""
    monkeypatch.setattr(isolation_solve, "FIRST_GAP", 1e-9)
    dist, beds, household = random_case(seed, 40, 5, beds_per_person=1.05)
    result = assign(dist, beds, household, keep_families=True)
    assert result.status == OPTIMAL
    check_feasible(result, dist, beds, household, keep_families=True)
    assert (result.assigned, result.total_distance_m) == pytest.approx(
        milp_reference(dist, beds, household, keep_families=True)
    )


@pytest.mark.parametrize("keep_families", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_matches_brute_force(seed: int, keep_families: bool) -> None:
    rng = np.random.default_rng(100 + seed)
    dist = rng.uniform(100, 3000, size=(6, 3))
    dist[rng.random(dist.shape) < 0.15] = np.inf
    beds = rng.integers(0, 4, size=3)
    household = np.array([7, 7, 3, 9, 9, 9])
    result = assign(dist, beds, household, keep_families=keep_families)
    assert result.status == OPTIMAL
    check_feasible(result, dist, beds, household, keep_families=keep_families)
    people, metres = brute_force(dist, beds, household, keep_families=keep_families)
    assert result.assigned == people
    assert result.total_distance_m == pytest.approx(metres)


def test_transportation_matches_hungarian_on_beds() -> None:
    """Without households the model is an assignment of people to beds: the Hungarian method
    on one column per bed gives the same least total distance."""
    dist, beds, household = random_case(11, 300, 12, beds_per_person=1.2)
    result = assign(dist, beds, household, keep_families=False)
    bed_site = np.repeat(np.arange(len(beds)), beds)
    rows, cols = linear_sum_assignment(dist[:, bed_site])
    assert result.assigned == 300
    assert result.total_distance_m == pytest.approx(dist[rows, bed_site[cols]].sum(), rel=1e-12)


def test_unreachable_pairs_have_no_placement() -> None:
    inf, nan = np.inf, np.nan
    dist = np.array(
        [
            [100.0, inf],  # only site 0
            [nan, 200.0],  # only site 1 (NaN: unreachable)
            [inf, nan],  # nowhere
            [10.0, 900.0],  # household 5 with the next one
            [inf, 900.0],  # reaches site 1 only: the household can only go there
        ]
    )
    household = np.array([1, 2, 3, 5, 5])
    apart = assign(dist, [5, 5], household, keep_families=False)
    assert apart.site.tolist() == [0, 1, -1, 0, 1]
    together = assign(dist, [5, 5], household, keep_families=True)
    assert together.site.tolist() == [0, 1, -1, 1, 1]
    assert together.total_distance_m == pytest.approx(100 + 200 + 900 + 900)
    assert together.unassigned == 1


def test_short_of_beds_places_the_most_then_the_nearest() -> None:
    # Three people, two beds: two are placed, the pair with the least total distance.
    dist = np.array([[100.0, 5000.0], [200.0, 300.0], [150.0, 9000.0]])
    result = assign(dist, [1, 1], keep_families=False)
    assert result.status == OPTIMAL
    assert result.assigned == 2
    # Person 0 at site 0 and person 1 at site 1 (400 m) beats every other pair.
    assert result.site.tolist() == [0, 1, -1]
    assert result.total_distance_m == pytest.approx(400.0)


def test_households_short_of_beds() -> None:
    # A household of three where no site has three beds is left out; the two others fit.
    dist = np.full((5, 2), 1000.0)
    dist[3:, 1] = 50.0
    household = np.array(["a", "a", "a", "b", "c"])
    result = assign(dist, [2, 2], household, keep_families=True)
    assert result.status == OPTIMAL
    assert result.site.tolist() == [-1, -1, -1, 1, 1]
    # Without keeping families everyone but one finds a bed.
    apart = assign(dist, [2, 2], household, keep_families=False)
    assert apart.assigned == 4


def test_many_more_people_than_beds_lexicographic() -> None:
    """The most people first, however far: one far bed still takes someone."""
    dist = np.array([[10.0, 80_000.0], [20.0, 90_000.0], [30.0, 70_000.0]])
    result = assign(dist, [1, 1], keep_families=False)
    assert result.assigned == 2
    # Person 0 near (10 m) and person 2 far (70,000 m): every other pair costs more.
    assert result.site.tolist() == [0, -1, 1]
    assert result.total_distance_m == pytest.approx(70_010.0)


def test_reserve_beds_held_back_unless_allowed() -> None:
    dist = np.array([[100.0, 2000.0]] * 4)
    free = np.array([3, 3])
    reserve = np.array([2, 0])
    held = assign(dist, free, keep_families=False, reserve_beds=reserve)
    assert held.load.tolist() == [1, 3]
    assert held.reserve_used.tolist() == [0, 0]
    allowed = assign(dist, free, keep_families=False, reserve_beds=reserve, use_reserve=True)
    assert allowed.load.tolist() == [3, 1]
    assert allowed.reserve_used.tolist() == [2, 0]
    assert allowed.total_distance_m < held.total_distance_m
    # Held back and short: the reserve stays empty even if people are left out.
    short = assign(np.array([[100.0, np.inf]] * 3), free, keep_families=False, reserve_beds=reserve)
    assert short.load.tolist() == [1, 0]
    assert short.unassigned == 2


def test_reserve_beds_for_households() -> None:
    dist = np.array([[100.0, 2000.0]] * 3)
    household = np.array([1, 1, 1])
    held = assign(dist, [3, 3], household, keep_families=True, reserve_beds=[1, 0])
    assert held.site.tolist() == [1, 1, 1]
    allowed = assign(
        dist, [3, 3], household, keep_families=True, reserve_beds=[1, 0], use_reserve=True
    )
    assert allowed.site.tolist() == [0, 0, 0]
    assert allowed.reserve_used.tolist() == [1, 0]


def test_nobody_and_nowhere() -> None:
    empty = assign(np.zeros((0, 3)), [1, 2, 3], keep_families=True)
    assert empty.status == OPTIMAL
    assert empty.site.tolist() == []
    assert empty.load.tolist() == [0] * 3
    no_sites = assign(np.zeros((2, 0)), np.zeros(0, dtype=int), keep_families=False)
    assert no_sites.site.tolist() == [-1, -1]
    no_beds = assign(np.ones((2, 2)), [0, 0], keep_families=False)
    assert no_beds.site.tolist() == [-1, -1]
    assert no_beds.total_distance_m == 0.0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"distance_m": np.ones(3)}, "distance_m"),
        ({"distance_m": -np.ones((2, 2))}, "distance_m"),
        ({"free_beds": [1, 2, 3]}, "free_beds"),
        ({"free_beds": [1.5, 2]}, "free_beds"),
        ({"free_beds": [-1, 2]}, "free_beds"),
        ({"free_beds": [np.inf, 2]}, "free_beds"),
        ({"free_beds": ["1", "2"]}, "free_beds"),
        ({"household": [1, 2, 3]}, "household"),
        ({"household": [1.0, np.nan]}, "household"),
        ({"reserve_beds": [3, 0]}, "reserve_beds"),
        ({"reserve_beds": [0]}, "reserve_beds"),
        ({"time_limit_s": 0.0}, "time_limit_s"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs: dict[str, object], argument: str) -> None:
    args: dict[str, object] = {
        "distance_m": np.ones((2, 2)),
        "free_beds": [2, 2],
        "household": [1, 1],
        "keep_families": True,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=argument):
        assign(**args)  # type: ignore[arg-type]


def test_whole_numbers_given_as_floats_are_beds() -> None:
    result = assign(np.ones((2, 1)), np.array([2.0]), keep_families=False)
    assert result.load.tolist() == [2]


def test_hand_out_beds_in_order_households_together() -> None:
    site = np.array([0, 1, 0, -1, 0, 1])
    household = np.array([5, 6, 7, 8, 5, 6])
    beds = hand_out_beds(site, [["a1", "a2", "a3", "r1"], ["b1", "b2"]], household)
    # Site 0: household 5 (people 0 and 4) first, then household 7 (person 2).
    assert beds == ["a1", "b1", "a3", None, "a2", "b2"]
    assert hand_out_beds(site, [["a1", "a2", "a3"], ["b1", "b2"]]) == [
        "a1",
        "b1",
        "a2",
        None,
        "a3",
        "b2",
    ]


def test_hand_out_beds_from_an_assignment() -> None:
    dist, beds, household = random_case(3, 30, 4, beds_per_person=1.2)
    result = assign(dist, beds, household, keep_families=True)
    ids = [[f"{j}-{k}" for k in range(n)] for j, n in enumerate(beds.tolist())]
    handed = hand_out_beds(result.site, ids, household)
    taken = [b for b in handed if b is not None]
    assert len(taken) == len(set(taken)) == result.assigned
    for person, bed in enumerate(handed):
        assert (bed is None) == (result.site[person] < 0)
        assert bed is None or bed.startswith(f"{result.site[person]}-")


def test_hand_out_beds_bad_inputs() -> None:
    with pytest.raises(ValueError, match="bed_ids"):
        hand_out_beds(np.array([0, 0]), [["a"]])
    with pytest.raises(ValueError, match="site"):
        hand_out_beds(np.array([2]), [["a"]])
    with pytest.raises(ValueError, match="site"):
        hand_out_beds(np.array([0.5]), [["a"]])


def test_time_limit_reports_its_status() -> None:
    dist, beds, household = random_case(7, 60, 6, beds_per_person=1.0)
    result = assign(dist, beds, household, keep_families=True, time_limit_s=1e-6)
    assert result.status in {isolation.OPTIMAL, isolation.TIME_LIMIT}
    check_feasible(result, dist, beds, household, keep_families=True)

"""The rules about people on duty that `wangge check` reports: pure functions, frames in,
items out (no database). Times are seconds since the epoch (float); each item names the
object and the hour it concerns (`hour`: the start of that hour, seconds since the epoch,
turned into a town-time ISO string by the caller)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

HOUR_S = 3600.0
DAY_S = 24 * HOUR_S
HOURS_AHEAD = 24
OPEN_STATES = ("open", "checkpoint")
ACTIVE = "active"

Item = dict[str, Any]


def hour_start(moment_s: float) -> float:
    """The start of the hour holding `moment_s` (whole hours of UTC: the same hours as any
    time zone with a whole-hour offset)."""
    return float(np.floor(moment_s / HOUR_S) * HOUR_S)


def grids_without_leader(grids: pd.DataFrame, moment_s: float) -> list[Item]:
    """`grids`: code, leader_id (NaN when none), leader_retired_s (NaN when serving). A
    grid whose leader retired at or before the moment has none."""
    retired = grids["leader_retired_s"].notna() & (grids["leader_retired_s"] <= moment_s)
    lacking = grids[grids["leader_id"].isna() | retired].sort_values("code")
    hour = hour_start(moment_s)
    return [{"grid": str(code), "hour": hour} for code in lacking["code"]]


def villages_open_entrances(
    villages: pd.DataFrame,
    entrances: pd.DataFrame,
    checkpoints: pd.DataFrame,
    moment_s: float,
) -> list[Item]:
    """Every village keeps exactly one open entrance of its own, and that entrance has an
    active checkpoint.

    `villages`: id, code; `entrances`: id, source_id, village_id, state (at the moment;
    None when not there yet); `checkpoints`: entrance_id, state (at the moment).
    """
    hour = hour_start(moment_s)
    open_ = entrances[entrances["state"].isin(OPEN_STATES)]
    guarded = set(
        checkpoints.loc[checkpoints["state"] == ACTIVE, "entrance_id"].dropna().astype(np.int64)
    )
    by_village = open_.groupby("village_id")
    items: list[Item] = []
    for vid, code in sorted(
        zip(villages["id"], villages["code"], strict=True), key=lambda pair: str(pair[1])
    ):
        mine = by_village.get_group(vid) if vid in by_village.groups else open_.iloc[0:0]
        if len(mine) != 1:
            items.append(
                {
                    "village": str(code),
                    "open_entrances": len(mine),
                    "entrances": sorted(str(s) for s in mine["source_id"]),
                    "hour": hour,
                }
            )
        elif int(mine["id"].iloc[0]) not in guarded:
            items.append(
                {
                    "village": str(code),
                    "open_entrances": 1,
                    "entrance": str(mine["source_id"].iloc[0]),
                    "problem": "no active checkpoint",
                    "hour": hour,
                }
            )
    return items


def head_counts(
    shifts: pd.DataFrame, checkpoint_ids: np.ndarray, start_s: float, hours: int
) -> np.ndarray:
    """The fewest people on duty at each checkpoint in each hour from `start_s`: an array
    (checkpoints × hours). `shifts`: checkpoint_id, starts_s, ends_s, staff_count.

    The head count is a step function of time per checkpoint; its minimum over an hour is
    taken at the hour's start or at a shift boundary inside the hour. Every checkpoint has a
    band of its own on one time axis, so one sorted search counts the people everywhere.
    """
    n = len(checkpoint_ids)
    if n == 0 or hours == 0:
        return np.zeros((n, hours), dtype=np.int64)
    span = hours * HOUR_S
    band = span + 4.0
    order = np.argsort(checkpoint_ids)
    sorted_ids = checkpoint_ids[order]
    pos = np.searchsorted(sorted_ids, shifts["checkpoint_id"].to_numpy())
    pos_c = np.minimum(pos, n - 1)
    known = (pos < n) & (sorted_ids[pos_c] == shifts["checkpoint_id"].to_numpy())
    starts = shifts["starts_s"].to_numpy(dtype=np.float64)[known] - start_s
    ends = shifts["ends_s"].to_numpy(dtype=np.float64)[known] - start_s
    staff = shifts["staff_count"].to_numpy(dtype=np.int64)[known]
    row = order[pos_c[known]]
    live = (ends > 0) & (starts < span) & (staff > 0)
    starts, ends, staff, row = starts[live], ends[live], staff[live], row[live]
    base = row * band + 2.0
    s_key = base + np.clip(starts, -1.0, span + 1.0)
    e_key = base + np.clip(ends, -1.0, span + 1.0)
    s_order, e_order = np.argsort(s_key), np.argsort(e_key)
    s_sorted, e_sorted = s_key[s_order], e_key[e_order]
    s_cum = np.concatenate([[0], np.cumsum(staff[s_order])])
    e_cum = np.concatenate([[0], np.cumsum(staff[e_order])])

    # Evaluation points: every hour's start, and every boundary inside the window.
    hour_rows = np.repeat(np.arange(n), hours)
    hour_idx = np.tile(np.arange(hours), n)
    hour_t = hour_idx * HOUR_S
    inner_t = np.concatenate([starts, ends])
    inner_row = np.concatenate([row, row])
    inside = (inner_t > 0) & (inner_t < span)
    inner_t, inner_row = inner_t[inside], inner_row[inside]
    inner_idx = np.floor(inner_t / HOUR_S).astype(np.int64)
    t = np.concatenate([hour_t, inner_t])
    rows = np.concatenate([hour_rows, inner_row])
    idx = np.concatenate([hour_idx, inner_idx])
    key = rows * band + 2.0 + t
    on_duty = (
        s_cum[np.searchsorted(s_sorted, key, side="right")]
        - e_cum[np.searchsorted(e_sorted, key, side="right")]
    )
    out = np.full(n * hours, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, rows * hours + idx, on_duty)
    return out.reshape(n, hours)


def checkpoints_understaffed(
    checkpoints: pd.DataFrame, shifts: pd.DataFrame, moment_s: float, hours: int = HOURS_AHEAD
) -> list[Item]:
    """Every active checkpoint has at least its `staff_per_shift` people in every hour of the
    next `hours` (from the hour holding the moment). `checkpoints`: id, source_id,
    staff_per_shift, state (at the moment); one item per checkpoint and hour short."""
    active = checkpoints[checkpoints["state"] == ACTIVE].sort_values("source_id")
    start = hour_start(moment_s)
    ids = active["id"].to_numpy(dtype=np.int64)
    counts = head_counts(shifts, ids, start, hours)
    need = active["staff_per_shift"].to_numpy(dtype=np.int64)
    short_rows, short_hours = np.nonzero(counts < need[:, None])
    sources = active["source_id"].to_numpy()
    return [
        {
            "checkpoint": str(sources[r]),
            "hour": start + h * HOUR_S,
            "staff": int(counts[r, h]),
            "staff_per_shift": int(need[r]),
        }
        for r, h in zip(short_rows.tolist(), short_hours.tolist(), strict=True)
    ]


def shift_overlaps(assignments: pd.DataFrame) -> list[Item]:
    """No person is on two shifts that overlap. `assignments`: staff (source id), shift_id,
    starts_s, ends_s. One item per pair: the person, both shifts and the hour the overlap
    begins."""
    a = assignments.sort_values(["staff", "starts_s", "shift_id"], kind="stable")
    staff = a["staff"].to_numpy()
    starts = a["starts_s"].to_numpy(dtype=np.float64)
    ends = a["ends_s"].to_numpy(dtype=np.float64)
    shift = a["shift_id"].to_numpy()
    items: list[Item] = []
    # Each shift against the later shifts of the same person that start before it ends.
    j = 1
    while True:
        if j >= len(a):
            break
        same = staff[j:] == staff[:-j]
        hit = same & (starts[j:] < ends[:-j])
        if not same.any():
            break
        for i in np.flatnonzero(hit).tolist():
            items.append(
                {
                    "staff": str(staff[i]),
                    "shift": int(shift[i]),
                    "other_shift": int(shift[i + j]),
                    "hour": hour_start(float(starts[i + j])),
                }
            )
        if not hit.any():
            break
        j += 1
    return sorted(items, key=lambda it: (it["staff"], it["hour"], it["shift"]))


def hours_over_limit(assignments: pd.DataFrame, limit_hours: float) -> list[Item]:
    """No person works more than `limit_hours` in any 24 hours. `assignments`: staff,
    starts_s, ends_s. The busiest window of a person starts at one of their shift starts;
    one item per person over the limit, naming that window's first hour and its hours."""
    if assignments.empty:
        return []
    a = assignments[["staff", "starts_s", "ends_s"]].reset_index(drop=True)
    pairs = a.merge(a, on="staff", suffixes=("", "_w"))
    w_start = pairs["starts_s_w"].to_numpy(dtype=np.float64)
    w_end = w_start + DAY_S
    overlap = np.clip(
        np.minimum(pairs["ends_s"].to_numpy(dtype=np.float64), w_end)
        - np.maximum(pairs["starts_s"].to_numpy(dtype=np.float64), w_start),
        0.0,
        None,
    )
    worked = (
        pd.DataFrame({"staff": pairs["staff"], "window": w_start, "hours": overlap / HOUR_S})
        .groupby(["staff", "window"], sort=False)["hours"]
        .sum()
        .reset_index()
    )
    over = worked[worked["hours"] > limit_hours + 1e-9]
    if over.empty:
        return []
    worst = over.sort_values(["staff", "hours", "window"], ascending=[True, False, True])
    worst = worst.drop_duplicates("staff")
    return [
        {
            "staff": str(s),
            "hour": hour_start(float(w)),
            "hours": round(float(h), 2),
            "limit": limit_hours,
        }
        for s, w, h in zip(worst["staff"], worst["window"], worst["hours"], strict=True)
    ]


def teams_without_members(
    teams: pd.DataFrame, members: pd.DataFrame, moment_s: float
) -> list[Item]:
    """Every team has at least one member; a combat unit counts the members of its groups
    too. `teams`: id, source_id, kind, parent_id (NaN for none); `members`: team_id (one row
    a serving person). Teams retired by the moment are left out by the caller."""
    direct = members["team_id"].dropna().astype(np.int64).value_counts()
    count = teams["id"].map(direct).fillna(0).astype(np.int64)
    child = pd.DataFrame({"parent": teams["parent_id"], "count": count}).dropna(subset=["parent"])
    via_groups = child.groupby(child["parent"].astype(np.int64))["count"].sum()
    total = count + teams["id"].map(via_groups).fillna(0).astype(np.int64)
    empty = teams[total.to_numpy() == 0].sort_values("source_id")
    hour = hour_start(moment_s)
    return [
        {"team": str(s), "kind": str(k), "hour": hour}
        for s, k in zip(empty["source_id"], empty["kind"], strict=True)
    ]

"""Time the staffing rules of `wangge check` on a county's shifts and people, built directly
as the frames the rules read: the rules alone, without the database (`check_staffing_db.py`
times them end to end from a synthetic county's tables).

    .venv/bin/python scripts/bench/staffing_rules.py --runs 5

The county: 2,000 checkpoints of 2 to 4 people a shift, three shifts of eight hours a day
(6,000 shifts a day), 20,000 staff; the rules read two days of shifts (the 24 hours before
and after the moment), each person on about one shift a day, a few on two in a row (over the
limit), a few twice in one shift's hours (overlapping). Prints every run and the median.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import measure
import numpy as np
import orjson
import pandas as pd

from geodata.analysis import duty_rules as rules

H = 3600.0
CHECKPOINTS = 2_000
STAFF = 20_000
SHIFT_HOURS = 8
DAYS = 2
T0 = 1_780_000_000.0 - (1_780_000_000.0 % (24 * H))


def county(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Checkpoints, shifts (with their head counts) and people on shifts."""
    rng = np.random.default_rng(seed)
    need = rng.integers(2, 5, CHECKPOINTS)
    checkpoints = pd.DataFrame(
        {
            "id": np.arange(1, CHECKPOINTS + 1),
            "source_id": [f"cp{i:05d}" for i in range(CHECKPOINTS)],
            "staff_per_shift": need,
            "entrance_id": np.nan,
            "state": np.where(rng.random(CHECKPOINTS) < 0.95, "active", "closed"),
        }
    )
    per_day = 24 // SHIFT_HOURS
    slots = np.arange(DAYS * per_day)
    cp = np.repeat(checkpoints["id"].to_numpy(), len(slots))
    slot = np.tile(slots, CHECKPOINTS)
    starts = T0 - 24 * H + slot * SHIFT_HOURS * H
    # Most shifts have their head count; one in twenty is one short.
    staff_count = np.repeat(need, len(slots)) - (rng.random(len(cp)) < 0.05)
    shifts = pd.DataFrame(
        {
            "shift_id": np.arange(len(cp)),
            "checkpoint_id": cp,
            "starts_s": starts,
            "ends_s": starts + SHIFT_HOURS * H,
            "staff_count": staff_count,
        }
    )
    shift_of_seat = np.repeat(shifts["shift_id"].to_numpy(), shifts["staff_count"].to_numpy())
    person = rng.integers(0, STAFF, len(shift_of_seat))
    people = pd.DataFrame(
        {
            "staff": np.char.add("s", person.astype(str)),
            "shift_id": shift_of_seat,
            "starts_s": shifts["starts_s"].to_numpy()[shift_of_seat],
            "ends_s": shifts["ends_s"].to_numpy()[shift_of_seat],
        }
    )
    return checkpoints, shifts, people


def staffing_rules(
    checkpoints: pd.DataFrame, shifts: pd.DataFrame, people: pd.DataFrame
) -> dict[str, int]:
    moment = T0 + 0.5 * H
    return {
        "checkpoint_understaffed": len(rules.checkpoints_understaffed(checkpoints, shifts, moment)),
        "shift_overlap": len(rules.shift_overlaps(people)),
        "hours_over_limit": len(rules.hours_over_limit(people, 12.0)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    checkpoints, shifts, people = county(args.seed)
    seconds, counts = measure.timed(lambda: staffing_rules(checkpoints, shifts, people), args.runs)
    print(
        orjson.dumps(
            {
                "machine": measure.machine(),
                "checkpoints": CHECKPOINTS,
                "shifts": len(shifts),
                "people_on_shifts": len(people),
                "staff": int(people["staff"].nunique()),
                "items": counts,
                "runs_s": [round(s, 3) for s in seconds],
                "median_s": round(statistics.median(seconds), 3),
            },
            option=orjson.OPT_INDENT_2,
        ).decode()
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

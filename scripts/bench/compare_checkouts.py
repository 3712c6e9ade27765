"""Compare two checkouts on the map, coverage, import and export benchmarks, run after run.

    git worktree add /tmp/bench_before <commit>
    git worktree add /tmp/bench_after <commit>
    WANGGE_HOME=/var/lib/wangge .venv/bin/python scripts/bench/compare_checkouts.py \
        /tmp/bench_before /tmp/bench_after --households 1000000 --rounds 3

Each checkout runs its own scripts/bench against its own code (`PYTHONPATH` set to the tree,
the working directory the tree) and its own databases, since a database migrated by the newer
tree has an Alembic revision the older one does not know: the synthetic town is loaded once by
the first tree into `wangge_bench_cmp_town_<households>_<seed>` and copied (CREATE DATABASE
... TEMPLATE) for each tree, which then brings its copy to its own migration; the import and
export databases get the tree's label as a suffix, and the export's buildings are inserted
once per tree (the scripts' own fill) and kept. The scripts are not changed: a small
bootstrap swaps `measure.map_town` and the scripts' `DATABASE` before their `main()` runs.

Per benchmark, the trees alternate (before, after, before, after, ...) for `--rounds` rounds,
each a fresh process with `--runs 1`, so both see the same machine load; `--warmup` rounds
come first and are not counted (the copies' pages are cold). Prints each figure's runs, the
medians and the ratio after/before, writes every child's output and a JSON summary to
`--out`, and drops the scratch databases unless `--keep`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BOOTSTRAP = r"""
import importlib, sys
tree, label, town, script, *args = sys.argv[1:]
sys.path.insert(0, f"{tree}/scripts/bench")
import measure

def map_town(households, seed):
    cluster = measure.LocalCluster(measure.Settings.from_env().home)
    cluster.up()
    spec = measure.SyntheticSpec.from_counts(households=households, seed=seed)
    name = f"wangge_bench_cmp_{label}_{spec.households}_{spec.seed}"
    with cluster._connect() as conn:  # the older tree's ensure_database takes no template
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}" OWNER {measure.OWNER_ROLE} TEMPLATE "{town}"')
    owner, app = measure.open_synthetic_town(cluster, spec, name)
    return cluster, name, owner, app

measure.map_town = map_town
if script == "load-town":
    households, seed = map(int, args)
    cluster = measure.LocalCluster(measure.Settings.from_env().home)
    cluster.up()
    spec = measure.SyntheticSpec.from_counts(households=households, seed=seed)
    owner, app = measure.open_synthetic_town(cluster, spec, town)
    owner.dispose()
    app.dispose()
    raise SystemExit(0)
module = importlib.import_module(script)
if hasattr(module, "DATABASE"):
    module.DATABASE = f"{module.DATABASE}_cmp_{label}"
if script == "export_buildings":
    fill = module.fill

    def fill_once(cluster, n):
        from sqlalchemy import create_engine, text
        url = cluster.url(role=measure.OWNER_ROLE, database=module.DATABASE)
        try:
            engine = create_engine(url)
            with engine.connect() as conn:
                held = conn.execute(text("SELECT count(*) FROM buildings")).scalar()
            engine.dispose()
        except Exception:
            held = None
        if held != n:
            fill(cluster, n)

    module.fill = fill_once
sys.argv = [script, *args]
module.main()
"""
"""Runs in the child, with the tree's packages first on the path."""

Figures = dict[str, float]


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise ValueError(f"no match for {pattern!r} in:\n{text[-3000:]}")
    return float(found.group(1))


def parse_tiles(out: str) -> Figures:
    figures: Figures = {}
    for label in ("dense", "typical"):
        block = out.split(f"{label} z14 building tiles:", 1)[1]
        for via in ("session", "token"):
            line = re.search(rf"through the app \({via}\): p50 ([\d.]+) ms, p95 ([\d.]+) ms", block)
            assert line is not None, block
            figures[f"{label} tile, {via}, p50 (ms)"] = float(line.group(1))
            figures[f"{label} tile, {via}, p95 (ms)"] = float(line.group(2))
        sql = re.search(r"SQL alone: p50 ([\d.]+) ms, p95 ([\d.]+) ms", block)
        assert sql is not None, block
        figures[f"{label} tile, SQL alone, p50 (ms)"] = float(sql.group(1))
        figures[f"{label} tile, SQL alone, p95 (ms)"] = float(sql.group(2))
    figures["304 revalidation p95 (ms)"] = _number(r"304 revalidation p95 ([\d.]+) ms", out)
    figures["map page HTML (ms)"] = _number(r"map page [\d.]+ KiB in ([\d.]+) ms", out)
    return figures


def parse_first_paint(out: str) -> Figures:
    # A request answered while the script was still reading `performance.timeOrigin` is
    # counted from 0 (the epoch) by the older first_paint.py: such a median is left out.
    figures = {
        "first vector drawn (ms)": _number(r"first vector drawn ([\d.]+) ms", out),
        "first vector-tile feature (ms)": _number(r"first vector-tile feature ([\d.]+) ms", out),
        "DOMContentLoaded (ms)": _number(r"DOMContentLoaded ([\d.]+) ms", out),
        "last building tile (ms)": _number(r"buildings tiles ([\d.]+) ms", out),
        "last household tile (ms)": _number(r"households tiles ([\d.]+) ms", out),
        "coverage report answered (ms)": _number(r"; coverage ([\d.]+) ms", out),
        "last GeoJSON layer (ms)": _number(r"GeoJSON layers ([\d.]+) ms", out),
    }
    return {key: value for key, value in figures.items() if value < 1e9}


def parse_coverage(out: str) -> Figures:
    return {
        "fetch_inputs (s)": _number(r"median read: ([\d.]+) s", out),
        "coverage_report with items (s)": _number(r"median computed: ([\d.]+) s", out),
        "wangge coverage --format json (s)": _number(r"median cli: ([\d.]+) s", out),
    }


def _json_tail(out: str) -> dict[str, object]:
    data, _ = json.JSONDecoder().raw_decode(out[out.index("{\n") :])
    assert isinstance(data, dict), data
    return data


def _get(data: object, *keys: str) -> float:
    for key in keys:
        assert isinstance(data, dict), data
        data = data[key]
    assert isinstance(data, (int, float)), data
    return float(data)


def parse_import(out: str) -> Figures:
    data = _json_tail(out)
    return {
        "wangge import buildings (s)": _get(data, "median_seconds", "wangge"),
        "re-import, all unchanged (s)": _get(data, "reimport_unchanged", "seconds"),
        "ogr2ogr -f PostgreSQL, same code both sides (s)": _get(data, "median_seconds", "ogr2ogr"),
        "wangge import peak RSS (MiB)": _get(data, "median_peak_rss_mib", "wangge"),
    }


def parse_export(out: str) -> Figures:
    data = _json_tail(out)
    return {
        "wangge export buildings (s)": _get(data, "wangge", "median_seconds"),
        "export_to_file, library call (s)": _get(data, "library", "median_seconds"),
        "ogr2ogr -f GeoJSON, same code both sides (s)": _get(data, "ogr2ogr", "median_seconds"),
        "wangge export peak RSS (MB)": _get(data, "wangge", "peak_rss_mb"),
    }


PARSERS: dict[str, Callable[[str], Figures]] = {
    "tiles": parse_tiles,
    "first_paint": parse_first_paint,
    "coverage_report": parse_coverage,
    "import_buildings": parse_import,
    "export_buildings": parse_export,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs=2, type=Path, help="two checkouts: before, after")
    parser.add_argument("--labels", nargs=2, default=["before", "after"])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--import-buildings", type=int, default=100_000)
    parser.add_argument("--export-buildings", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--warmup", type=int, default=1, help="rounds run first and not counted (cold caches)"
    )
    parser.add_argument("--only", nargs="*", choices=sorted(PARSERS), default=sorted(PARSERS))
    parser.add_argument("--out", type=Path, help="where the outputs go (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args()

    trees = [tree.resolve() for tree in args.trees]
    labels: list[str] = list(args.labels)
    out_dir: Path = args.out or Path(tempfile.mkdtemp(prefix="wangge-bench-compare-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"outputs in {out_dir}", flush=True)
    town = f"wangge_bench_cmp_town_{args.households}_{args.seed}"
    python = sys.executable

    def child(tree: Path, label: str, script: str, *script_args: str) -> str:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        command = [python, "-c", BOOTSTRAP, str(tree), label, town, script, *script_args]
        for attempt in range(3):
            done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True)
            if done.returncode == 0:
                return done.stdout + "\n" + done.stderr
            # Other sessions' GRANTs on the shared roles ("tuple concurrently updated").
            print(f"{label} {script} failed (attempt {attempt + 1}): {done.stderr[-600:]}")
        raise SystemExit(f"{label} {script} failed:\n{done.stdout}\n{done.stderr[-4000:]}")

    map_args = ["--households", str(args.households), "--seed", str(args.seed)]
    arguments = {
        "tiles": [*map_args, "--runs", "1"],
        "first_paint": [*map_args, "--runs", "1"],
        "coverage_report": [*map_args, "--runs", "1"],
        "import_buildings": ["--buildings", str(args.import_buildings), "--runs", "1"],
        "export_buildings": ["--buildings", str(args.export_buildings), "--runs", "1", "--keep"],
    }
    print(f"load average at the start: {os.getloadavg()}", flush=True)
    if {"tiles", "first_paint", "coverage_report"} & set(args.only):
        started = time.perf_counter()
        child(trees[0], labels[0], "load-town", str(args.households), str(args.seed))
        print(f"town {town} ready in {time.perf_counter() - started:.0f} s", flush=True)

    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    for script in args.only:
        per: dict[str, dict[str, list[float]]] = {label: {} for label in labels}
        for round_ in range(-args.warmup, args.rounds):
            for tree, label in zip(trees, labels, strict=True):
                load = os.getloadavg()[0]
                out = child(tree, label, script, *arguments[script])
                if round_ < 0:
                    print(f"{script} warm-up {label} done", flush=True)
                    continue
                (out_dir / f"{script}-{label}-{round_ + 1}.txt").write_text(out, encoding="utf-8")
                figures = PARSERS[script](out)
                for key, value in figures.items():
                    per[label].setdefault(key, []).append(value)
                shown = "; ".join(f"{k} {v:g}" for k, v in figures.items())
                print(f"{script} round {round_ + 1} {label} (load {load:.1f}): {shown}", flush=True)
        results[script] = per
        before, after = (per[label] for label in labels)
        for key in [key for key in before if key in after]:
            b, a = statistics.median(before[key]), statistics.median(after[key])
            print(f"  {script}: {key}: {labels[0]} {b:g} {labels[1]} {a:g} ratio {a / b:.3f}")
    print(f"load average at the end: {os.getloadavg()}", flush=True)
    summary = {
        "trees": [str(t) for t in trees],
        "labels": labels,
        "households": args.households,
        "import_buildings": args.import_buildings,
        "export_buildings": args.export_buildings,
        "rounds": args.rounds,
        "results": results,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if not args.keep:
        drop = (
            "import sys; sys.path.insert(0, sys.argv[1] + '/scripts/bench'); import measure\n"
            "cluster = measure.LocalCluster(measure.Settings.from_env().home)\n"
            "for name in sys.argv[2:]: cluster.drop_database(name)\n"
        )
        names = [town]
        for label in labels:
            names += [f"wangge_bench_cmp_{label}_{args.households}_{args.seed}",
                      f"wangge_bench_export_cmp_{label}"]  # fmt: skip
        subprocess.run([python, "-c", drop, str(trees[1]), *names], check=True,
                       env={**os.environ, "PYTHONPATH": str(trees[1])})  # fmt: skip


if __name__ == "__main__":
    main()

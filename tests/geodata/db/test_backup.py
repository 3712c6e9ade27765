"""The backup drill: the sample town backed up, then changed, then restored into a fresh cluster
and into an empty database; every table's rows and checksum, and a pseudonymous export, as they
were when backed up."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, Engine, text

from geodata.cli import main
from geodata.db import make_engine
from geodata.db.backup import row_counts
from geodata.db.cluster import OWNER_ROLE, LocalCluster
from tests.conftest import TestDatabase
from tests.private_cluster import private_home


def _env(database: TestDatabase, home: Path) -> dict[str, str]:
    return {
        "WANGGE_DATABASE_URL": database.settings.database_url or "",
        "WANGGE_ADMIN_DATABASE_URL": database.settings.admin_database_url or "",
        "WANGGE_HOME": str(home),
    }


def _embedded(home: Path) -> dict[str, str]:
    return {"WANGGE_DATABASE_URL": "", "WANGGE_ADMIN_DATABASE_URL": "", "WANGGE_HOME": str(home)}


def _wangge(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def checksums(conn: Connection) -> dict[str, tuple[int, str]]:
    """Every table's row count and the MD5 of its rows' text, in a fixed order."""
    quote = conn.dialect.identifier_preparer.quote
    found = {}
    for table in row_counts(conn):
        name = quote(table)
        found[table] = conn.execute(
            text(
                f"SELECT count(*), md5(coalesce(string_agg(md5(t::text), ',' "  # noqa: S608 (names from pg_tables, quoted)
                f"ORDER BY md5(t::text)), '')) FROM {name} t"
            )
        ).one()
    return {table: (int(n), str(digest)) for table, (n, digest) in found.items()}


def _checksums_of(engine: Engine) -> dict[str, tuple[int, str]]:
    with engine.connect() as conn:
        return checksums(conn)


def _export(env: dict[str, str], out: Path) -> list[bytes]:
    """The pseudonymous residents' CSV: its header, then its rows sorted (a whole export
    streams in table order, which two databases with other statistics may plan apart)."""
    code, _, err = _wangge(
        env, "export", "residents", "--privacy", "pseudonymous", "--format", "csv", "-o", str(out)
    )
    assert code == 0, err
    header, *rows = out.read_bytes().splitlines()
    return [header, *sorted(rows)]


@pytest.fixture
def restored_home() -> Iterator[Path]:
    with private_home() as home:
        target = home / "restored"
        try:
            yield target
        finally:
            LocalCluster(target).down(mode="immediate")


def test_backup_drill_on_the_sample_town(
    own_sample_db: TestDatabase, tmp_path: Path, restored_home: Path
) -> None:
    database = own_sample_db
    source_home = database.settings.home
    env = _env(database, source_home)
    exported_before = _export(env, tmp_path / "before.csv")  # audited: before the checksums
    before = _checksums_of(database.owner)
    backup = tmp_path / "town.wangge-backup"

    code, out, err = _wangge(env, "db", "backup", "-o", str(backup), "--format", "json")
    assert code == 0, err
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert "personal data" in err
    made = orjson.loads(out)
    assert made["personal_data"] is True
    assert set(made["keys"]) == {"secret_key", "export.key"}
    assert made["rows"] == sum(n for n, _ in before.values())

    with database.owner.begin() as conn:  # the town moves on after the backup
        conn.execute(text("DELETE FROM visits WHERE id IN (SELECT id FROM visits LIMIT 50)"))
        conn.execute(text("UPDATE residents SET fever = NOT fever WHERE id % 7 = 0"))
    assert _checksums_of(database.owner) != before

    code, out, err = _wangge(
        _embedded(restored_home), "db", "restore", str(backup), "--into", str(restored_home),
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    assert orjson.loads(out)["counts_match"] is True
    for key in ("secret_key", "export.key"):
        path = restored_home / key
        assert path.read_bytes() == (source_home / key).read_bytes()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    restored = make_engine(LocalCluster(restored_home).url(role=OWNER_ROLE))
    try:
        after = _checksums_of(restored)
    finally:
        restored.dispose()
    assert after == before
    assert _export(_embedded(restored_home), tmp_path / "after.csv") == exported_before

    # the same file into an empty database at a URL, the keys into another WANGGE_HOME
    cluster = LocalCluster(source_home)
    empty = f"wangge_restore_{os.getpid()}"
    cluster.drop_database(empty)
    cluster.ensure_database(empty)
    try:
        url = cluster.url(role=OWNER_ROLE, database=empty)
        keys_home = tmp_path / "keys-home"
        code, out, err = _wangge(
            {"WANGGE_HOME": str(keys_home)}, "db", "restore", str(backup), "--url",
            url.render_as_string(hide_password=False), "--format", "json",
        )  # fmt: skip
        assert code == 0, err
        assert orjson.loads(out)["counts_match"] is True
        engine = make_engine(url)
        try:
            assert _checksums_of(engine) == before
        finally:
            engine.dispose()
        assert (keys_home / "export.key").read_bytes() == (source_home / "export.key").read_bytes()
        again = _wangge(
            {"WANGGE_HOME": str(keys_home)}, "db", "restore", str(backup), "--url",
            url.render_as_string(hide_password=False),
        )  # fmt: skip
        assert again[0] == 1
        assert "not empty" in again[2]
    finally:
        cluster.drop_database(empty)


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(b"not a tar file at all")
    code, _, err = _wangge(
        {"WANGGE_HOME": str(tmp_path)}, "db", "restore", str(bogus), "--into", str(tmp_path / "x")
    )
    assert code == 1
    assert "not a readable wangge backup" in err
    code, _, err = _wangge({"WANGGE_HOME": str(tmp_path)}, "db", "restore", str(bogus))
    assert code == 2

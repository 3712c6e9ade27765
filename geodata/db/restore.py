"""`wangge db restore`: a backup into a new embedded cluster (its roles made anew) or into an
empty database at a URL, and the keys it holds into WANGGE_HOME."""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import URL

from geodata.db import make_engine
from geodata.db.backup import (
    DUMP,
    FORMAT,
    HOME_KEY_FILES,
    KEYS_DIR,
    MANIFEST,
    BackupError,
    libpq,
    row_counts,
)
from geodata.db.cluster import DATABASE, OWNER_ROLE, SUPERUSER, LocalCluster, _pg_bindir


def _present_extensions(url: URL) -> set[str]:
    """Extensions the target has already (a new cluster's database is made with PostGIS): their
    entries are left out of the restore, since only their owner may create or comment them."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT extname FROM pg_extension")).scalars())
    finally:
        engine.dispose()


def _skipped(line: str, extensions: set[str]) -> bool:
    if "postgis" in extensions and "TABLE DATA public spatial_ref_sys " in line + " ":
        return True  # PostGIS's own rows, already there (wangge adds no SRID of its own)
    return any(
        f"EXTENSION - {name} " in line + " " or f"COMMENT - EXTENSION {name} " in line + " "
        for name in extensions
    )


@dataclass(frozen=True)
class Restored:
    target: str
    tables: dict[str, int]
    expected: dict[str, int]
    keys: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return self.tables == self.expected


def read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile(MANIFEST)
    except KeyError:
        member = None
    if member is None:
        raise BackupError("not a wangge backup: no manifest")
    manifest: dict[str, Any] = orjson.loads(member.read())
    if manifest.get("format") != FORMAT:
        raise BackupError("not a wangge backup: unknown format")
    return manifest


def _unpack(backup: Path, work: Path) -> tuple[dict[str, Any], Path, dict[str, bytes]]:
    """The manifest, the dump (extracted under `work`) and the keys of a backup file."""
    try:
        archive = tarfile.open(backup, mode="r:")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{backup}: not a readable wangge backup") from exc
    with archive:
        manifest = read_manifest(archive)
        member = archive.extractfile(DUMP)
        if member is None:
            raise BackupError(f"{backup}: no database dump inside")
        dump = work / DUMP
        with dump.open("wb") as out:
            while chunk := member.read(1 << 20):
                out.write(chunk)
        keys: dict[str, bytes] = {}
        for name in manifest.get("keys", []):
            if name not in HOME_KEY_FILES:
                raise BackupError(f"{backup}: unexpected key {name!r}")
            found = archive.extractfile(f"{KEYS_DIR}/{name}")
            if found is not None:
                keys[name] = found.read()
    return manifest, dump, keys


def _pg_restore(dump: Path, url: URL, *extra: str) -> None:
    args, env = libpq(url)
    listed = subprocess.run(
        [str(_pg_bindir() / "pg_restore"), "--list", str(dump)],
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        raise BackupError(f"pg_restore could not read the dump: {listed.stderr.strip()}")
    present = _present_extensions(url)
    entries = [line for line in listed.stdout.splitlines() if not _skipped(line, present)]
    toc = dump.with_suffix(".list")
    toc.write_text("\n".join(entries) + "\n")
    done = subprocess.run(
        [
            str(_pg_bindir() / "pg_restore"),
            "--exit-on-error",
            "--single-transaction",
            "--use-list",
            str(toc),
            *extra,
            *args,
            str(dump),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing restored): {done.stderr.strip()}")


def _install_keys(keys: dict[str, bytes], home: Path) -> tuple[str, ...]:
    """The backup's keys into `home` (0600). A different key already there is refused: it would
    change every pseudonym, or sign sessions the restored database does not know."""
    home.mkdir(parents=True, exist_ok=True)
    for name, data in keys.items():
        path = home / name
        if path.exists() and path.read_bytes() != data:
            raise BackupError(f"{path} holds another key than the backup: move it away first")
    for name, data in keys.items():
        path = home / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
    return tuple(sorted(keys))


def _counts(url: URL) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            return row_counts(conn)
    finally:
        engine.dispose()


def restore_into(backup: Path, home: Path) -> Restored:
    """A new embedded cluster under `home` (roles and passwords made anew) holding the backup."""
    cluster = LocalCluster(home)
    if cluster.data_dir.exists() or cluster.secrets_file.exists():
        raise BackupError(f"{home} already holds a cluster: restore into a new directory")
    with tempfile.TemporaryDirectory(prefix="wangge-restore-") as work:
        manifest, dump, keys = _unpack(backup, Path(work))
        for name in keys:
            if (home / name).exists():
                raise BackupError(f"{home / name} exists: restore into a new directory")
        cluster.up()
        _pg_restore(dump, cluster.url(role=SUPERUSER))
    installed = _install_keys(keys, home)
    tables = _counts(cluster.url(role=OWNER_ROLE, database=DATABASE))
    return Restored(str(cluster.data_dir), tables, dict(manifest["tables"]), installed)


def restore_url(backup: Path, url: URL, home: Path) -> Restored:
    """Into the empty database at `url` (tables owned by its user; the server must know the
    app's roles, as migrations need them too), and the keys into `home`."""
    with tempfile.TemporaryDirectory(prefix="wangge-restore-") as work:
        manifest, dump, keys = _unpack(backup, Path(work))
        for name, data in keys.items():
            path = home / name
            if path.exists() and path.read_bytes() != data:
                raise BackupError(f"{path} holds another key than the backup: move it away first")
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                if row_counts(conn):
                    raise BackupError("the target database is not empty: restore into an empty one")
        finally:
            engine.dispose()
        _pg_restore(dump, url, "--no-owner")
    installed = _install_keys(keys, home)
    return Restored(
        url.render_as_string(hide_password=True), _counts(url), dict(manifest["tables"]), installed
    )

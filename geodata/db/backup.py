"""`wangge db backup`: one file holding the database (pg_dump's custom format) and the keys
under WANGGE_HOME (session signing, export pseudonyms), written 0600 under a temporary name and
renamed when complete. It holds personal data."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from geodata.db.cluster import _pg_bindir
from geodata.errors import WanggeError

FORMAT = "wangge-backup"
VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
KEYS_DIR = "keys"
HOME_KEY_FILES = ("secret_key", "export.key")
"""The keys kept under WANGGE_HOME that a restore needs: the session and CSRF signing key and
the export pseudonym key (`geodata.exports.privacy.KEY_FILE`). The cluster's passwords
(`secrets.json`) are not among them: a restored cluster makes its own."""

PERSONAL_DATA_NOTE = (
    "This backup holds personal data (names, ID numbers, phones, health and visits) and the "
    "keys that make pseudonyms: keep it 0600, encrypted at rest, and only as long as "
    "retention allows."
)


class BackupError(WanggeError):
    """A backup could not be written, or a file is not a wangge backup."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size_bytes: int
    tables: dict[str, int]
    keys: tuple[str, ...]
    revision: str | None


def libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore connection arguments for `url` (socket or host), and the password in
    the environment (never on the command line, where `ps` shows it)."""
    host = url.query.get("host") or url.host
    port = url.query.get("port") or (str(url.port) if url.port else None)
    args: list[str] = []
    if host:
        args += ["--host", str(host)]
    if port:
        args += ["--port", str(port)]
    if url.username:
        args += ["--username", url.username]
    if url.database:
        args += ["--dbname", url.database]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def row_counts(conn: Connection) -> dict[str, int]:
    """Every table of the public schema with its row count (as the owner: past row security)."""
    names = conn.execute(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'spatial_ref_sys' ORDER BY tablename"
        )
    ).scalars()
    quote = conn.dialect.identifier_preparer.quote
    return {
        name: int(conn.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one())  # noqa: S608 (names from pg_tables, quoted)
        for name in names
    }


def _revision(conn: Connection) -> str | None:
    if conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
        return None
    found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(found) if found is not None else None


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def write_backup(owner: Engine, url: URL, home: Path, out: Path) -> Backup:
    """Dump the database at `url` (the owner role's) and the keys under `home` into `out`."""
    with owner.connect() as conn:
        tables = row_counts(conn)
        revision = _revision(conn)
    keys = tuple(name for name in HOME_KEY_FILES if (home / name).is_file())
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wangge-backup-") as work:
        dump = Path(work) / DUMP
        args, env = libpq(url)
        done = subprocess.run(
            [str(_pg_bindir() / "pg_dump"), "--format=custom", "--file", str(dump), *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "revision": revision,
            "tables": tables,
            "keys": list(keys),
            "personal_data": True,
            "note": PERSONAL_DATA_NOTE,
        }
        partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as archive:
                _add(archive, MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
                archive.add(str(dump), arcname=DUMP, filter=_private)
                for name in keys:
                    _add(archive, f"{KEYS_DIR}/{name}", (home / name).read_bytes())
                archive.close()
                raw.flush()
                os.fsync(raw.fileno())
            partial.chmod(0o600)
            partial.replace(out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return Backup(out, out.stat().st_size, tables, keys, revision)


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode = 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info

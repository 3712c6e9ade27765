"""The embedded default database: a private PostgreSQL + PostGIS cluster under WANGGE_HOME."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from geodata.errors import ClusterError

DATABASE = "wangge"
OWNER_ROLE = "wangge_owner"
APP_ROLE = "wangge_app"
SUPERUSER = "postgres"
TOWN_ROLE = "wangge_town"
"""NOLOGIN role whose row policies see every grid; the app role switches to it with
SET LOCAL ROLE for town-wide users. The app role is NOINHERIT, so it never sees every
grid without that switch."""


def _pg_bindir() -> Path:
    """The newest PostgreSQL server binaries on the machine (or WANGGE_PG_BINDIR)."""
    forced = os.environ.get("WANGGE_PG_BINDIR")
    if forced:
        return Path(forced)
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ClusterError(
        "no PostgreSQL server found: install postgresql-15 and postgresql-15-postgis-3"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Secrets:
    """Passwords and port of one cluster, kept in WANGGE_HOME/secrets.json (mode 0600)."""

    port: int
    superuser_password: str
    owner_password: str
    app_password: str


class LocalCluster:
    """A PostgreSQL cluster that wangge owns: socket-only, in a directory of its own."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.data_dir = home / "pgdata"
        self.socket_dir = home / "run"
        self.log_file = home / "run" / "postgres.log"
        self.secrets_file = home / "secrets.json"
        self.bindir = _pg_bindir()

    # -- who runs the server -------------------------------------------------
    @property
    def _run_as(self) -> pwd.struct_passwd | None:
        """PostgreSQL refuses root: as root the server runs as the `postgres` user."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ClusterError("running as root but there is no `postgres` system user") from exc

    def _pg(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = self._run_as
        return subprocess.run(
            [str(self.bindir / tool), *args],
            check=check,
            capture_output=True,
            text=True,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
            cwd="/",
        )

    def _chown(self, path: Path) -> None:
        user = self._run_as
        if user:
            os.chown(path, user.pw_uid, user.pw_gid)

    # -- secrets -------------------------------------------------------------
    def _secrets(self) -> Secrets:
        try:
            data = orjson.loads(self.secrets_file.read_bytes())
        except FileNotFoundError as exc:
            raise ClusterError(
                f"{self.secrets_file}: cluster not initialised; run `wangge db up`"
            ) from exc
        return Secrets(**data)

    # -- state ---------------------------------------------------------------
    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists() and self.secrets_file.exists()

    @property
    def running(self) -> bool:
        if not self.initialised:
            return False
        return self._pg("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0

    def url(self, *, role: str = APP_ROLE, database: str = DATABASE) -> URL:
        """SQLAlchemy URL for a role of this cluster, over its private unix socket."""
        s = self._secrets()
        password = {
            APP_ROLE: s.app_password,
            OWNER_ROLE: s.owner_password,
            SUPERUSER: s.superuser_password,
        }[role]
        return URL.create(
            "postgresql+psycopg",
            username=role,
            password=password,
            database=database,
            query={"host": str(self.socket_dir), "port": str(s.port)},
        )

    def _connect(self, *, role: str = SUPERUSER, database: str = "postgres") -> psycopg.Connection:
        s = self._secrets()
        password = {SUPERUSER: s.superuser_password, OWNER_ROLE: s.owner_password}[role]
        return psycopg.connect(
            host=str(self.socket_dir),
            port=s.port,
            user=role,
            password=password,
            dbname=database,
            autocommit=True,
        )

    # -- lifecycle -----------------------------------------------------------
    def init(self) -> None:
        """Create the data directory, the superuser and the configuration (once)."""
        if self.initialised:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o755)  # the postgres user must traverse it
        for d in (self.data_dir, self.socket_dir):
            if d.exists() and not (d / "PG_VERSION").exists() and d == self.data_dir:
                shutil.rmtree(d)
            d.mkdir(mode=0o700, exist_ok=True)
            self._chown(d)
        s = Secrets(
            port=_free_port(),
            superuser_password=secrets.token_urlsafe(24),
            owner_password=secrets.token_urlsafe(24),
            app_password=secrets.token_urlsafe(24),
        )
        pwfile = self.socket_dir / ".pwfile"
        pwfile.write_text(s.superuser_password + "\n")
        pwfile.chmod(0o600)
        self._chown(pwfile)
        try:
            self._pg(
                "initdb",
                "-D", str(self.data_dir),
                "-U", SUPERUSER,
                "--pwfile", str(pwfile),
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "-E", "UTF8",
                "--locale=C.UTF-8",
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            raise ClusterError(f"initdb failed: {exc.stderr.strip()}") from exc
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# wangge: private cluster, reachable only through its own socket\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                f"port = {s.port}\n"
                "unix_socket_permissions = 0770\n"
                "jit = off\n"
                "shared_buffers = 256MB\n"
                "work_mem = 32MB\n"
                "maintenance_work_mem = 256MB\n"
                "max_wal_size = 2GB\n"
            )
        self.secrets_file.write_bytes(orjson.dumps(s.__dict__))
        self.secrets_file.chmod(0o600)

    def up(self) -> None:
        """Start the cluster (initialising it first); harmless when already running."""
        self.init()
        if not self.running:
            try:
                self._pg(
                    "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
                    "-l", str(self.log_file),
                )  # fmt: skip
            except subprocess.CalledProcessError as exc:
                tail = ""
                if self.log_file.exists():
                    tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-5:])
                raise ClusterError(
                    f"could not start PostgreSQL: {exc.stderr.strip()}\n{tail}"
                ) from exc
        self.ensure_database(DATABASE)

    def down(self, *, mode: str = "fast") -> None:
        """Stop the cluster; harmless when it is not running. `mode` is pg_ctl's: `fast`
        (roll back sessions, then a clean shutdown) or `immediate` (a crash, recovered from
        the WAL at the next start: what the fault drills use)."""
        if mode not in ("smart", "fast", "immediate"):
            raise ClusterError(f"unknown shutdown mode {mode!r}")
        if self.running:
            self._pg("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data_dir))

    # -- roles and databases -------------------------------------------------
    def ensure_roles(self) -> None:
        s = self._secrets()
        with self._connect() as conn:
            # The owner loads and administers data, so it bypasses row security; the app
            # role never does.
            for role, password, extra in (
                (OWNER_ROLE, s.owner_password, "CREATEDB BYPASSRLS"),
                (APP_ROLE, s.app_password, "NOCREATEDB NOBYPASSRLS NOINHERIT"),
            ):
                exists = conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)
                ).fetchone()
                verb = "ALTER" if exists else "CREATE"
                conn.execute(
                    sql.SQL(
                        "{} ROLE {} LOGIN NOSUPERUSER NOCREATEROLE " + extra + " PASSWORD {}"
                    ).format(sql.SQL(verb), sql.Identifier(role), sql.Literal(password))
                )
            if not conn.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (TOWN_ROLE,)
            ).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(TOWN_ROLE)))
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(
                    sql.Identifier(TOWN_ROLE), sql.Identifier(APP_ROLE)
                )
            )
            conn.execute(sql.SQL("ALTER ROLE {} SET jit = off").format(sql.Identifier(APP_ROLE)))

    def ensure_database(self, name: str, *, template: str | None = None) -> None:
        """Create a database owned by the owner role, with PostGIS, if missing: empty, or a
        copy of `template` (a database nobody is connected to while it is copied)."""
        self.ensure_roles()
        with self._connect() as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                create = sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(OWNER_ROLE)
                )
                if template is not None:
                    create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
                conn.execute(create)
        with self._connect(database=name) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(name), sql.Identifier(APP_ROLE)
                )
            )

    def drop_database(self, name: str) -> None:
        with self._connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def postgis_version(self) -> str | None:
        if not self.running:
            return None
        with self._connect(database=DATABASE) as conn:
            row = conn.execute("SELECT postgis_lib_version()").fetchone()
        return str(row[0]) if row else None

    def status(self) -> dict[str, object]:
        running = self.running
        url = self.url().render_as_string(hide_password=True) if self.initialised else None
        return {
            "embedded": True,
            "running": running,
            "url": url,
            "postgis_version": self.postgis_version() if running else None,
            "data_dir": str(self.data_dir),
            "socket_dir": str(self.socket_dir),
        }

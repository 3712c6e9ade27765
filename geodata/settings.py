"""Frozen settings read from the environment (WANGGE_*) in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_home() -> Path:
    """Where the embedded cluster lives: /var/lib/wangge as root, else the XDG data dir."""
    if os.geteuid() == 0:
        return Path("/var/lib/wangge")
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "wangge"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything wangge reads from its environment."""

    database_url: str | None = None
    admin_database_url: str | None = None
    home: Path
    env: str = "production"
    port: int = 5000
    user: str | None = None
    base_url: str | None = None
    basemap_url: str | None = None
    """An XYZ tile URL template for the map's basemap; None: no basemap."""

    @property
    def public_url(self) -> str:
        """Where people reach the web app (activation links point there)."""
        return (self.base_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    @property
    def embedded(self) -> bool:
        """True when wangge runs its own local PostGIS cluster."""
        return self.database_url is None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        home = env.get("WANGGE_HOME")
        return cls(
            database_url=env.get("WANGGE_DATABASE_URL") or None,
            admin_database_url=env.get("WANGGE_ADMIN_DATABASE_URL") or None,
            home=Path(home) if home else default_home(),
            env=env.get("WANGGE_ENV", "production"),
            port=int(env.get("WANGGE_PORT", "5000")),
            user=env.get("WANGGE_USER") or None,
            base_url=env.get("WANGGE_BASE_URL") or None,
            basemap_url=env.get("WANGGE_BASEMAP_URL") or None,
        )

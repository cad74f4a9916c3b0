"""Where the database is, and which schema this program writes: importable
without SQLAlchemy, so the first screen can be read before it loads
(``store.glance``). ``store.db`` re-exports these names."""

from __future__ import annotations

import os
from pathlib import Path

# The schema this program writes; store.db.HEAD_REVISION is the Alembic
# revision that makes it (store/migrations/versions/; a test keeps the two in step).
SCHEMA_VERSION = 8
ENV_VAR = "INTEGRATIONS_ADMIN_DB"
APP_NAME = "integrations-admin"


def default_sqlite_path() -> Path:
    """The SQLite file used when no URL is given: in the user data directory."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "integrations-admin.db"


def resolve_url(url: str | None) -> str:
    """``--db`` wins, then ``INTEGRATIONS_ADMIN_DB``, then the default SQLite file."""
    url = url or os.environ.get(ENV_VAR) or ""
    if not url:
        return f"sqlite:///{default_sqlite_path()}"
    if "://" not in url:  # a bare path means a SQLite file
        return f"sqlite:///{Path(url).expanduser().absolute()}"
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def server_of(url: str | None) -> str:
    """The host (and port, when given) of a server's URL, as the first screen
    names it ("Connecting to db.example.com:5432..."): no user, no password, no
    database; without SQLAlchemy (importing it takes longer than a first paint)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(resolve_url(url))
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a port that is not a number: the store's words come later
        return "the database server"
    if not host:
        return "the database server"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{host}:{port}" if port else host

"""Where the database is, and which schema this program writes: importable
without SQLAlchemy, so the first screen can be read before it loads
(``store.glance``). ``store.db`` re-exports these names."""

from __future__ import annotations

import os
from pathlib import Path

# The schema this program writes; store.db.HEAD_REVISION is the Alembic
# revision that makes it (store/migrations/versions/; a test keeps the two in step).
SCHEMA_VERSION = 9
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


# PostgreSQL connections: what ends a hang (README, Configuration). Each is
# overridable in the URL's query (``?statement_timeout=20s&tcp_user_timeout=10000``).
PG_DEFAULTS: dict[str, str] = {
    "connect_timeout": "5",  # seconds to open a connection
    # Kernel checks of an idle connection: a server gone silent is noticed in
    # about idle + interval x count seconds instead of the kernel's two hours.
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "2",
    # Data sent and not acknowledged for this long (ms) ends the connection
    # (a dropped VPN during a call): not the kernel's 15 minutes of retries.
    "tcp_user_timeout": "5000",
}
# Server settings, sent with each new connection (``options=-c name=value``).
PG_SERVER_DEFAULTS: dict[str, str] = {"statement_timeout": "5s"}
_PG_SERVER_SETTINGS = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")


def pg_settings(query: dict, lock_ms: int) -> tuple[dict[str, str], dict]:
    """The driver's connection arguments for a PostgreSQL URL whose query is
    ``query``, and what is left of that query: the defaults above, each one the
    URL names replaced by its value (used by ``store.db`` and, without
    SQLAlchemy, by ``store.glance``)."""
    query = dict(query)
    server = dict(PG_SERVER_DEFAULTS, lock_timeout=f"{lock_ms}ms")
    for name in _PG_SERVER_SETTINGS:
        if name in query:
            server[name] = str(query.pop(name))
    args = {k: v for k, v in PG_DEFAULTS.items() if k not in query}
    options = " ".join(f"-c {k}={v}" for k, v in server.items())
    if "options" in query:  # the URL's own options come after ours: theirs win
        options = f"{options} {query.pop('options')}"
    args["options"] = options
    return args, query


def cannot_reach(server: str, exc: BaseException) -> str:
    """What the program says of a server it cannot reach (``store.db`` and
    ``store.glance``): the driver's first line, unless it could name a password."""
    first = (str(exc).splitlines() or [""])[0].lower()
    detail = f" ({first[:120]})" if first and "password" not in first else ""
    return (
        f"Cannot reach the database at {server}{detail}. Check that the server is "
        "running and that the network reaches it."
    )

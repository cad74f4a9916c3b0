"""Opening a store from a URL: SQLite by default, PostgreSQL for teams.

Every write runs in one transaction that first takes the account's write lock
(``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` of the account row on
PostgreSQL), so limits hold when two administrators hit them at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from . import models
from .errors import SchemaTooNew, StoreUnavailable

SCHEMA_VERSION = 1
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


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 15000")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _sqlite_begin(conn) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """An open database. Thread-safe: each call takes its own session."""

    def __init__(self, url: str | None = None, *, echo: bool = False) -> None:
        self.url = resolve_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.path: Path | None = None
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                self.path = Path(parsed.database)
                self.path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                self.url, echo=echo, connect_args={"check_same_thread": False, "timeout": 15}
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(
                self.url, echo=echo, pool_pre_ping=True, connect_args={"connect_timeout": 5}
            )
        self.engine: Engine = engine
        self._write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self.created = False

    @property
    def display_location(self) -> str:
        """Where the data lives, without any password."""
        if self.path is not None:
            return str(self.path)
        return make_url(self.url).render_as_string(hide_password=True)

    # -- schema ---------------------------------------------------------------

    def prepare(self) -> None:
        """Create the schema on a new database; refuse one newer than this program."""
        from sqlalchemy import inspect

        with self._guard():
            version = None
            if inspect(self.engine).has_table("meta"):
                with Session(self.engine) as s:
                    row = s.get(models.Meta, "schema_version")
                    version = int(row.value) if row else None
            if version is not None and version > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"This database was written by a newer integrations-admin (schema "
                    f"{version}; this program knows {SCHEMA_VERSION}). Upgrade the program; "
                    "the database was left untouched."
                )
            if version is None:
                SQLModel.metadata.create_all(self.engine)
                with Session(self._write_engine) as s, s.begin():
                    if s.get(models.Meta, "schema_version") is None:
                        s.add(models.Meta(key="schema_version", value=str(SCHEMA_VERSION)))
                        self.created = True

    # -- sessions ---------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError:
            raise
        except OperationalError as exc:
            raise StoreUnavailable(_explain(exc, self)) from None
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreUnavailable(_explain(exc, self)) from None
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (its objects are detached when it closes)."""
        with self._guard(), Session(self.engine, expire_on_commit=False) as s:
            yield s

    @contextmanager
    def write(self, account_id: int | None = None) -> Iterator[Session]:
        """One write transaction holding the account's write lock; commits on success."""
        with (
            self._guard(),
            Session(self._write_engine, expire_on_commit=False) as s,
            s.begin(),
        ):
            if account_id is not None and not self.is_sqlite:
                s.exec(
                    select(models.Account.id)
                    .where(models.Account.id == account_id)
                    .with_for_update()
                )
            yield s

    def dispose(self) -> None:
        self.engine.dispose()


def _explain(exc: Exception, store: Store) -> str:
    text = str(getattr(exc, "orig", exc)).lower()
    where = store.display_location
    if "readonly" in text or "read-only" in text:
        return f"The database at {where} is read-only: check the file's permissions."
    if ("disk" in text and "full" in text) or "no space" in text:
        return f"The disk holding {where} is full: free some space and try again."
    if "locked" in text:
        return "The database is busy with another administrator's change; try again."
    if "unable to open" in text:
        return f"Cannot open the database file {where}: check the path and its permissions."
    if store.is_sqlite:
        return f"The database at {where} cannot be used: {text.splitlines()[0]}"
    return (
        f"Cannot reach the database server at {where}. Check that it is running; "
        "your next action will try again."
    )

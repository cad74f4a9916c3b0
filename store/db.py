"""Opening a store from a URL: SQLite by default, PostgreSQL for teams.

Every write runs in one transaction that first takes the account's write lock
(``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` of the account row on
PostgreSQL), so limits hold when two administrators hit them at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from . import models, trace
from .errors import DatabaseDamaged, NoDatabase, SchemaTooNew, StoreUnavailable
from .location import APP_NAME, ENV_VAR, SCHEMA_VERSION, default_sqlite_path, resolve_url

__all__ = [
    "APP_NAME",
    "ENV_VAR",
    "HEAD_REVISION",
    "SCHEMA_VERSION",
    "Store",
    "default_sqlite_path",
    "describe_location",
    "resolve_url",
]

# The Alembic revision that makes SCHEMA_VERSION (store/migrations/versions/; a
# test keeps the two in step). SCHEMA_VERSION, ENV_VAR, APP_NAME,
# default_sqlite_path and resolve_url live in location.py, importable without
# SQLAlchemy (the first screen reads the database before it loads).
HEAD_REVISION = "0005"


# Alembic's own bookkeeping table, written here for a new database so that
# creating one does not need to import Alembic.
_ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
_OUR_TABLES = frozenset(SQLModel.metadata.tables)
_SCHEMA_LOCK_KEY = 0x1A_5C_4E_3A  # pg_advisory_xact_lock key: "integrations-admin schema"


def _schema_version(conn: Connection, where: str) -> int | None:
    """The schema version a database carries, None for a database without one."""
    if not inspect(conn).has_table("meta"):
        return None
    value = conn.execute(
        select(models.Meta.value).where(models.Meta.key == "schema_version")
    ).scalar()
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        shown = str(value)[:40].encode("unicode_escape").decode("ascii")
        raise DatabaseDamaged(
            f"The database at {where} carries the schema version '{shown}', which is not a "
            "number: it was not made by integrations-admin, or it is damaged. Nothing was "
            "changed."
        ) from None


# A new SQLite file, and the -wal and -shm files SQLite gives the same mode, can be
# read only by their owner: they hold signing keys. So can the folder made for them.
_NEW_FILE_MODE = 0o600
_NEW_FOLDER_MODE = 0o700


def _create_sqlite_file(path: Path) -> None:
    """Make the folder (0700) and an empty database file (0600) before SQLite opens
    it, so that SQLite never creates it with the umask's mode (often 0644). An
    existing file or folder keeps its mode."""
    if path.exists():
        return
    try:
        path.parent.mkdir(mode=_NEW_FOLDER_MODE, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _NEW_FILE_MODE)
    except FileExistsError:  # another program made it meanwhile: theirs is as good
        return
    except OSError as exc:
        raise StoreUnavailable(
            f"Cannot create the database file {path}: {exc.strerror or exc}. Check the path "
            "and the permissions of its folder."
        ) from None
    os.close(fd)


def _use_wal(cur, busy_ms: int) -> None:
    """Switch the file to WAL (a no-op when it already is).

    Switching needs the file to itself for an instant, and SQLite answers
    "database is locked" at once, without its busy handler, when another
    program is opening or creating the same file at that instant (two
    administrators starting together on a new database). Wait and retry as a
    busy handler would, within the same time budget.
    """
    import sqlite3
    import time

    deadline = time.monotonic() + busy_ms / 1000
    pause = 0.002
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _sqlite_pragmas(dbapi_conn, _record, busy_ms: int = 15000) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # A writer waits this long for another's transaction to finish (every
    # write takes the lock at BEGIN IMMEDIATE, so the wait happens there).
    cur.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    cur.execute("PRAGMA foreign_keys = ON")
    _use_wal(cur, busy_ms)
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _sqlite_begin(conn) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def describe_location(url: str | None = None) -> tuple[str, Path | None]:
    """Where ``url`` (as ``--db`` takes it) keeps the data, without any password,
    and its SQLite file (None for a server). Touches nothing."""
    resolved = resolve_url(url)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return str(Path(parsed.database)), Path(parsed.database)
    return parsed.render_as_string(hide_password=True), None


class Store:
    """An open database. Thread-safe: each call takes its own session."""

    def __init__(
        self,
        url: str | None = None,
        *,
        echo: bool = False,
        lock_timeout_s: float = 15,
        create: bool = True,
    ) -> None:
        """``lock_timeout_s``: how long a write waits for another administrator's
        write to finish before saying the database is busy (both backends).

        ``create=False`` opens only a database that exists: a SQLite file that is
        missing is refused (NoDatabase) and nothing is created, neither file nor
        folder. For the commands that only read or change an existing account,
        where a mistyped path must not silently make an empty database."""
        self.url = resolve_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.path: Path | None = None
        lock_ms = max(1, int(lock_timeout_s * 1000))
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                self.path = Path(parsed.database)
                if not create and not self.path.is_file():
                    raise NoDatabase(
                        f"There is no database at {self.path}: check --db (or "
                        f"${ENV_VAR}); `integrations-admin where` prints where the database "
                        "is. Nothing was created."
                    )
                if create:
                    _create_sqlite_file(self.path)
            engine = create_engine(
                self.url,
                echo=echo,
                connect_args={"check_same_thread": False, "timeout": lock_timeout_s},
            )
            event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=lock_ms))
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(
                self.url,
                echo=echo,
                # A connection the server dropped (restart, failover) is noticed and
                # replaced when next taken from the pool, so the program recovers alone.
                pool_pre_ping=True,
                connect_args={
                    "connect_timeout": 5,
                    # The same bounded wait as SQLite's busy timeout, for row and
                    # advisory locks held by another administrator's transaction.
                    "options": f"-c lock_timeout={lock_ms}",
                },
            )
        if trace.enabled():
            trace.instrument(engine)
        self.engine: Engine = engine
        self._write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        # SQLite has one writer at a time. Threads of this process (the API's)
        # queue here for it rather than in SQLite's busy handler, which sleeps
        # in steps of up to 100 ms between tries.
        self._local_writer = threading.RLock() if self.is_sqlite else None
        self._together = threading.local()  # together()'s session of each thread
        self._quick = threading.local()  # quick_read's connections (PostgreSQL)
        self._quick_conns: list[Any] = []
        self._quick_lock = threading.Lock()
        self.created = False  # prepare() made a new database
        self.upgraded_from: int | None = None  # prepare() upgraded from this schema
        self.backup_path: Path | None = None  # the copy made before upgrading (SQLite)
        self._prepared = False

    @property
    def upgrade_notice(self) -> str | None:
        """What ``prepare()`` upgraded, in a sentence for the administrator (None: nothing)."""
        if self.upgraded_from is None:
            return None
        text = (
            f"Upgraded the database {self.display_location} from schema {self.upgraded_from} "
            f"to {SCHEMA_VERSION}"
        )
        if self.backup_path is not None:
            text += f"; the file as it was is kept at {self.backup_path}"
        return text + "."

    @property
    def display_location(self) -> str:
        """Where the data lives, without any password."""
        if self.path is not None:
            return str(self.path)
        return make_url(self.url).render_as_string(hide_password=True)

    # -- schema ---------------------------------------------------------------

    def prepare(self) -> None:
        """Make the database ready for this program.

        A new, empty database gets the current schema. A database of an older
        schema is upgraded (Alembic, store/migrations/) in one transaction that
        keeps every row; a SQLite file is first backed up beside itself. A
        database of a newer schema is refused (SchemaTooNew) and left untouched.
        The common case, a database already current, costs one small query.
        """
        if self._prepared:
            return
        with self._guard():
            with self.engine.connect() as conn:
                version = _schema_version(conn, self.display_location)
            if version != SCHEMA_VERSION:
                self._refuse_newer(version)
                self._create_or_upgrade()
        self._prepared = True

    def _refuse_newer(self, version: int | None) -> None:
        if version is not None and version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"This database was written by a newer integrations-admin (schema "
                f"{version}; this program knows {SCHEMA_VERSION}). Upgrade the program; "
                "the database was left untouched."
            )

    def _create_or_upgrade(self) -> None:
        with self._schema_transaction() as conn:
            version = _schema_version(
                conn, self.display_location
            )  # again: another process may have done it
            self._refuse_newer(version)
            if version is None:
                foreign = sorted(set(inspect(conn).get_table_names()) & _OUR_TABLES)
                if foreign:
                    raise StoreUnavailable(
                        f"The database at {self.display_location} has tables named like "
                        f"this program's ({', '.join(foreign[:3])}...) but no schema version: "
                        "it was not made by integrations-admin. Point the program at an "
                        "empty database."
                    )
                SQLModel.metadata.create_all(conn)
                _ALEMBIC_VERSION.create(conn)
                conn.execute(insert(_ALEMBIC_VERSION).values(version_num=HEAD_REVISION))
                conn.execute(
                    insert(models.Meta).values(key="schema_version", value=str(SCHEMA_VERSION))
                )
                self.created = True
            elif version < SCHEMA_VERSION:
                self.backup_path = self._backup_before_upgrade(version)
                from . import migrations  # imports Alembic: only when upgrading

                migrations.upgrade(conn, version)
                conn.execute(
                    update(models.Meta)
                    .where(models.Meta.key == "schema_version")
                    .values(value=str(SCHEMA_VERSION))
                )
                self.upgraded_from = version

    @contextmanager
    def _schema_transaction(self) -> Iterator[Connection]:
        """One transaction holding the schema lock, so two programs opening the
        same database at once do not both create or upgrade it."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                with conn.begin():
                    conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
                    yield conn
                return
            # SQLite rebuilds a table to alter it; with foreign keys on, dropping
            # the old table would cascade-delete the rows that point at it. The
            # pragma only changes outside a transaction, so set it first, then
            # check every reference before committing (the SQLite-documented way).
            raw = conn.connection.driver_connection
            raw.execute("PRAGMA foreign_keys = OFF")
            try:
                with conn.execution_options(sqlite_begin="IMMEDIATE").begin():
                    yield conn
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StoreUnavailable(
                            f"Upgrading {self.display_location} would break "
                            f"{len(broken)} references between rows; nothing was changed."
                        )
            finally:
                raw.execute("PRAGMA foreign_keys = ON")

    def _backup_before_upgrade(self, version: int) -> Path | None:
        """Copy a SQLite file before upgrading it (SQLite's online backup: a
        consistent copy even while others read). PostgreSQL: the operator's backups."""
        if self.path is None:
            return None
        import sqlite3

        target = self.path.with_name(f"{self.path.name}.schema-{version}.bak")
        try:
            # The copy holds what the database holds: it gets the database's own
            # mode (0600 for one this program made), never the umask's.
            mode = self.path.stat().st_mode & 0o777
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, mode)
            os.close(fd)
            os.chmod(target, mode)
            src = sqlite3.connect(self.path)
            try:
                dst = sqlite3.connect(target)
                try:
                    src.backup(dst)
                finally:
                    dst.close()
            finally:
                src.close()
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(
                f"Cannot back up {self.path} before upgrading it to schema {SCHEMA_VERSION} "
                f"({exc}); nothing was changed."
            ) from None
        return target

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
            damage = _damage(exc, self) if isinstance(exc, DatabaseError) else None
            if damage is not None:
                raise DatabaseDamaged(damage) from None
            if exc.connection_invalidated:
                raise StoreUnavailable(_explain(exc, self)) from None
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (its objects are detached when it closes). Inside
        ``together()`` on the same thread: that one session and transaction."""
        shared = getattr(self._together, "session", None)
        if shared is not None:
            yield shared
            return
        with trace.span("read"), self._guard(), Session(self.engine, expire_on_commit=False) as s:
            yield s

    @contextmanager
    def together(self) -> Iterator[None]:
        """Every read of this thread inside shares one session: one connection
        taken from the pool (one pre-ping), one BEGIN and one ROLLBACK, and one
        snapshot of the data, however many store functions a screen's load calls.
        For what a screen reads to show itself (in its worker); nests."""
        if getattr(self._together, "session", None) is not None:
            yield
            return
        with (
            trace.span("read"),
            self._guard(),
            Session(self.engine, expire_on_commit=False) as s,
        ):
            self._together.session = s
            try:
                yield
            finally:
                self._together.session = None

    @contextmanager
    def write(
        self, account_id: int | None = None, *, whole_database: bool = False
    ) -> Iterator[Session]:
        """One write transaction holding the account's write lock; commits on success.

        ``whole_database`` serializes with every other such transaction (creating
        the first account): SQLite's BEGIN IMMEDIATE already does; PostgreSQL
        takes a transaction-scoped advisory lock.
        """
        with (
            trace.span("write"),
            self._local_writer or nullcontext(),
            self._guard(),
            Session(self._write_engine, expire_on_commit=False) as s,
            s.begin(),
        ):
            if whole_database and not self.is_sqlite:
                s.execute(sql_text("SELECT pg_advisory_xact_lock(7413)"))
            if account_id is not None:
                # The account's change counter goes up (screens poll it: anything
                # changed?). On PostgreSQL the UPDATE is also the account's write
                # lock (a row lock, as SELECT ... FOR UPDATE took): no extra round
                # trip; SQLite's BEGIN IMMEDIATE holds the lock already.
                s.execute(
                    update(models.Account)
                    .where(models.Account.id == account_id)
                    .values(changes=models.Account.changes + 1)
                    .execution_options(synchronize_session=False)
                )
            yield s

    @contextmanager
    def quick_read(self) -> Iterator[Any]:
        """A driver connection for one plain SELECT (no session, no transaction):
        for the hottest reads only (the API's token check), with the same
        translation of driver errors: a connection of this thread's own, out
        of SQLAlchemy's pool, in autocommit (PostgreSQL: a read is one round
        trip, where a pooled one adds the pre-ping, BEGIN and the rollback on
        return; SQLite: no pool check-out around a 25 µs read)."""
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        with self._guard():
            if self.is_sqlite and self.path is None:  # in memory: the pool's one connection
                raw = self.engine.raw_connection()
                try:
                    yield raw
                except dbapi_error as exc:  # the driver's own error, not SQLAlchemy's
                    raw.invalidate()
                    raise StoreUnavailable(_explain(exc, self)) from None
                finally:
                    raw.close()
                return
            conn = getattr(self._quick, "conn", None)
            try:
                if conn is None:
                    conn = self._quick_connection()
                    self._quick.conn = conn
                    with self._quick_lock:
                        self._quick_conns.append(conn)
                yield conn
            except dbapi_error as exc:
                self._quick.conn = None
                if conn is not None:
                    conn.close()
                raise StoreUnavailable(_explain(exc, self)) from None

    def _quick_connection(self) -> Any:
        """A connection of quick_read's own: outside any transaction after each
        statement (SQLite's autocommit; PostgreSQL's autocommit mode)."""
        if self.is_sqlite:
            import sqlite3

            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=15
            )
            conn.execute("PRAGMA query_only = ON")
            return conn
        cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        conn = self.engine.dialect.loaded_dbapi.connect(*cargs, **cparams)
        conn.autocommit = True
        return conn

    def dispose(self) -> None:
        with self._quick_lock:
            for conn in self._quick_conns:
                conn.close()
            self._quick_conns.clear()
        self.engine.dispose()


# PostgreSQL SQLSTATEs: another transaction holds what we need (serialization
# failure, deadlock, lock timeout); out of disk; a read-only server or transaction.
_PG_BUSY = {"40001", "40P01", "55P03"}
_PG_FULL = {"53100"}
_PG_READONLY = {"25006"}


def _damage(exc: DatabaseError, store: Store) -> str | None:
    """The administrator's message when a SQLite file is not a database or is
    damaged (SQLite's NOTADB and CORRUPT), else None."""
    if not store.is_sqlite:
        return None
    orig = getattr(exc, "orig", exc)
    name = str(getattr(orig, "sqlite_errorname", "") or "")
    text = str(orig).lower()
    where = store.display_location
    if name == "SQLITE_NOTADB" or "not a database" in text:
        return (
            f"The file {where} is not an integrations-admin database (not a SQLite "
            "database, or truncated): check --db. Nothing was changed."
        )
    if name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return (
            f"The database file {where} is damaged (SQLite: {text.splitlines()[0]}): restore "
            "it from a backup. Nothing was changed."
        )
    return None


def _explain(exc: Exception, store: Store) -> str:
    """The administrator's message for a database error (never the raw driver text
    for the common cases: busy, read-only, disk full, unreachable)."""
    orig = getattr(exc, "orig", exc)
    text = str(orig).lower()
    code = str(getattr(orig, "sqlstate", "") or "")
    sqlite_code = str(getattr(orig, "sqlite_errorname", "") or "")
    where = store.display_location
    if code in _PG_READONLY or sqlite_code.startswith("SQLITE_READONLY") or "readonly" in text:
        return (
            f"The database at {where} is read-only: check the permissions of the file "
            "and of its folder."
        )
    if (
        code in _PG_FULL
        or sqlite_code == "SQLITE_FULL"
        or ("disk" in text and "full" in text)
        or "no space" in text
    ):
        return f"The disk holding {where} is full: free some space and try again."
    if code in _PG_BUSY or sqlite_code.startswith("SQLITE_BUSY") or "locked" in text:
        return "The database is busy with another administrator's change; try again."
    if "unable to open" in text or sqlite_code.startswith("SQLITE_CANTOPEN"):
        return f"Cannot open the database file {where}: check the path and its permissions."
    if store.is_sqlite:
        return f"The database at {where} cannot be used: {text.splitlines()[0]}"
    return (
        f"Cannot reach the database server at {where}. Check that it is running; "
        "your next action will try again."
    )

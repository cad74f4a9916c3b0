"""Opening a store from a URL: SQLite by default, PostgreSQL for teams.

Every write runs in one transaction that first takes the account's write lock
(``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` of the account row on
PostgreSQL), so limits hold when two administrators hit them at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
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

from . import driver, models, pgpipe, trace
from .errors import (
    DatabaseDamaged,
    GaveUp,
    NoDatabase,
    SchemaTooNew,
    StoreUnavailable,
    Unreachable,
)
from .location import (
    APP_NAME,
    ENV_VAR,
    SCHEMA_VERSION,
    cannot_reach,
    default_sqlite_path,
    pg_settings,
    resolve_url,
)
from .refusals import ACTING

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
HEAD_REVISION = "0009"


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


def _current_schema_version(conn: Connection, where: str) -> int | None:
    """``_schema_version`` in one statement when the database has its ``meta``
    table (the common case: one round trip, not inspection's two): the version
    is read straight away, and only a refusal of that read asks the slow way."""
    try:
        value = conn.execute(
            select(models.Meta.value).where(models.Meta.key == "schema_version")
        ).scalar()
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise
        if conn.in_transaction():
            conn.rollback()  # PostgreSQL: a failed statement ends what it was in
        return _schema_version(conn, where)  # no meta table, or what failed, again
    if value is not None and value.isdigit():
        return int(value)
    return _schema_version(conn, where)  # none, or not a number: its words


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


class Patience:
    """How a write of this thread that must wait for another administrator's
    write lock says so and lets the administrator give up (``Store.patience``)."""

    def __init__(self, on_wait: Callable[[], None], cancelled: threading.Event) -> None:
        self.on_wait = on_wait
        self.cancelled = cancelled
        self.said = False

    def waiting(self) -> None:
        """Once per write: the lock is another's, the write waits."""
        if not self.said:
            self.said = True
            self.on_wait()

    def check(self) -> None:
        if self.cancelled.is_set():
            raise GaveUp(
                "You gave up waiting for another administrator's change to finish; "
                "nothing was saved."
            )


_patience = threading.local()  # this thread's Patience, if a screen set one
_LOCK_POLL_S = 0.05  # a waiting write tries the lock again this often


def _sqlite_begin(conn, lock_ms: int = 15000) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    patience: Patience | None = getattr(_patience, "current", None)
    if mode != "IMMEDIATE" or patience is None:
        conn.exec_driver_sql(f"BEGIN {mode}")
        return
    # Take the write lock in short tries, so that the wait is said at once and
    # can be given up, instead of sleeping in SQLite's busy handler for the
    # whole busy timeout.
    import sqlite3
    import time

    raw = conn.connection.dbapi_connection
    deadline = time.monotonic() + lock_ms / 1000
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            patience.check()
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise
            patience.waiting()
            patience.cancelled.wait(_LOCK_POLL_S)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(lock_ms)}")


_IDLE_PING_S = 10.0  # a pooled connection idle this long is pinged before use
# quick_read's idle connections kept for the next read (at least a server's
# threads: anyio's pool runs up to 40).
_QUICK_IDLE_MAX = 64


def pg_connect_args(parsed, lock_ms: int) -> tuple[dict[str, Any], Any]:
    """The driver's connection arguments for a PostgreSQL URL (SQLAlchemy's), and
    the URL without the server settings taken from its query
    (``location.pg_settings``: the defaults, each one the URL names replaced)."""
    args, query = pg_settings(dict(parsed.query), lock_ms)
    return args, parsed.set(query=query)


def _seconds(options: str, name: str) -> float | None:
    """The value of ``-c name=VALUE`` in libpq options, in seconds (PostgreSQL's
    units: ms by default, or us, ms, s, min, h, d); None when absent or 0."""
    import re

    found = re.findall(rf"-c\s*{name}=(\d+(?:\.\d+)?)\s*([a-z]*)", options)
    if not found:
        return None
    number, unit = found[-1]
    scale = {"": 0.001, "us": 1e-6, "ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}
    value = float(number) * scale.get(unit, 0.001)
    return value or None


def _learn_the_server_in_one_round_trip(dialect: Any) -> None:
    """SQLAlchemy's PostgreSQL dialect learns the server at its first connection
    in 8 round trips (BEGIN; the version, the schema, the isolation level and
    standard_conforming_strings, a query each; an hstore lookup in a savepoint;
    ROLLBACK): 160 ms at start on a team's server 10 ms away. The server
    reports its version and standard_conforming_strings when the connection
    opens (psycopg's ``conn.info``); the schema and the isolation level come in
    one query, in autocommit: one round trip. The program uses no hstore
    (``use_native_hstore=False`` at ``create_engine``)."""
    learnt: dict[str, str] = {}

    def version(connection: Any) -> tuple[int, ...]:
        v = connection.connection.dbapi_connection.info.server_version  # 150018
        return (v // 10000, v % 10000) if v >= 100000 else (v // 10000, v // 100 % 100, v % 100)

    def schema(connection: Any) -> str:
        # In autocommit: no BEGIN before it, and the ROLLBACK after the first
        # connection's initialization has no transaction to end (no round trip).
        raw = connection.connection.dbapi_connection
        raw.autocommit = True
        try:
            found, isolation = raw.execute(
                "SELECT current_schema(), current_setting('transaction_isolation')"
            ).fetchone()
        finally:
            raw.autocommit = False
        learnt["isolation"] = isolation.upper()
        return found

    def isolation(dbapi_conn: Any) -> str:
        known = learnt.pop("isolation", None)
        return known or type(dialect).get_default_isolation_level(dialect, dbapi_conn)

    def escapes(connection: Any) -> None:
        info = connection.connection.dbapi_connection.info
        dialect._backslash_escapes = info.parameter_status("standard_conforming_strings") == "off"

    dialect._get_server_version_info = version
    dialect._get_default_schema_name = schema
    dialect.get_default_isolation_level = isolation
    dialect._set_backslash_escapes = escapes


def _ping_if_idle(dbapi_conn, record, proxy) -> None:
    """A pooled connection unused for a while may have been dropped by the
    server or a firewall: ping it before use (one round trip), and let the pool
    open a new one when it is dead. A connection used a moment ago is not pinged."""
    from sqlalchemy.exc import DisconnectionError

    idle_since = record.info.get("idle_since")
    if idle_since is None or _monotonic() - idle_since < _IDLE_PING_S:
        return
    try:
        dbapi_conn.execute("SELECT 1")
        if not dbapi_conn.autocommit:
            dbapi_conn.rollback()
    except Exception as exc:
        raise DisconnectionError() from exc


def _mark_idle(_dbapi_conn, record) -> None:
    record.info["idle_since"] = _monotonic()


def _monotonic() -> float:
    import time

    return time.monotonic()


def describe_location(url: str | None = None) -> tuple[str, Path | None]:
    """Where ``url`` (as ``--db`` takes it) keeps the data, without any password,
    and its SQLite file (None for a server). Touches nothing."""
    resolved = resolve_url(url)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return str(Path(parsed.database)), Path(parsed.database)
    return parsed.render_as_string(hide_password=True), None


# The account's change counter, up by one, returning the account: the change's
# checks (plan, limits) read it from the session without another round trip
# (built once: building it cost more than running it).
_BUMP_CHANGES = select(models.Account).from_statement(
    update(models.Account.__table__)
    .where(models.Account.__table__.c.id == bindparam("account_id"))
    .values(changes=models.Account.__table__.c.changes + 1)
    .returning(*models.Account.__table__.c)
)
# The same, with whether the user who acts may manage integrations (None: no
# longer a user): ``change.may_manage``'s check, in the same round trip.
_CAN_MANAGE = (
    select(models.User.can_manage)
    .where(models.User.id == bindparam("user_id"))
    .scalar_subquery()
    .label("acting_can_manage")
)
_BUMP_CHANGES_AS = select(models.Account, _CAN_MANAGE).from_statement(
    update(models.Account.__table__)
    .where(models.Account.__table__.c.id == bindparam("account_id"))
    .values(changes=models.Account.__table__.c.changes + 1)
    .returning(*models.Account.__table__.c, _CAN_MANAGE)
)
# A quick change's (``store.driver``): the counter only, no Account to load.
_BUMP_CHANGES_ONLY = driver.Prepared(
    update(models.Account.__table__)
    .where(models.Account.__table__.c.id == bindparam("account_id"))
    .values(changes=models.Account.__table__.c.changes + 1)
    .returning(models.Account.__table__.c.changes)
)


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
        # How long a statement may take on the server (PostgreSQL's
        # statement_timeout; None: no limit). A call not answered in about this
        # time is one the network holds: the screens say the database is away.
        self.answer_within_s: float | None = None
        self.answers = 0  # calls the database answered (approximate: not locked)
        self._in_flight: dict[int, float] = {}  # statement (its context) -> when sent
        self._pg_connect_args: dict[str, Any] = {}
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
            event.listen(engine, "begin", partial(_sqlite_begin, lock_ms=lock_ms))
        else:
            connect_args, pg_url = pg_connect_args(parsed, lock_ms)
            self._pg_connect_args = connect_args
            self.answer_within_s = _seconds(connect_args["options"], "statement_timeout")
            engine = create_engine(
                pg_url,
                echo=echo,
                # No ping at every checkout (a round trip before each call): a
                # connection idle for a while is pinged (_ping_if_idle); one the
                # server dropped meanwhile fails its call, which SQLAlchemy
                # notices and replaces the pool's connections for the next one.
                connect_args=connect_args,
                use_native_hstore=False,
            )
            _learn_the_server_in_one_round_trip(engine.dialect)
            event.listen(engine, "checkout", _ping_if_idle)
            event.listen(engine, "checkin", _mark_idle)
            # First: the statement that BEGIN joined is answered (pgpipe's Sync)
            # before _statement_answered, so the silent network's watch sees the wait.
            pgpipe.install(engine)
            event.listen(engine, "before_cursor_execute", self._statement_sent)
            event.listen(engine, "after_cursor_execute", self._statement_answered)
            event.listen(engine, "handle_error", self._statement_failed)
        if trace.enabled():
            trace.instrument(engine)
        self.engine: Engine = engine
        # PostgreSQL writes: autocommit at the driver, and the program's own BEGIN
        # sent with the transaction's first statement (store.pgpipe).
        self._write_engine = (
            engine.execution_options(sqlite_begin="IMMEDIATE")
            if self.is_sqlite
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        # PostgreSQL reads in autocommit: no BEGIN before them and no ROLLBACK
        # after (two round trips); at READ COMMITTED each statement has its own
        # snapshot inside a transaction too, so nothing is lost. SQLite keeps
        # its transaction (one snapshot for the whole read, and no round trips).
        self._read_engine = (
            engine if self.is_sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        # SQLite has one writer at a time. Threads of this process (the API's)
        # queue here for it rather than in SQLite's busy handler, which sleeps
        # in steps of up to 100 ms between tries.
        self._local_writer = threading.RLock() if self.is_sqlite else None
        self._together = threading.local()  # together()'s session of each thread
        self._quick = threading.local()  # the quick_read connection this thread used last
        self._committed = threading.local()  # committed_changes(), for each thread
        self._quick_conns: list[Any] = []  # every quick_read connection open: (conn, busy)
        self._quick_idle: dict[int, Any] = {}  # those not in use, by id(conn)
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
    def server(self) -> str:
        """The server as host:port (PostgreSQL), or the file (SQLite): what the
        program names when it cannot reach it."""
        if self.path is not None or self.is_sqlite:
            return self.display_location
        parsed = make_url(self.url)
        return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"

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
            # The read engine: on PostgreSQL no BEGIN and ROLLBACK around it.
            with self._read_engine.connect() as conn:
                version = _current_schema_version(conn, self.display_location)
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
                from . import logsearch

                logsearch.install(conn)  # the logs' search indexes (not in the models)
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
                    # An upgrade of a large database may take longer than one
                    # statement of the program is allowed to (statement_timeout).
                    conn.execute(sql_text("SET LOCAL statement_timeout = 0"))
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
            self.answers += 1  # the database answered (the App's banner goes by it)
        except IntegrityError:
            raise
        except OperationalError as exc:
            raise _unavailable(exc, self) from None
        except DBAPIError as exc:
            damage = _damage(exc, self) if isinstance(exc, DatabaseError) else None
            if damage is not None:
                raise DatabaseDamaged(damage) from None
            if exc.connection_invalidated:
                raise _unavailable(exc, self) from None
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (its objects are detached when it closes). Inside
        ``together()`` on the same thread: that one session."""
        shared = getattr(self._together, "session", None)
        if shared is not None:
            yield shared
            return
        with (
            trace.span("read"),
            self._guard(),
            Session(self._read_engine, expire_on_commit=False) as s,
        ):
            yield s

    @contextmanager
    def together(self, label: str = "") -> Iterator[None]:
        """Every read of this thread inside shares one session: one connection
        taken from the pool, however many store functions a screen's load calls
        (SQLite: one read transaction, one snapshot; PostgreSQL: autocommit, each
        statement its own snapshot at READ COMMITTED as before, no BEGIN or
        ROLLBACK around them).
        For what a screen reads to show itself (in its worker); nests."""
        if getattr(self._together, "session", None) is not None:
            yield
            return
        with (
            trace.span("read", label),
            self._guard(),
            Session(self._read_engine, expire_on_commit=False) as s,
        ):
            self._together.session = s
            try:
                yield
            finally:
                self._together.session = None

    @contextmanager
    def write(
        self,
        account_id: int | None = None,
        *,
        whole_database: bool = False,
        quick: bool = False,
        acting_user: int | None = None,
    ) -> Iterator[Session]:
        """One write transaction holding the account's write lock; commits on success.

        ``whole_database`` serializes with every other such transaction (creating
        the first account): SQLite's BEGIN IMMEDIATE already does; PostgreSQL
        takes a transaction-scoped advisory lock. ``quick``: the statements that
        ``store.driver`` prepared may run through the driver (SQLite), and the
        account is not loaded (a change that needs it reads it when it asks).
        ``acting_user``: the id of the user whose permission the change checks,
        read with the account's counter (``acting_can_manage``).

        On PostgreSQL the transaction's BEGIN goes with its first statement and
        its COMMIT with the statements run later (``store.pgpipe``).
        """
        patience: Patience | None = getattr(_patience, "current", None)
        with trace.span("write"), self._local_lock(patience), self._guard():
            s, tx = self._begin_write(account_id, whole_database, quick, acting_user)
            with s, tx:
                yield s
                if patience is not None:
                    patience.check()  # given up meanwhile: roll back, nothing saved
                bumped = s.info.get("account")
                changes = bumped.changes if bumped is not None else s.info.get("changes")
                later = s.info.pop(pgpipe.LATER, None)
                if later is not None:
                    s.flush()  # the session's own writes first: their answers are read
                    key = id(later)
                    self._in_flight[key] = _monotonic()  # the silent network's watch
                    try:
                        pgpipe.commit_with(s.connection(), later)
                    finally:
                        self._in_flight.pop(key, None)
            # Committed: the account's change counter as this change left it.
            self._committed.changes = changes

    def committed_changes(self) -> int | None:
        """The account's change counter as the last change this thread committed
        left it (None: none, or no account's), then forgotten. A screen that made
        the change compares it with the counter of the data it shows: one more
        means that no one else changed anything meanwhile, and the screen can
        show the change's result without reading again."""
        found = getattr(self._committed, "changes", None)
        self._committed.changes = None
        return found

    def _begin_write(
        self,
        account_id: int | None,
        whole_database: bool,
        quick: bool = False,
        acting_user: int | None = None,
    ) -> tuple[Session, Any]:
        """A session in a write transaction holding the lock (PostgreSQL: the
        account's row, or the advisory lock). A pooled connection the server
        dropped (a restart) fails that first statement, before anything is
        written: the pool then holds only new connections, and the lock is
        taken again, once, on one of them (so connections need no ping)."""
        for attempt in (1, 2):
            s = Session(self._write_engine, expire_on_commit=False)
            if quick:
                s.info[driver.QUICK] = True
            tx = s.begin()
            try:
                if not self.is_sqlite:
                    pgpipe.begin_with_next(s.connection())
                    s.info[pgpipe.LATER] = []
                if whole_database and not self.is_sqlite:
                    s.execute(sql_text("SELECT pg_advisory_xact_lock(7413)"))
                if account_id is not None:
                    # The account's change counter goes up (screens poll it:
                    # anything changed?). On PostgreSQL the UPDATE is also the
                    # account's write lock (a row lock, as SELECT ... FOR UPDATE
                    # took): no extra round trip; SQLite's BEGIN IMMEDIATE holds
                    # the lock already.
                    if quick:
                        bumped = _BUMP_CHANGES_ONLY.run(s, {"account_id": account_id})
                        s.info["changes"] = bumped[0].changes if bumped else None
                    elif acting_user is not None:
                        found = s.execute(
                            _BUMP_CHANGES_AS, {"account_id": account_id, "user_id": acting_user}
                        ).first()
                        s.info["account"] = found[0] if found is not None else None
                        if found is not None:
                            s.info[ACTING] = (acting_user, found[1])
                    else:
                        account = s.execute(_BUMP_CHANGES, {"account_id": account_id}).scalar()
                        # Held for the session's life (its identity map holds objects
                        # weakly: a check's s.get(Account) would read it again).
                        s.info["account"] = account
            except DBAPIError as exc:
                tx.rollback()
                s.close()
                if attempt == 2 or not exc.connection_invalidated:
                    raise
                continue
            except BaseException:
                tx.rollback()
                s.close()
                raise
            return s, tx
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def _local_lock(self, patience: Patience | None) -> Iterator[None]:
        """This process's queue for SQLite's one writer (none on PostgreSQL);
        with a Patience, waited for in short tries that can be given up."""
        lock = self._local_writer
        if lock is None:
            yield
            return
        if patience is None:
            with lock:
                yield
            return
        while not lock.acquire(timeout=_LOCK_POLL_S):
            patience.check()
            patience.waiting()
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def patience(
        self, on_wait: Callable[[], None], cancelled: threading.Event
    ) -> Iterator[Patience]:
        """For the writes of this thread inside: ``on_wait()`` is called (from
        this thread) once a write has to wait for another administrator's write
        lock (SQLite), and setting ``cancelled`` gives the write up (GaveUp;
        nothing saved), while it waits or before it commits."""
        previous = getattr(_patience, "current", None)
        _patience.current = found = Patience(on_wait, cancelled)
        try:
            yield found
        finally:
            _patience.current = previous

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
                    raise _unavailable(exc, self) from None
                finally:
                    raw.close()
                return
            entry = self._quick_take()
            conn, busy = entry
            healthy = True
            try:
                # Held while the connection is in use: dispose() closes it from
                # another thread, and SQLite crashes on a connection closed mid-read.
                with busy:
                    yield conn
            except dbapi_error as exc:
                healthy = False
                raise _unavailable(exc, self) from None
            finally:
                self._quick_give_back(entry, healthy)

    def _quick_take(self) -> tuple[Any, threading.Lock]:
        """An idle quick_read connection, the one this thread used last if it is
        idle (a server's threads keep theirs, and what the token check keeps
        with it: tokens.check_quick), else another idle one, else a new one.

        Connections are not kept per thread: the program's reads run in a new
        thread each time (tui.saving.run_in_daemon), and a connection per
        thread, never closed, was one more SQLite connection (its page cache,
        its three file descriptors) at every change poll, every 2 s."""
        with self._quick_lock:
            mine = getattr(self._quick, "entry", None)
            if mine is not None and self._quick_idle.pop(id(mine[0]), None) is not None:
                return mine
            entry = self._quick_idle.popitem()[1] if self._quick_idle else None
        if entry is None:
            entry = (self._quick_connection(), threading.Lock())
            with self._quick_lock:
                self._quick_conns.append(entry)
        self._quick.entry = entry
        return entry

    def _quick_give_back(self, entry: tuple[Any, threading.Lock], healthy: bool) -> None:
        """Back among the idle ones; closed when it failed or too many are idle."""
        with self._quick_lock:
            if healthy and len(self._quick_idle) < _QUICK_IDLE_MAX and entry in self._quick_conns:
                self._quick_idle[id(entry[0])] = entry
                return
            if entry in self._quick_conns:
                self._quick_conns.remove(entry)
        if getattr(self._quick, "entry", None) is entry:
            self._quick.entry = None
        with suppress(Exception):
            entry[0].close()

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

    # -- statements on their way (PostgreSQL) -----------------------------------------

    def _statement_sent(self, _conn, _cursor, _statement, _params, context, _many) -> None:
        self._in_flight[id(context)] = _monotonic()

    def _statement_answered(self, _conn, _cursor, _statement, _params, context, _many) -> None:
        self._in_flight.pop(id(context), None)

    def _statement_failed(self, exception_context) -> None:
        context = exception_context.execution_context
        if context is not None:
            self._in_flight.pop(id(context), None)

    def oldest_statement_sent(self) -> float | None:
        """When (``time.monotonic()``) the oldest statement still unanswered was
        sent, or None: a statement unanswered well past ``answer_within_s`` is
        one the network holds (the server would have ended it)."""
        sent = list(self._in_flight.values())
        return min(sent) if sent else None

    def ping(self) -> None:
        """Whether the database answers, on a connection of its own (not one of
        the pool's, which a silent network may hold): StoreUnavailable (or
        Unreachable) when not. Once it answers, the pool's idle connections
        are dropped (they may be dead) and new ones are made as needed."""
        if self.is_sqlite:
            with self.read() as s:
                s.execute(sql_text("SELECT 1"))
            return
        dbapi = self.engine.dialect.loaded_dbapi
        cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        try:
            conn = dbapi.connect(*cargs, **{**cparams, **self._pg_connect_args})
            try:
                conn.execute("SELECT 1")
            finally:
                conn.close()
        except dbapi.Error as exc:
            raise _unavailable(exc, self) from None
        self.engine.dispose(close=False)

    def dispose(self) -> None:
        with self._quick_lock:
            for conn, busy in self._quick_conns:
                # A read in flight (a screen's poll in its thread) finishes first;
                # one that does not within 2 s keeps its connection (closed by GC).
                if busy.acquire(timeout=2):
                    try:
                        conn.close()
                    finally:
                        busy.release()
            self._quick_conns.clear()
            self._quick_idle.clear()
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


_PG_TIMEOUT = "57014"  # query_canceled: the statement_timeout ended the statement


def _unavailable(exc: Exception, store: Store) -> StoreUnavailable:
    """The domain error for a driver error: Unreachable when the server cannot
    be reached (a later try may work), else StoreUnavailable."""
    message = _explain(exc, store)
    if not store.is_sqlite and message.startswith("Cannot reach"):
        return Unreachable(message, store.server)
    return StoreUnavailable(message)


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
    if code == _PG_TIMEOUT:
        return (
            f"The database at {store.server} took too long to answer (statement_timeout); "
            "nothing was changed. Try again; README, Configuration says how to allow longer."
        )
    return cannot_reach(store.server, orig)

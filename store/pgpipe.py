"""PostgreSQL: a change's BEGIN and COMMIT go with its statements (psycopg's pipeline mode).

On PostgreSQL every answer the program waits for is a round trip: a change was
BEGIN, its statements one by one, then COMMIT. Two of those carry nothing the
change waits for:

- **BEGIN goes with the change's first statement** (the account's lock and
  change counter). The write engine's connections are in autocommit at the
  driver, so psycopg sends no BEGIN of its own; ``begin_with_next`` marks the
  connection, and the next statement sent on it is queued in a pipeline behind
  the program's BEGIN. The pipeline ends (one Sync: one round trip for both)
  inside SQLAlchemy's execution of that statement, before it reads the answer,
  so its rows, its errors and their translation are SQLAlchemy's as before.
- **The statements whose answer no one reads** (an audit entry, a delivery's
  place in the queue: ``driver.Prepared.run_later``) wait until the change is
  done and go with its COMMIT (``commit_with``): one round trip for all of them.
  A failure among them aborts the rest of the pipeline, the COMMIT included:
  nothing is committed, and it is raised as SQLAlchemy's error of that
  statement (a unique name taken meanwhile is still an ``IntegrityError``).

SQLite is in this process: nothing to save there, and nothing here runs for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable

LATER = "run_later"  # a write session's info key: [(statement, parameters)] for the COMMIT
_BEGIN = "pgpipe.begin"  # the connection's info: our BEGIN waits for the next statement
_OPEN = "pgpipe.open"  # the connection's info: the pipeline that statement joined


def install(engine: Engine) -> None:
    """The listeners that put a marked connection's BEGIN in front of its next
    statement (PostgreSQL engines only)."""
    event.listen(engine, "before_cursor_execute", _join)
    event.listen(engine, "after_cursor_execute", _sync)
    event.listen(engine, "handle_error", _abandon)
    # A transaction that ends with nothing sent leaves no mark behind.
    event.listen(engine, "commit", _forget)
    event.listen(engine, "rollback", _forget)


def begin_with_next(conn: Connection) -> None:
    """Start a transaction on ``conn`` (in autocommit at the driver) with the
    next statement sent on it: BEGIN and that statement in one round trip."""
    conn.info[_BEGIN] = True


def commit_with(conn: Connection, later: Sequence[tuple[Executable, Any]]) -> None:
    """``later``'s statements (none returns rows) and COMMIT, in one round trip;
    their first error is raised as SQLAlchemy's, with nothing committed."""
    if not later and conn.info.get(_BEGIN):
        conn.info.pop(_BEGIN)  # nothing was sent, and nothing is to be: no round trip
        return
    raw = conn.connection.driver_connection
    dbapi = conn.dialect.loaded_dbapi
    stmt: Any = "COMMIT"
    params: Any = None
    try:
        with raw.pipeline():  # type: ignore[union-attr]
            if conn.info.pop(_BEGIN, False):
                raw.execute(b"BEGIN")  # type: ignore[union-attr]  # nothing was sent yet
            for stmt, params in later:
                conn.execute(stmt, params)
            stmt, params = "COMMIT", None
            raw.execute(b"COMMIT")  # type: ignore[union-attr]
    except dbapi.Error as exc:
        raise DBAPIError.instance(
            str(stmt), params, exc, dbapi.Error, dialect=conn.dialect
        ) from exc


def _join(conn: Connection, _cursor, _statement, _params, _context, _many) -> None:
    if conn.info.pop(_BEGIN, False):
        raw: Any = conn.connection.driver_connection
        pipeline = raw.pipeline()
        pipeline.__enter__()
        conn.info[_OPEN] = pipeline
        raw.execute(b"BEGIN")


def _sync(conn: Connection, _cursor, _statement, _params, _context, _many) -> None:
    pipeline = conn.info.pop(_OPEN, None)
    if pipeline is not None:
        pipeline.__exit__(None, None, None)  # BEGIN and the statement answered


def _abandon(exception_context: Any) -> None:
    conn = exception_context.connection
    if conn is None:
        return
    pipeline = conn.info.pop(_OPEN, None)
    if pipeline is not None:
        exc = exception_context.original_exception
        # The statement's own error is the one to raise.
        with contextlib.suppress(Exception):
            pipeline.__exit__(type(exc), exc, exc.__traceback__)


def _forget(conn: Connection) -> None:
    if not conn.invalidated:  # (an invalidated connection's info goes with it)
        conn.info.pop(_BEGIN, None)

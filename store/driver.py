"""Core statements run straight through the driver, inside a change's transaction.

The API's changes on SQLite (a contract created, published, signed...) are a
handful of small statements each; SQLAlchemy's work around each one (the
execution context, the result's machinery, the events) cost several times what
SQLite's did: about 70 µs a statement against 10-20. A ``Prepared`` statement
is compiled once per dialect and set of columns, then run on the transaction's
own driver connection with the column types' own conversions, both ways: the
same SQL, the same values written and read back, the same transaction (the
session's), so the change keeps its one shape (lock, check, write, audit entry,
event, one commit).

Only where a change asks for it (``change(..., quick=True)``: the session's
``info["quick"]``) and only on SQLite. Everywhere else, and for any statement
the driver path cannot run as SQLAlchemy would (a Python-side column default to
compute, a parameter expanded at execution), ``run`` is SQLAlchemy's own
``execute``: PostgreSQL keeps its round-trip accounting and silent-network
watch, and the TUI's changes are counted statement by statement as before.
Driver errors are raised as SQLAlchemy's (``DBAPIError.instance``), so
``Store.write`` translates them for a person as it does every other.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session

from . import trace
from .pgpipe import LATER

QUICK = "quick"  # the session's info key: this change's statements may take the driver path
_ON_DRIVER = "driver"  # the session's info key: (its SQLAlchemy connection, the driver's)


class _Compiled:
    """One statement compiled for one dialect and set of parameter names."""

    __slots__ = ("binders", "fixed", "names", "readers", "row", "sql")

    def __init__(self, stmt: Executable, dialect: Any, keys: tuple[str, ...]) -> None:
        compiled = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
        if isinstance(stmt, Insert) and set(compiled.positiontup or ()) - set(keys):
            # An INSERT of the table's columns: the columns given, as SQLAlchemy
            # compiles it for these parameters (the others take their defaults).
            compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
        self.sql = str(compiled)
        if (
            "POSTCOMPILE" in self.sql
            or getattr(compiled, "insert_prefetch", None)
            or getattr(compiled, "update_prefetch", None)
            or compiled.positiontup is None
        ):
            raise _Unsuitable
        self.names: tuple[str, ...] = tuple(compiled.positiontup)
        binds = compiled.binds
        # Values the statement carries itself (the 1 of ``changes + 1``).
        self.fixed = {
            name: bind.effective_value
            for name, bind in binds.items()
            if not bind.required and bind.callable is None and name not in keys
        }
        self.binders: tuple[Callable[[Any], Any] | None, ...] = tuple(
            binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names
        )
        columns = list(stmt.exported_columns)  # type: ignore[attr-defined]  # [] : no RETURNING
        self.row = (
            namedtuple("Row", [c.key for c in columns], rename=True) if columns else None  # type: ignore[misc]
        )
        readers = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self.readers = tuple(readers) if any(readers) else None

    def values(self, params: Mapping[str, Any]) -> tuple:
        out = []
        fixed = self.fixed
        for name, bind in zip(self.names, self.binders, strict=True):
            value = params[name] if name in params else fixed[name]
            out.append(value if bind is None or value is None else bind(value))
        return tuple(out)

    def rows(self, fetched: list[tuple]) -> list[Any]:
        row, readers = self.row, self.readers
        if row is None:
            return []
        if readers is None:
            return [row._make(r) for r in fetched]
        return [
            row._make(
                v if read is None or v is None else read(v)
                for v, read in zip(r, readers, strict=True)
            )
            for r in fetched
        ]


class _Unsuitable(Exception):
    """The driver path cannot run this statement as SQLAlchemy would."""


class Prepared:
    """A Core statement built once (module level) for ``run``."""

    __slots__ = ("_forms", "stmt")

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt
        self._forms: dict[tuple[str, ...], _Compiled | None] = {}  # SQLite's, by parameter names

    def run(self, s: Session, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Any]:
        """The statement with ``params`` (a list: executemany) in ``s``'s
        transaction; its rows (named tuples, or SQLAlchemy's rows), [] when it
        returns none."""
        many = not isinstance(params, Mapping)
        if many and not params:
            return []  # nothing to write (SQLAlchemy would refuse an empty list)
        on_driver = s.info.get(_ON_DRIVER)
        if on_driver is None:
            conn = s.connection()
            if not (s.info.get(QUICK) and conn.dialect.name == "sqlite"):
                return _on_sqlalchemy(conn, self.stmt, params)
            # The transaction's connection stays the same until it ends: asked once.
            on_driver = s.info[_ON_DRIVER] = (conn, conn.connection.driver_connection)
        conn, raw = on_driver
        first = params[0] if many else params  # type: ignore[index]
        key = tuple(sorted(first))  # type: ignore[arg-type]
        form = self._forms.get(key, False)
        if form is False:
            try:
                form = _Compiled(self.stmt, conn.dialect, key)
            except _Unsuitable:
                form = None
            self._forms[key] = form
        if form is None or (many and form.row is not None):
            # (the driver's executemany returns no rows: a RETURNING of many is SQLAlchemy's)
            return _on_sqlalchemy(conn, self.stmt, params)
        return _on_driver(conn, raw, form, params, many)  # type: ignore[arg-type]

    def run_later(self, s: Session, params: Mapping[str, Any]) -> None:
        """The statement (it returns no rows, and nothing in the change reads
        what it wrote) in ``s``'s transaction: on PostgreSQL at its end, with the
        COMMIT in one round trip (``store.pgpipe``); elsewhere now, as ``run``."""
        later = s.info.get(LATER)
        if later is None:
            self.run(s, params)
        else:
            later.append((self.stmt, params))


def _on_sqlalchemy(conn: Any, stmt: Executable, params: Any) -> list[Any]:
    result = conn.execute(stmt, params)
    return list(result.all()) if result.returns_rows else []


def _on_driver(conn: Any, raw: Any, form: _Compiled, params: Any, many: bool) -> list[Any]:
    cursor = raw.cursor()
    args: Any = [form.values(p) for p in params] if many else form.values(params)
    if trace.enabled():
        trace.count_trip()
    try:
        if many:
            cursor.executemany(form.sql, args)
            return []
        cursor.execute(form.sql, args)
        return form.rows(cursor.fetchall()) if form.row is not None else []
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            form.sql, args, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    finally:
        cursor.close()

"""Indexed substring search of the three long logs: the audit log, the delivery
log and the API request log (schema 7, store/migrations/versions/0007).

A filter matches what a person expects: a substring, ignoring case, ``%`` and
``_`` taken literally (store/textmatch.py's LIKE conditions stay the rule).
The index only finds the candidates fast:

- SQLite: one FTS5 table per log with the ``trigram`` tokenizer, contentless
  (it holds the trigrams, not a second copy of the text), kept in step with
  its table by triggers on insert, update and delete. FTS5 folds case for all
  of Unicode and SQLite's LIKE only for ASCII, so the index finds a superset
  and the LIKE conditions, tested on those few rows, keep the matches exact.
- PostgreSQL: ``pg_trgm`` GIN indexes on ``lower(column)``, which the
  planner uses for the very ``lower(column) LIKE`` conditions of the filter
  (with its own recheck). When the extension cannot be created (a database
  user without the right), the migration says so on stderr and the filters
  scan, as before; ``indexed()`` tells.

A page is found in two steps (``page``): the newest ``RECENT`` rows of the log
first, by its listing index (a filter that matches often is done there, in
a few milliseconds); then, when that did not fill the page, the older rows
through the index. A filter of one or two characters has no trigram: it looks
at the newest ``RECENT`` rows only, and the screens say so (``short_note``).
Counts stop at ``COUNT_CAP`` unless asked for in full (``count``).
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, column, func, literal, or_, select, text, tuple_, union_all
from sqlalchemy.engine import Connection

RECENT = 10_000
"""Rows of a log looked at by their listing index before the search index is
used, and all that a one- or two-character filter looks at."""
TRIGRAM = 3  # the shortest filter the index can serve
COUNT_CAP = 10_000
"""Counts stop here unless asked for in full: "10,000+"."""


@dataclass(frozen=True)
class LogIndex:
    """One log's search index: its table, and what each indexed column holds
    (an SQL expression over the row, ``{row}`` standing for ``new``/``old``)."""

    table: str
    columns: tuple[tuple[str, str], ...]  # (index column, SQL expression)

    @property
    def fts(self) -> str:
        return f"{self.table}_search"

    def pg_indexes(self) -> list[tuple[str, str]]:
        """(name, expression) of the PostgreSQL trigram indexes: the text columns only."""
        return [
            (f"ix_{self.table}_trgm_{name}", f"lower({expr.format(row=self.table)})")
            for name, expr in self.columns
            if expr == "{row}." + name
        ]


AUDIT = LogIndex(
    "audit_entry",
    tuple((c, "{row}." + c) for c in ("actor", "action", "object_type", "object_name")),
)
DELIVERY = LogIndex(
    "delivery",
    (
        ("event_type", "{row}.event_type"),
        ("callback_id", "{row}.callback_id"),
        ("error", "{row}.error"),
        # What the filter also matches: the status code's digits and the result's word.
        ("status", "CAST({row}.status_code AS TEXT)"),
        ("result", "CASE WHEN {row}.success THEN 'ok' ELSE 'failed' END"),
    ),
)
API_REQUEST = LogIndex(
    "api_request",
    (
        ("path", "{row}.path"),
        ("method", "{row}.method"),
        ("token_hint", "{row}.token_hint"),
        ("status", "CAST({row}.status AS TEXT)"),
    ),
)
# Schema 9: the webhook's event deliveries (the delivery log's other half: one
# row per event, with its state and its last error).
EVENT_DELIVERY = LogIndex(
    "event_delivery",
    tuple((c, "{row}." + c) for c in ("event_type", "callback_id", "state", "last_error")),
)
LOGS = (AUDIT, DELIVERY, API_REQUEST, EVENT_DELIVERY)


# -- the schema's part ---------------------------------------------------------------


def sqlite_ddl(log: LogIndex) -> list[str]:
    """The FTS5 table and its three triggers, for SQLite."""
    names = ", ".join(n for n, _ in log.columns)

    def values(row: str) -> str:
        return ", ".join(e.format(row=row) for _, e in log.columns)

    sources = sorted(
        {e.format(row="").split(".", 1)[1].split(" ")[0].rstrip(")") for _, e in log.columns}
    )
    add = f"INSERT INTO {log.fts}(rowid, {names}) VALUES (new.id, {values('new')});"
    remove = (
        f"INSERT INTO {log.fts}({log.fts}, rowid, {names}) VALUES ('delete', old.id, "
        f"{values('old')});"
    )
    return [
        f"CREATE VIRTUAL TABLE {log.fts} USING fts5({names}, content='', tokenize='trigram')",
        f"CREATE TRIGGER {log.fts}_insert AFTER INSERT ON {log.table} BEGIN {add} END",
        f"CREATE TRIGGER {log.fts}_delete AFTER DELETE ON {log.table} BEGIN {remove} END",
        f"CREATE TRIGGER {log.fts}_update AFTER UPDATE OF {', '.join(sources)} "
        f"ON {log.table} BEGIN {remove} {add} END",
    ]


def sqlite_fill(log: LogIndex, low: int, high: int) -> str:
    """Index the rows with ``low <= id < high`` (an existing database's upgrade)."""
    names = ", ".join(n for n, _ in log.columns)
    values = ", ".join(e.format(row=log.table) for _, e in log.columns)
    return (
        f"INSERT INTO {log.fts}(rowid, {names}) SELECT id, {values} FROM {log.table} "
        f"WHERE id >= {int(low)} AND id < {int(high)}"
    )


PG_EXTENSION_REFUSED = (
    "PostgreSQL refused to create the pg_trgm extension in this database ({reason}): "
    "the audit, delivery and API request logs are filtered without an index, which "
    "is slow on long logs. A database superuser can run CREATE EXTENSION pg_trgm; "
    "in it: the program then builds the indexes when it next opens the database."
)


def install(conn: Connection, *, progress: Callable[[str], None] | None = None) -> bool:
    """Create the search indexes of every log on ``conn`` (inside its
    transaction), indexing the rows already there; ``progress`` hears how far
    a large log got. Returns False when PostgreSQL could not have them (the
    reason went to ``progress``, or stderr)."""
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    if conn.dialect.name == "sqlite":
        for log in LOGS:
            for stmt in sqlite_ddl(log):
                conn.exec_driver_sql(stmt)
            _fill_sqlite(conn, log, say)
        return True
    return _install_pg(conn, say)


def _fill_sqlite(conn: Connection, log: LogIndex, say: Callable[[str], None]) -> None:
    top = conn.exec_driver_sql(f"SELECT max(id) FROM {log.table}").scalar() or 0
    chunk = 100_000
    for low in range(0, top + 1, chunk):
        conn.exec_driver_sql(sqlite_fill(log, low, low + chunk))
        if top >= 2 * chunk:
            done = min(top, low + chunk)
            say(f"Indexing {log.table} for search: {done:,} of {top:,} rows")


def _install_pg(conn: Connection, say: Callable[[str], None]) -> bool:
    have = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").scalar()
    if not have:
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
            say(PG_EXTENSION_REFUSED.format(reason=reason))
            return False
    for log in LOGS:
        rows = conn.exec_driver_sql(f"SELECT count(*) FROM {log.table}").scalar() or 0
        for name, expr in log.pg_indexes():
            if rows >= 200_000:
                say(f"Indexing {log.table} for search ({rows:,} rows): {name}")
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {name} ON {log.table} USING gin ({expr} gin_trgm_ops)"
            )
    return True


def object_names() -> frozenset[str]:
    """Every table and index the search adds (none of them is in the models)."""
    names = set()
    for log in LOGS:
        names |= {log.fts, *(f"{log.fts}_{s}" for s in ("data", "idx", "docsize", "config"))}
        names |= {name for name, _ in log.pg_indexes()}
    return frozenset(names)


def indexed(conn: Connection) -> bool:
    """Whether the logs' search indexes are there (on PostgreSQL, without the
    pg_trgm extension they are not: the filters scan)."""
    if conn.dialect.name == "sqlite":
        return True
    name = AUDIT.pg_indexes()[0][0]
    return bool(conn.exec_driver_sql(f"SELECT 1 FROM pg_class WHERE relname = '{name}'").scalar())


# -- searching -------------------------------------------------------------------------


def short_note(needle: str, noun: str = "entries") -> str | None:
    """What a screen says under a filter of one or two characters (None for
    another): it looked at the newest ``RECENT`` rows only."""
    n = len(needle.strip())
    if 0 < n < TRIGRAM:
        return (
            f"A filter of {n} character{'s' if n > 1 else ''} looks at the newest "
            f"{RECENT:,} {noun} only: type {TRIGRAM} or more to search them all."
        )
    return None


def match_phrase(needle: str) -> str:
    """``needle`` as an FTS5 phrase: every character literal."""
    return '"' + needle.replace('"', '""') + '"'


def candidates(log: LogIndex, needle: str) -> Any:
    """The ids of the rows whose indexed columns may contain ``needle`` (SQLite)."""
    return (
        text(f"SELECT rowid FROM {log.fts} WHERE {log.fts} MATCH :phrase")
        .bindparams(phrase=match_phrase(needle))
        .columns(column("rowid"))
    )


@dataclass(frozen=True)
class Listing:
    """How one log is listed: its key columns (newest first), the conditions
    that make it one webhook's or one integration's log, and the same
    conditions written so that SQLite does not pick their index (for a
    search driven by the FTS table's ids)."""

    log: LogIndex
    time: Any
    id: Any
    scope: Sequence[Any]
    scope_unindexed: Sequence[Any]
    # The scope's values (a webhook's id...): which log's edge ``boundary`` keeps.
    scope_key: tuple[Any, ...] = ()


def _key(listing: Listing, key: tuple[Any, int]) -> Any:
    """The key as a row value of the columns' own types (a time is stored as
    its column says, not as the driver would write a datetime)."""
    t, i = key
    return tuple_(literal(t, type_=listing.time.type), literal(i, type_=listing.id.type))


def _older(listing: Listing, key: tuple[Any, int] | None) -> list[Any]:
    if key is None:
        return []
    t, i = key
    if listing.time is listing.id:
        return [listing.id < i]
    # The time alone too: an index on (scope, time) is used for its range.
    return [listing.time <= t, tuple_(listing.time, listing.id) < _key(listing, key)]


def _not_older(listing: Listing, key: tuple[Any, int]) -> list[Any]:
    t, i = key
    if listing.time is listing.id:
        return [listing.id >= i]
    return [listing.time >= t, tuple_(listing.time, listing.id) >= _key(listing, key)]


def _order(listing: Listing) -> list[Any]:
    if listing.time is listing.id:
        return [listing.id.desc()]
    return [listing.time.desc(), listing.id.desc()]


def _as_key(row: Any) -> tuple[Any, int] | None:
    if row is None:
        return None
    return (row[0], row[0]) if len(row) == 1 else (row[0], row[1])


# The edge of each log's newest rows, with the newest key it was read at: while
# the newest row is the same, no row was added and the edge has not moved. Reading
# it means stepping over RECENT index entries (5.6 ms for a delivery log, whose
# index sorts ties by id apart), at every filter keystroke; the newest key is one
# index entry. Rows leave a log from its oldest end (retention) or all at once (a
# webhook deleted: no newest row then). A row logged out of order (an attempt
# begun before the newest one, by another dispatcher) leaves the kept edge a row
# older than the true one until the next newest row: a filter of three
# characters or more finds the same rows whatever the edge (it only splits the
# search), one of one or two looks at one row more.
_EDGES: OrderedDict[tuple[Any, ...], tuple[Any, tuple[Any, int] | None]] = OrderedDict()
_EDGES_KEPT = 256
_EDGES_LOCK = threading.Lock()


def boundary(s: Any, listing: Listing, before: tuple[Any, int] | None) -> tuple[Any, int] | None:
    """The key of the ``RECENT``-th newest row (older than ``before``), or None
    when there are not that many. From the first row (``before`` None) of a
    log with a ``scope_key``, kept while its newest row stays the newest: one
    statement either way (the newest key, and the edge too when it changed)."""
    keys = (listing.id,) if listing.time is listing.id else (listing.time, listing.id)
    listed = (
        select(*keys).where(*listing.scope, *_older(listing, before)).order_by(*_order(listing))
    )
    edge_q = listed.offset(RECENT - 1).limit(1)
    if before is not None or not listing.scope_key:
        return _as_key(s.execute(edge_q).first())
    bind = s.get_bind()
    where = (getattr(bind, "engine", bind).url, listing.log.table, listing.scope_key, RECENT)
    with _EDGES_LOCK:
        kept = _EDGES.get(where)
    newest_q = listed.limit(1)
    if kept is not None:
        newest = _as_key(s.execute(newest_q).first())
        if newest == kept[0]:
            return kept[1]
    # Both keys in one statement: which is which by the first column.
    parts = [
        select(literal(n).label("which"), *q.subquery().c) for n, q in ((0, newest_q), (1, edge_q))
    ]
    got = {row[0]: _as_key(row[1:]) for row in s.execute(union_all(*parts))}
    newest, edge = got.get(0), got.get(1)
    with _EDGES_LOCK:
        _EDGES[where] = (newest, edge)
        _EDGES.move_to_end(where)
        while len(_EDGES) > _EDGES_KEPT:
            _EDGES.popitem(last=False)
    return edge


def page(
    s: Any,
    listing: Listing,
    query: Select,
    *,
    needle: str,
    match: Any,
    limit: int,
    before: tuple[Any, int] | None = None,
    extra_candidates: Any = None,
) -> list[Any]:
    """One page of ``query``'s rows (newest first, older than the key ``before``)
    that ``match`` (the filter's exact conditions; None: no filter), found as
    the module's docstring says. ``extra_candidates``: ids of rows that match
    by something the index does not hold (a token's name)."""
    order = _order(listing)
    if match is None:
        q = query.where(*listing.scope, *_older(listing, before)).order_by(*order).limit(limit)
        return list(s.execute(q))
    short = len(needle) < TRIGRAM
    # A short filter stays within the log's newest rows, page after page.
    edge_from = None if short else before
    if listing.time is listing.id:
        # Listed by id alone: the edge is a subquery of the page's own statement
        # (stepping over RECENT entries of the listing index, a millisecond), so
        # that a filter which fills its page from the newest rows is one round
        # trip, and one with few matches two. 0 when the log is shorter.
        edge_id = func.coalesce(
            select(listing.id)
            .where(*listing.scope, *_older(listing, edge_from))
            .order_by(listing.id.desc())
            .offset(RECENT - 1)
            .limit(1)
            .scalar_subquery(),
            0,
        )
        recent = query.where(*listing.scope, *_older(listing, before), match, listing.id >= edge_id)
        rows = list(s.execute(recent.order_by(*order).limit(limit)))
        if len(rows) >= limit or short:
            return rows
        # On PostgreSQL the edge is a bound the planner cannot see (it guesses a
        # third of the rows): as an index condition on the primary key it would
        # win over the trigram indexes' bitmap and test every older row; ``+ 0``.
        edge_bound = (listing.id + 0) if s.get_bind().dialect.name != "sqlite" else listing.id
        older = query.where(
            *_older(listing, before), edge_bound < edge_id, match, *listing.scope_unindexed
        )
    else:
        edge = boundary(s, listing, edge_from)
        recent = query.where(*listing.scope, *_older(listing, before), match)
        if edge is not None:
            recent = recent.where(*_not_older(listing, edge))
        rows = list(s.execute(recent.order_by(*order).limit(limit)))
        if len(rows) >= limit or edge is None or short:
            return rows
        # The older rows: the search index drives (the log's own index, which
        # would be read to its end when the matches are few, is kept out).
        older = query.where(*_older(listing, edge), match, *listing.scope_unindexed)
    if s.get_bind().dialect.name == "sqlite":
        ids = candidates(listing.log, needle)
        if extra_candidates is not None:
            ids = select(ids.subquery().c.rowid).union(extra_candidates)
        older = older.where(listing.id.in_(ids))
    elif listing.time is listing.id:
        # Ordered by the id alone, PostgreSQL would walk the primary key backwards
        # for the LIMIT, testing every older row (87 ms at 87,000 event deliveries
        # for a filter that matches nothing): ``+ 0`` leaves it the trigram
        # indexes' bitmap, whose few rows it sorts.
        order = [(listing.id + 0).desc()]
    return rows + list(s.execute(older.order_by(*order).limit(limit - len(rows))))


def count(
    s: Any,
    listing: Listing,
    query: Select,
    *,
    needle: str,
    match: Any,
    cap: int | None,
    extra_candidates: Any = None,
) -> int:
    """How many rows of ``query`` match, at most ``cap + 1`` (``cap`` None: all).
    A short filter counts within the newest ``RECENT`` rows."""
    conds: list[Any] = []
    if match is not None:
        conds.append(match)
        if len(needle) < TRIGRAM:
            edge = boundary(s, listing, None)
            if edge is not None:
                conds += _not_older(listing, edge)
            conds += list(listing.scope)
        elif s.get_bind().dialect.name == "sqlite":
            ids = candidates(listing.log, needle)
            if extra_candidates is not None:
                ids = select(ids.subquery().c.rowid).union(extra_candidates)
            conds += [listing.id.in_(ids), *listing.scope_unindexed]
        else:
            conds += list(listing.scope)
    else:
        conds += list(listing.scope)
    inner = query.where(*conds)
    if cap is not None:
        inner = inner.limit(cap + 1)
    q = select(func.count()).select_from(inner.subquery())
    return int(s.execute(q).scalar() or 0)


def any_of(*conds: Any) -> Any:
    """The conditions or-ed (one alone as it is)."""
    return conds[0] if len(conds) == 1 else or_(*conds)


def all_of(*conds: Any) -> Any:
    return conds[0] if len(conds) == 1 else and_(*conds)

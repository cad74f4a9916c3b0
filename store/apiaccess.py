"""What the integration API's tokens open, and what the API keeps about its use.

Public functions (every one returns plain frozen values, never ORM objects):

- ``authenticate(store, token, *, rate_limit=RATE_LIMIT, slices=None) -> tokens.ApiCaller``:
  the token checked as ``tokens.verify`` does (its last use written at most
  once a minute) and the request counted in the token's rate-limit window, in
  the database (``INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING``), so
  every ``serve`` process shares the count. Without ``slices``: one write
  transaction per request. With a ``RateSlices`` (the API's, one per process):
  one read per request (``tokens.check_quick``), and the count taken from the
  database a few requests at a time (see ``RateSlices``; exact at the limit).
  Raises ``TokenRefused`` (its ``caller`` set when the token is known) or
  ``RateLimited`` (``retry_after`` seconds; a refused request is not counted).
- ``record_request(store, caller, *, method, path, status, latency_ms) -> None``
  and ``record_requests(store, requests: list[LoggedRequest]) -> int``: the
  request log (time, token hint, method, path, status, latency; never a body or
  a token). The API batches its entries into ``record_requests``.
- ``requests_for_integration(store, account_id, integration_id, *, text_filter="",
  limit=200) -> list[ApiRequestInfo]``: an integration's requests, newest first,
  filtered in SQL on method, path, status and token hint.
- ``token_usage(store, account_id, integration_id) -> dict[int, TokenUsage]``:
  per token id, its last use and its requests in the last 24 hours (one query).
- ``prune(store) -> int``: deletes logged requests older than their account's
  retention (``retention_days``, default 30) and finished rate-limit windows.
- ``blueprints_for(store, caller) -> list[ApiBlueprint]``,
  ``blueprint_for(store, caller, blueprint_id) -> ApiBlueprint``,
  ``playbooks_for(store, caller) -> list[ApiPlaybook]``: what a token sees, its
  own integration only (anything else is NotFound, so ids do not leak).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, cast, delete, insert, or_, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, func, select

from . import clock, driver, logsearch, tokens, validate
from .change import anyone, change
from .db import Store
from .errors import NotFound, RateLimited, ValidationError
from .models import (
    Account,
    ApiRateWindow,
    ApiRequest,
    ApiToken,
    Blueprint,
    BlueprintField,
    DataField,
    Integration,
    Mapping,
    Playbook,
    PlaybookBlueprint,
)
from .textmatch import contains, like_pattern
from .tokens import ApiCaller
from .values import natural_key

RATE_LIMIT = 2000
"""Requests per token per window (the platform's public documentation)."""
RATE_WINDOW_S = 300
"""The rate-limit window: 5 minutes, aligned on the clock (00:00, 00:05, ...)."""
PATH_MAX = 500
METHOD_MAX = 10


# -- values returned ---------------------------------------------------------------


class LoggedRequest(NamedTuple):
    """One request to log (what ``record_requests`` takes). A named tuple: the
    API makes one for every request, and a frozen dataclass's construction
    costs several times as much."""

    account_id: int
    integration_id: int
    token_id: int
    token_hint: str
    at: datetime
    method: str
    path: str
    status: int
    latency_ms: float


@dataclass(frozen=True)
class ApiRequestInfo:
    id: int
    at: datetime
    token_id: int
    token_hint: str
    token_name: str
    method: str
    path: str
    status: int
    latency_ms: float


@dataclass(frozen=True)
class TokenUsage:
    token_id: int
    last_used_at: datetime | None
    requests_24h: int


@dataclass(frozen=True)
class ApiField:
    id: int
    name: str
    description: str
    mapping_required: bool


@dataclass(frozen=True)
class ApiBlueprint:
    id: int
    name: str
    description: str
    fields: tuple[ApiField, ...]


@dataclass(frozen=True)
class ApiDataField:
    id: int
    name: str
    description: str
    default_value: str


@dataclass(frozen=True)
class ApiMapping:
    """A field of one of the caller's blueprints flowing into a data field."""

    blueprint_id: int
    blueprint_field_id: int
    blueprint_field_name: str
    data_field_id: int


@dataclass(frozen=True)
class ApiPlaybook:
    id: int
    name: str
    description: str
    blueprint_ids: tuple[int, ...]  # the caller's blueprints connected to it
    data_fields: tuple[ApiDataField, ...]
    mappings: tuple[ApiMapping, ...]


# -- authentication and the rate limit ------------------------------------------------


def _window_start(now: datetime) -> int:
    ts = int(now.timestamp())
    return ts - ts % RATE_WINDOW_S


def window_start(now: datetime) -> int:
    """The Unix second at which the rate-limit window holding ``now`` began."""
    return _window_start(now)


# Called for every request with what this module made itself: without the
# argument checks of public functions (validate.check_public), some 2 µs each.
_check_quick = validate.unchecked(tokens.check_quick)


_rate = ApiRateWindow.__table__  # type: ignore[attr-defined]


def _count_statement(is_sqlite: bool):
    ins = (sqlite_insert if is_sqlite else pg_insert)(_rate).values(
        token_id=bindparam("token_id"),
        window_start=bindparam("window_start"),
        count=bindparam("size"),
    )
    return ins.on_conflict_do_update(
        index_elements=[_rate.c.token_id, _rate.c.window_start],
        set_={"count": _rate.c.count + ins.excluded.count},
    ).returning(_rate.c.count)


# Built once per dialect: authenticate runs for every request.
_COUNT = {sqlite: driver.Prepared(_count_statement(sqlite)) for sqlite in (True, False)}


def _no_flush_wait(store: Store, s) -> None:
    """PostgreSQL: this transaction's commit does not wait for the disk. A count
    or a log line lost to a server crash in the next fraction of a second is
    acceptable; a commit waiting for every request's flush, serialized on the
    token's counter row, is not (it caps a token at a few hundred requests a
    second). SQLite's WAL with synchronous=NORMAL already commits so."""
    if not store.is_sqlite:
        s.execute(_ASYNC_COMMIT)


_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


class RateSlices:
    """One process's slices of the database's counts (``authenticate``'s
    ``slices``): a process takes a token's requests from the count in the
    database a slice at a time, then accepts that many without writing.

    The count in the database is what every process has taken, so the limit
    holds across processes exactly: no more than ``rate_limit`` requests of a
    token are accepted in a window, whichever process answers them. A slice
    starts at 1 request in each window and doubles with each slice taken in
    it, up to ``SLICE_MAX``; near the limit it shrinks to a twentieth of what
    is left, and to 1, so that slices held unused by one process when the limit
    is reached are at most a few requests. A slice not used up when its window
    ends is dropped (the window's count stays what was taken)."""

    SLICE_MAX = 100

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # token id -> [window start, requests left in the slice, next slice size]
        self._held: dict[int, list[int]] = {}

    def take(self, token_id: int, window: int) -> bool:
        """One request from the slice held for this token and window, if any is left."""
        with self._lock:
            held = self._held.get(token_id)
            if held is not None and held[0] == window and held[1] > 0:
                held[1] -= 1
                return True
            return False

    def size(self, token_id: int, window: int) -> int:
        with self._lock:
            held = self._held.get(token_id)
            return held[2] if held is not None and held[0] == window else 1

    def hold(self, token_id: int, window: int, left: int, next_size: int) -> None:
        """Add ``left`` requests to the token's slice of ``window`` (two threads
        may each have taken a slice at once: neither is lost)."""
        with self._lock:
            held = self._held.get(token_id)
            if held is not None and held[0] == window:
                held[1] += left
                held[2] = next_size
            else:
                self._held[token_id] = [window, left, next_size]


def _count(store: Store, s, caller: ApiCaller, now: datetime, rate_limit: int, size: int) -> int:
    """Take ``size`` requests (at most what the limit leaves) from the token's
    count of the current window; returns how many were taken, or raises
    RateLimited (inside the transaction: a refused request is not counted)."""
    start = window_start(now)
    counted = {"token_id": caller.token_id, "window_start": start, "size": size}
    count = _COUNT[store.is_sqlite].run(s, counted)[0][0]
    before = count - size
    taken = max(0, min(size, rate_limit - before))
    if taken == 0:
        retry = max(1, start + RATE_WINDOW_S - int(now.timestamp()))
        raise RateLimited(
            f"This token made {rate_limit} requests in the current "
            f"{RATE_WINDOW_S // 60}-minute window, its limit; try again in {retry} s.",
            retry,
            caller,
        )
    if taken < size:
        _GIVE_BACK.run(s, {"token_id": caller.token_id, "window_start": start, "n": size - taken})
    return taken, before + taken


_GIVE_BACK = driver.Prepared(
    update(_rate)
    .where(
        _rate.c.token_id == bindparam("token_id"), _rate.c.window_start == bindparam("window_start")
    )
    .values(count=_rate.c.count - bindparam("n"))
)


def _held(store: Store, token: str, slices: RateSlices) -> tuple[ApiCaller | None, bool]:
    caller, last_used = _check_quick(store, token)
    now = clock.now()
    stale = last_used is None or (now - last_used).total_seconds() >= tokens.LAST_USED_EVERY_S
    if not stale and slices.take(caller.token_id, _window_start(now)):
        return caller, False
    return None, stale


def authenticate_held(store: Store, token: str, *, slices: RateSlices) -> ApiCaller | None:
    """``authenticate`` when it needs no write: the token checked by one read
    and the request taken from this process's slice; None when a write is
    needed (no slice left, or the last use is a minute old): then call
    ``authenticate``. The API runs this one on its event loop (SQLite: a read
    of some 25 µs), and ``authenticate`` in a thread."""
    return _held(store, token, slices)[0]


def authenticate(
    store: Store,
    token: str,
    *,
    rate_limit: int = RATE_LIMIT,
    slices: RateSlices | None = None,
) -> ApiCaller:
    """Check ``token`` and count the request against its rate limit (see the
    module's docstring). Without ``slices``: one write transaction per request.
    With them (the API's, one per process): the token is checked by a read, and
    the count is written a slice at a time (``RateSlices``)."""
    if slices is None:
        # The program itself acts: no permission, no account lock, no audit entry.
        with change(store, None, "call the API", check=anyone) as c:
            _no_flush_wait(store, c.s)
            caller = tokens.verify_on(c.s, token, last_used_every_s=tokens.LAST_USED_EVERY_S)
            _count(store, c.s, caller, clock.now(), rate_limit, 1)
        return caller
    caller, last_used = tokens.check_quick(store, token)
    now = clock.now()
    stale = last_used is None or (now - last_used).total_seconds() >= tokens.LAST_USED_EVERY_S
    window = window_start(now)
    if not stale and slices.take(caller.token_id, window):
        return caller
    with change(store, None, "call the API", check=anyone, quick=True) as c:
        _no_flush_wait(store, c.s)
        if stale:
            tokens.touch_on(c.s, caller.token_id)
        if not slices.take(caller.token_id, window):
            size = slices.size(caller.token_id, window)
            taken, counted = _count(store, c.s, caller, now, rate_limit, size)
            # Near the limit, small slices: what one process holds unused when
            # another is refused is then a request or two.
            next_size = max(1, min(RateSlices.SLICE_MAX, size * 2, (rate_limit - counted) // 20))
            slices.hold(caller.token_id, window, taken - 1, next_size)
    return caller


# -- the request log -------------------------------------------------------------------


@functools.lru_cache(maxsize=512)  # an integration calls the same few paths
def _clean_path(path: str) -> str:
    shown = validate.printable(path)
    return shown if len(shown) <= PATH_MAX else shown[: PATH_MAX - 1] + "…"


@functools.lru_cache(maxsize=32)
def _clean_method(method: str) -> str:
    return validate.printable(method)[:METHOD_MAX]


_LOG_COLUMNS = (
    "account_id",
    "integration_id",
    "token_id",
    "token_hint",
    "at",
    "method",
    "path",
    "status",
    "latency_ms",
)
_LOG_INSERT = insert(ApiRequest.__table__).values(  # type: ignore[attr-defined]
    {name: bindparam(name) for name in _LOG_COLUMNS}
)
_log_inserts: dict[str, tuple[str, tuple[str, ...] | None, dict]] = {}


def _log_insert_for(dialect) -> tuple[str, tuple[str, ...] | None, dict]:
    """The request log's INSERT for ``dialect``: its SQL, its parameters' order
    (None: named), and each column's bind conversion (the column type's own)."""
    found = _log_inserts.get(dialect.name)
    if found is None:
        compiled = _LOG_INSERT.compile(dialect=dialect)
        columns = ApiRequest.__table__.c  # type: ignore[attr-defined]
        process = {}
        for name in _LOG_COLUMNS:
            convert = columns[name].type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                process[name] = convert
        order = tuple(compiled.positiontup) if compiled.positiontup else None
        found = _log_inserts[dialect.name] = (str(compiled), order, process)
    return found


def _log_row(order: tuple[str, ...] | None, process: dict, values: dict) -> tuple | dict:
    for name, convert in process.items():
        values[name] = convert(values[name])
    return values if order is None else tuple(values[name] for name in order)


def record_requests(store: Store, requests: list[LoggedRequest]) -> int:
    """Log a batch of requests in one transaction; returns how many. The path is
    kept with control characters made visible, cut to 500 characters."""
    if not requests:
        return 0
    for r in requests:
        if (
            isinstance(r.status, bool)
            or not isinstance(r.status, int)
            or not 100 <= r.status <= 599
        ):
            raise ValidationError("status", f"Status must be an HTTP status, not {r.status!r}.")
        if not isinstance(r.latency_ms, int | float) or not 0 <= r.latency_ms < 1e9:
            raise ValidationError("latency_ms", "Latency must be a number of milliseconds.")
    dialect = store.engine.dialect
    sql, order, process = _log_insert_for(dialect)
    rows = [
        _log_row(
            order,
            process,
            {
                "account_id": r.account_id,
                "integration_id": r.integration_id,
                "token_id": r.token_id,
                "token_hint": r.token_hint[:40],
                "at": r.at,
                "method": _clean_method(r.method),
                "path": _clean_path(r.path),
                "status": r.status,
                "latency_ms": round(float(r.latency_ms), 3),
            },
        )
        for r in requests
    ]
    with change(store, None, "log API requests", check=anyone) as c:
        _no_flush_wait(store, c.s)
        # The driver's executemany with the column types' own conversions: the
        # same rows SQLAlchemy's insert writes, for a fraction of its work per
        # row (the API logs thousands a second, on the thread that serves them).
        cursor = c.s.connection().connection.driver_connection.cursor()
        try:
            if store.is_sqlite:
                # SQLite: many rows per INSERT. The search index's trigger
                # (logsearch) runs for each row either way, but FTS5 writes out
                # what it gathered at the end of every statement: one statement
                # per row cost some 50 µs of CPU a row, one per chunk 7.
                for start in range(0, len(rows), _LOG_ROWS_PER_INSERT):
                    chunk = rows[start : start + _LOG_ROWS_PER_INSERT]
                    cursor.execute(_sqlite_multirow(sql, len(chunk)), [v for r in chunk for v in r])
            else:
                cursor.executemany(sql, rows)
        finally:
            cursor.close()
    return len(rows)


_LOG_ROWS_PER_INSERT = 100  # 900 parameters: under any SQLite's limit (999 before 3.32)


@functools.lru_cache(maxsize=_LOG_ROWS_PER_INSERT)
def _sqlite_multirow(sql: str, n: int) -> str:
    """The one-row ``INSERT ... VALUES (?, ...)`` of ``sql`` for ``n`` rows."""
    head, _, values = sql.partition(" VALUES ")
    return f"{head} VALUES {', '.join([values] * n)}"


def record_request(
    store: Store, caller: ApiCaller, *, method: str, path: str, status: int, latency_ms: float
) -> None:
    """Log one request of ``caller`` (see ``record_requests``)."""
    record_requests(
        store,
        [
            LoggedRequest(
                account_id=caller.account_id,
                integration_id=caller.integration_id,
                token_id=caller.token_id,
                token_hint=caller.token_hint,
                at=clock.now(),
                method=method,
                path=path,
                status=status,
                latency_ms=latency_ms,
            )
        ],
    )


def _request_match(needle: str, integration_id: int, sqlite: bool) -> tuple[Any, Any]:
    """The filter's exact condition on a request (None: no filter), and the
    ids of the requests whose token's name matches (None: no token's does)."""
    if not needle:
        return None, None
    like = like_pattern(needle)
    named = (
        select(ApiToken.id)
        .where(ApiToken.integration_id == integration_id)
        .where(contains(ApiToken.name, like, sqlite))
    )
    matches = [
        contains(ApiRequest.path, like, sqlite),
        contains(ApiRequest.method, like, sqlite),
        contains(ApiRequest.token_hint, like, sqlite),
        col(ApiRequest.token_id).in_(named),
    ]
    if needle.isdigit():
        matches.append(cast(ApiRequest.status, String).like(like))
    by_name = select(ApiRequest.id).where(col(ApiRequest.token_id).in_(named))
    return or_(*matches), by_name


def _request_listing(account_id: int, integration_id: int) -> logsearch.Listing:
    return logsearch.Listing(
        log=logsearch.API_REQUEST,
        time=ApiRequest.at,
        id=ApiRequest.id,
        scope=[ApiRequest.integration_id == integration_id, ApiRequest.account_id == account_id],
        # ``+ 0``: not the listing index when the search index's ids drive the query.
        scope_unindexed=[
            (ApiRequest.integration_id + 0) == integration_id,
            (ApiRequest.account_id + 0) == account_id,
        ],
        scope_key=(account_id, integration_id),
    )


def requests_for_integration(
    store: Store,
    account_id: int,
    integration_id: int,
    *,
    text_filter: str = "",
    limit: int = 200,
    before_at: datetime | None = None,
    before_id: int | None = None,
) -> list[ApiRequestInfo]:
    """An integration's API requests, newest first. ``text_filter`` matches the
    method, path, status code or token hint (or name), ignoring case, as a
    substring, through the search index (store/logsearch.py: a filter of one
    or two characters looks at the newest ``logsearch.RECENT`` requests only).
    Keyset pagination: pass the last request's ``at`` and ``id`` as
    ``before_at``/``before_id`` for the next page."""
    if "\x00" in text_filter or validate.not_unicode(text_filter):
        return []
    if (before_at is None) != (before_id is None):
        raise ValidationError("before_id", "A page's key is a time and an id, both or neither.")
    q = select(
        ApiRequest.id,
        ApiRequest.at,
        ApiRequest.token_id,
        ApiRequest.token_hint,
        ApiToken.name,
        ApiRequest.method,
        ApiRequest.path,
        ApiRequest.status,
        ApiRequest.latency_ms,
    ).join(ApiToken, ApiToken.id == ApiRequest.token_id)
    needle = text_filter.strip().lower()
    match, by_name = _request_match(needle, integration_id, store.is_sqlite)
    before = None if before_at is None or before_id is None else (before_at, before_id)
    with store.read() as s:
        rows = logsearch.page(
            s,
            _request_listing(account_id, integration_id),
            q,
            needle=needle,
            match=match,
            limit=max(1, min(limit, 5000)),
            before=before,
            extra_candidates=by_name,
        )
        return [
            ApiRequestInfo(
                id=r[0],
                at=r[1],
                token_id=r[2],
                token_hint=r[3],
                token_name=r[4],
                method=r[5],
                path=r[6],
                status=r[7],
                latency_ms=float(r[8]),
            )
            for r in rows
        ]


def count_requests(
    store: Store,
    account_id: int,
    integration_id: int,
    *,
    text_filter: str = "",
    cap: int | None = None,
) -> int:
    """How many of the integration's requests match ``text_filter`` (as
    ``requests_for_integration``), counting at most to ``cap + 1``."""
    if "\x00" in text_filter or validate.not_unicode(text_filter):
        return 0
    if cap is not None and cap < 0:
        raise ValidationError("cap", "A count's cap is 0 or more.")
    needle = text_filter.strip().lower()
    match, by_name = _request_match(needle, integration_id, store.is_sqlite)
    with store.read() as s:
        return logsearch.count(
            s,
            _request_listing(account_id, integration_id),
            select(ApiRequest.id),
            needle=needle,
            match=match,
            cap=cap,
            extra_candidates=by_name,
        )


def token_usage(store: Store, account_id: int, integration_id: int) -> dict[int, TokenUsage]:
    """Per token of the integration (managed ones left out): its last use and
    its requests in the last 24 hours, in one query."""
    since = clock.now() - timedelta(hours=24)
    recent = (
        select(ApiRequest.token_id, func.count().label("n"))
        .where(ApiRequest.integration_id == integration_id, ApiRequest.at >= since)
        .group_by(ApiRequest.token_id)
        .subquery()
    )
    q = (
        select(ApiToken.id, ApiToken.last_used_at, recent.c.n)
        .join(Integration, Integration.id == ApiToken.integration_id)
        .outerjoin(recent, recent.c.token_id == ApiToken.id)
        .where(
            ApiToken.integration_id == integration_id,
            Integration.account_id == account_id,  # never another account's tokens
            col(ApiToken.managed).is_(False),
        )
    )
    with store.read() as s:
        return {
            tid: TokenUsage(token_id=tid, last_used_at=last, requests_24h=int(n or 0))
            for tid, last, n in s.execute(q)
        }


def prune(store: Store) -> int:
    """Delete logged requests older than their account's retention, and the
    rate-limit windows that have ended; returns how many requests went."""
    now = clock.now()
    with change(store, None, "prune the API request log", check=anyone) as c:
        deleted = 0
        for account_id, days in c.s.exec(select(Account.id, Account.retention_days)).all():
            result = c.s.execute(
                delete(ApiRequest).where(
                    col(ApiRequest.account_id) == account_id,
                    col(ApiRequest.at) < now - timedelta(days=int(days)),
                )
            )
            deleted += result.rowcount or 0
        c.s.execute(
            delete(ApiRateWindow).where(col(ApiRateWindow.window_start) < window_start(now))
        )
    return deleted


# -- what a token sees --------------------------------------------------------------------


def _blueprints(store: Store, caller: ApiCaller, blueprint_id: int | None) -> list[ApiBlueprint]:
    q = (
        select(Blueprint, BlueprintField)
        .outerjoin(BlueprintField, BlueprintField.blueprint_id == Blueprint.id)
        .where(
            Blueprint.integration_id == caller.integration_id,
            Blueprint.account_id == caller.account_id,
        )
        .order_by(col(Blueprint.id), col(BlueprintField.position), col(BlueprintField.id))
    )
    if blueprint_id is not None:
        q = q.where(Blueprint.id == blueprint_id)
    found: dict[int, tuple[Blueprint, list[ApiField]]] = {}
    with store.read() as s:
        for bp, f in s.exec(q).all():
            entry = found.setdefault(bp.id or 0, (bp, []))
            if f is not None:
                entry[1].append(
                    ApiField(
                        id=f.id or 0,
                        name=f.name,
                        description=f.description,
                        mapping_required=f.mapping_required,
                    )
                )
    out = [
        ApiBlueprint(id=bp.id or 0, name=bp.name, description=bp.description, fields=tuple(fs))
        for bp, fs in found.values()
    ]
    out.sort(key=lambda b: (natural_key(b.name), b.id))
    return out


def blueprints_for(store: Store, caller: ApiCaller) -> list[ApiBlueprint]:
    """The caller's integration's blueprints with their fields, by name."""
    return _blueprints(store, caller, None)


def blueprint_for(store: Store, caller: ApiCaller, blueprint_id: int) -> ApiBlueprint:
    """One blueprint of the caller's integration (NotFound for any other)."""
    found = _blueprints(store, caller, blueprint_id)
    if not found:
        raise NotFound(f"This integration has no blueprint {blueprint_id}.")
    return found[0]


def playbooks_for(store: Store, caller: ApiCaller) -> list[ApiPlaybook]:
    """The playbooks connected to the caller's blueprints, with every data field
    and the mappings from the caller's fields, by name (three queries)."""
    with store.read() as s:
        conns = s.exec(
            select(Playbook, PlaybookBlueprint.blueprint_id)
            .join(PlaybookBlueprint, PlaybookBlueprint.playbook_id == Playbook.id)
            .join(Blueprint, Blueprint.id == PlaybookBlueprint.blueprint_id)
            .where(
                Blueprint.integration_id == caller.integration_id,
                Playbook.account_id == caller.account_id,
            )
        ).all()
        books: dict[int, Playbook] = {}
        bps: dict[int, list[int]] = {}
        for pb, bp_id in conns:
            books[pb.id or 0] = pb
            bps.setdefault(pb.id or 0, []).append(bp_id)
        if not books:
            return []
        fields = s.exec(
            select(DataField)
            .where(col(DataField.playbook_id).in_(list(books)))
            .order_by(col(DataField.position), col(DataField.id))
        ).all()
        maps = s.exec(
            select(
                Mapping.playbook_id,
                BlueprintField.blueprint_id,
                Mapping.blueprint_field_id,
                BlueprintField.name,
                Mapping.data_field_id,
            )
            .join(BlueprintField, BlueprintField.id == Mapping.blueprint_field_id)
            .join(Blueprint, Blueprint.id == BlueprintField.blueprint_id)
            .where(
                col(Mapping.playbook_id).in_(list(books)),
                Blueprint.integration_id == caller.integration_id,
            )
            .order_by(col(Mapping.blueprint_field_id))
        ).all()
    per_fields: dict[int, list[ApiDataField]] = {}
    for f in fields:
        per_fields.setdefault(f.playbook_id or 0, []).append(
            ApiDataField(
                id=f.id or 0, name=f.name, description=f.description, default_value=f.default_value
            )
        )
    per_maps: dict[int, list[ApiMapping]] = {}
    for pb_id, bp_id, bf_id, bf_name, df_id in maps:
        per_maps.setdefault(pb_id, []).append(
            ApiMapping(
                blueprint_id=bp_id,
                blueprint_field_id=bf_id,
                blueprint_field_name=bf_name,
                data_field_id=df_id,
            )
        )
    out = [
        ApiPlaybook(
            id=pid,
            name=pb.name,
            description=pb.description,
            blueprint_ids=tuple(sorted(bps[pid])),
            data_fields=tuple(per_fields.get(pid, ())),
            mappings=tuple(per_maps.get(pid, ())),
        )
        for pid, pb in books.items()
    ]
    out.sort(key=lambda p: (natural_key(p.name), p.id))
    return out


# authenticate and authenticate_held refuse any token that is not one, whatever
# its type, as TokenRefused (tokens.check_quick).
validate.check_public(globals(), own={"authenticate": ["token"], "authenticate_held": ["token"]})

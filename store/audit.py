"""The audit log: every change, who, when, what, on which object. No secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import false
from sqlmodel import Session, col, func, or_, select

from . import clock, driver, logsearch, validate
from .errors import NotFound, ValidationError
from .models import AuditEntry
from .textmatch import contains, like_pattern

if TYPE_CHECKING:
    from .db import Store


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: int | None
    object_name: str
    detail: str


# No RETURNING of the id (no one reads it): on PostgreSQL it goes with the COMMIT.
_INSERT = driver.Prepared(AuditEntry.__table__.insert().inline())  # type: ignore[attr-defined]


def record(
    s: Session,
    *,
    account_id: int,
    actor: str,
    action: str,
    object_type: str,
    object_id: int | None = None,
    object_name: str = "",
    detail: str = "",
) -> None:
    """Add an audit entry inside the caller's transaction. Never pass a secret.

    What it quotes (a name, a URL, a receiver's words) is kept with control and
    invisible characters made visible (␛, ⟨U+202E⟩), as it will be shown."""
    # One INSERT through the transaction's connection, not an ORM object for the
    # session's flush to work out (a third of an API contract creation's store time).
    _INSERT.run_later(
        s,
        {
            "account_id": account_id,
            "at": clock.now(),
            "actor": validate.printable(actor),
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "object_name": validate.printable(object_name)[:200],
            "detail": validate.printable(detail),
        },
    )


# A page's rows as plain columns, in AuditRecord's order: a row of a log page is
# never changed, so no ORM object (its identity and state) is made for it; that
# was half the time of a page of 200 (4.6 ms, now ~2 ms).
_RECORD_COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.object_type,
    AuditEntry.object_id,
    AuditEntry.object_name,
    AuditEntry.detail,
)


def _to_record(e: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=e.id or 0,
        at=e.at,
        actor=e.actor,
        action=e.action,
        object_type=e.object_type,
        object_id=e.object_id,
        object_name=e.object_name,
        detail=e.detail,
    )


def _match(text: str, *, sqlite: bool) -> Any:
    """The filter's exact condition on an entry (None: no filter)."""
    text = text.strip()
    if "\x00" in text or validate.not_unicode(text):
        # No stored text holds NUL or undecodable bytes (validation refuses them,
        # and PostgreSQL cannot even compare with them): nothing matches.
        return false()
    if not text:
        return None
    like = like_pattern(text)
    return or_(
        contains(AuditEntry.actor, like, sqlite),
        contains(AuditEntry.action, like, sqlite),
        contains(AuditEntry.object_type, like, sqlite),
        contains(AuditEntry.object_name, like, sqlite),
    )


def _where(
    account_id: int,
    text: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    sqlite: bool = False,
) -> list:
    """The SQL conditions shared by counting a period and exporting (the
    account's comes first)."""
    conds: list = [AuditEntry.account_id == account_id]
    match = _match(text, sqlite=sqlite)
    if match is not None:
        conds.append(match)
    if since is not None:
        conds.append(AuditEntry.at >= since)
    if until is not None:
        conds.append(AuditEntry.at < until)
    return conds


def _listing(account_id: int) -> logsearch.Listing:
    # Entries are keyed by id, which follows time (an entry is written when it
    # happens): the (account, id) index lists them newest first.
    return logsearch.Listing(
        log=logsearch.AUDIT,
        time=AuditEntry.id,
        id=AuditEntry.id,
        scope=[AuditEntry.account_id == account_id],
        # ``+ 0`` keeps SQLite off the (account, id) index when the search
        # index's ids drive the query.
        scope_unindexed=[(AuditEntry.account_id + 0) == account_id],
        scope_key=(account_id,),
    )


def entries(
    store: Store,
    account_id: int,
    *,
    text: str = "",
    limit: int = 200,
    before_id: int | None = None,
) -> list[AuditRecord]:
    """One page of entries, newest first. ``text`` filters by actor, action or
    object (type or name), case-insensitively, as a substring, through the
    search index (store/logsearch.py; a filter of one or two characters looks
    at the newest ``logsearch.RECENT`` entries only). Keyset pagination: pass
    the last ``id`` of a page as ``before_id`` to get the next one, so any page
    costs the same however deep it is."""
    text = text.strip()
    if "\x00" in text or validate.not_unicode(text):
        return []  # nothing holds these (see _match)
    match = _match(text, sqlite=store.is_sqlite)
    before = None if before_id is None else (before_id, before_id)
    with store.read() as s:
        rows = logsearch.page(
            s,
            _listing(account_id),
            select(*_RECORD_COLUMNS),
            needle=text,
            match=match,
            limit=max(1, min(limit, 5000)),
            before=before,
        )
        return [AuditRecord(*r) for r in rows]


def count(
    store: Store,
    account_id: int,
    *,
    text: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    cap: int | None = None,
) -> int:
    """How many entries match (same filter as ``entries``), counted in SQL.
    ``cap``: stop counting there (the result is then at most ``cap + 1``,
    meaning "more than ``cap``"), so that a count never scans a long log."""
    if cap is not None and cap < 0:
        raise ValidationError("cap", "A count's cap is 0 or more.")
    text = text.strip()
    if since is not None or until is not None:
        conds = _where(account_id, text, since, until, sqlite=store.is_sqlite)
        q = select(func.count()).select_from(AuditEntry).where(*conds)
        with store.read() as s:
            return int(s.exec(q).one())
    if "\x00" in text or validate.not_unicode(text):
        return 0  # nothing holds these (see _match)
    match = _match(text, sqlite=store.is_sqlite)
    with store.read() as s:
        return logsearch.count(
            s,
            _listing(account_id),
            select(AuditEntry.id),
            needle=text,
            match=match,
            cap=cap,
        )


def get(store: Store, account_id: int, entry_id: int) -> AuditRecord:
    """One entry, whole."""
    with store.read() as s:
        e = s.get(AuditEntry, entry_id)
        if e is None or e.account_id != account_id:
            raise NotFound("That audit entry does not exist.")
        return _to_record(e)


def iter_entries(
    store: Store,
    account_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 1000,
) -> Iterator[AuditRecord]:
    """Every entry with ``since <= at < until``, oldest first, read in batches
    (keyset by id), so an export of any size holds one batch in memory."""
    for bound in (since, until):
        if bound is not None and bound.utcoffset() is None:
            raise ValidationError("since" if bound is since else "until", _NAIVE)
    after = 0
    conds = _where(account_id, since=since, until=until)
    while True:
        q = (
            select(AuditEntry)
            .where(*conds, AuditEntry.id > after)
            .order_by(col(AuditEntry.id))
            .limit(batch)
        )
        with store.read() as s:
            rows = [_to_record(e) for e in s.exec(q).all()]
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


_NAIVE = "A time bound needs a time zone (for example 2026-01-31T00:00:00+00:00)."


def as_json(r: AuditRecord) -> dict[str, object]:
    """An entry as a JSON object (times in ISO 8601, UTC)."""
    return {
        "id": r.id,
        "at": r.at.astimezone(UTC).isoformat(),
        "actor": r.actor,
        "action": r.action,
        "object_type": r.object_type,
        "object_id": r.object_id,
        "object_name": r.object_name,
        "detail": r.detail,
    }


def export_jsonl(
    store: Store,
    account_id: int,
    out: TextIO,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write entries with ``since <= at < until`` to ``out`` as JSON Lines,
    oldest first; returns how many were written."""
    n = 0
    for r in iter_entries(store, account_id, since=since, until=until):
        out.write(json.dumps(as_json(r), ensure_ascii=False) + "\n")
        n += 1
    return n


def parse_time(value: str, *, field: str) -> datetime:
    """A command-line time bound: ISO 8601 date or date-time; without a time
    zone it is taken as UTC. Refusals name the option (``--since``), undecodable
    bytes included (an argument's checks would say "Value")."""
    try:
        if not isinstance(value, str) or validate.not_unicode(value):
            raise ValueError
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            field,
            f"--{field} {value!r} is not a date or time: use e.g. 2026-01-31 or "
            "2026-01-31T14:00:00+00:00.",
        ) from None
    if at.utcoffset() is None:
        at = at.replace(tzinfo=UTC)
    return at


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals(), own={"parse_time": ("value",)})

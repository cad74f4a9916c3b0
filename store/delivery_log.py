"""The delivery log: every attempt on a saved webhook, in the ``delivery`` table,
and the log as screens list and open it. SQL only; nothing here sends.

Tests of a URL typed in the create form (``deliveries.test_url``) are *not*
logged on their own: there is no webhook yet to own them. When the
administrator then confirms the form, ``webhooks.create(..., test=result)``
logs that test as the new webhook's first delivery (``log_attempt``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, or_
from sqlmodel import Session, col, func, select

from . import logsearch, validate
from .db import Store
from .errors import NotFound, ValidationError
from .models import Delivery
from .sending import AttemptResult, clip_error, failure_kind, status_phrase
from .textmatch import contains, like_pattern


@dataclass(frozen=True)
class DeliveryInfo:
    """One logged attempt, as the delivery log lists it."""

    id: int
    webhook_id: int
    attempted_at: datetime
    event_type: str
    callback_id: str
    url: str
    success: bool
    status_code: int | None
    latency_ms: int | None
    error: str | None
    resend_of_id: int | None

    @property
    def result_label(self) -> str:
        """'200 OK', 'failed: 503 Service Unavailable' or 'failed: Timeout' style."""
        if self.success:
            return f"{self.status_code} {status_phrase(self.status_code)}".strip()
        if self.status_code is not None:
            return f"failed: {self.status_code} {status_phrase(self.status_code)}".strip()
        return f"failed: {(self.error or '').split(':', 1)[0]}"

    @property
    def short_label(self) -> str:
        """'200 OK', 'failed (503)' or 'failed (timeout)': narrow enough for a table."""
        if self.success:
            return self.result_label
        if self.status_code is not None:
            return f"failed ({self.status_code})"
        return f"failed ({failure_kind(self.error)})"


@dataclass(frozen=True)
class DeliveryDetail(DeliveryInfo):
    """A logged attempt in full: the request as sent and the response as read."""

    request_headers: tuple[tuple[str, str], ...]
    request_body: str
    response_excerpt: str
    # Its place in its webhook's log (1 = the oldest kept), and that of the
    # attempt it resends: what the delivery's page calls it, not the account-wide id.
    number: int = 0
    resend_of_number: int | None = None


def log_attempt(
    s: Session, webhook_id: int, attempt: AttemptResult, resend_of_id: int | None = None
) -> int:
    """Write an attempt to the delivery log inside the caller's transaction."""
    d = Delivery(
        webhook_id=webhook_id,
        callback_id=attempt.callback_id,
        event_type=attempt.event_type,
        url=attempt.url,
        attempted_at=attempt.attempted_at,
        success=attempt.ok,
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        error=None if attempt.ok else clip_error(attempt.reason),
        request_headers=json.dumps([list(h) for h in attempt.request_headers]),
        request_body=attempt.request_body,
        response_excerpt=attempt.response_excerpt,
        resend_of_id=resend_of_id,
    )
    s.add(d)
    s.flush()
    return d.id or 0


def _info_fields(d: Delivery) -> dict[str, Any]:
    return dict(
        id=d.id or 0,
        webhook_id=d.webhook_id or 0,
        attempted_at=d.attempted_at,
        event_type=d.event_type,
        callback_id=d.callback_id,
        url=d.url,
        success=d.success,
        status_code=d.status_code,
        latency_ms=d.latency_ms,
        error=d.error,
        resend_of_id=d.resend_of_id,
    )


# What the log lists: every column but the request and response themselves.
_INFO_COLUMNS = tuple(getattr(Delivery, name) for name in DeliveryInfo.__dataclass_fields__)


def _match(needle: str, sqlite: bool) -> Any:
    """The filter's exact condition on a delivery (None: no filter)."""
    if not needle:
        return None
    like = like_pattern(needle)

    def has(text) -> Any:
        # As the audit log's filter: no lower() per row on SQLite, whose
        # LIKE ignores ASCII case by itself; ESCAPE only when needed.
        return contains(text, like, sqlite)

    matches = [
        has(Delivery.event_type),
        has(Delivery.callback_id),
        has(Delivery.error),  # NULL (a success) matches nothing
    ]
    # Only digits can be in a status code, and only "ok" or "failed" in a
    # result: the other conditions are left out rather than computed per row.
    if needle.isdigit():
        matches.append(cast(Delivery.status_code, String).like(like))
    if needle in "ok":
        matches.append(col(Delivery.success).is_(True))
    if needle in "failed":
        matches.append(col(Delivery.success).is_(False))
    return or_(*matches)


def _listing(webhook_id: int) -> logsearch.Listing:
    return logsearch.Listing(
        log=logsearch.DELIVERY,
        time=Delivery.attempted_at,
        id=Delivery.id,
        scope=[Delivery.webhook_id == webhook_id],
        # ``+ 0``: not the listing index when the search index's ids drive the query.
        scope_unindexed=[(Delivery.webhook_id + 0) == webhook_id],
        scope_key=(webhook_id,),
    )


def deliveries(
    store: Store,
    webhook_id: int,
    limit: int = 200,
    text_filter: str = "",
    *,
    tests_only: bool = False,
    before_at: datetime | None = None,
    before_id: int | None = None,
) -> list[DeliveryInfo]:
    """A webhook's delivery log, newest first; ``text_filter`` matches event type,
    callback id, status code, error or result (``ok``, ``failed``), ignoring
    case, as a substring, through the search index (store/logsearch.py: a
    filter of one or two characters looks at the newest ``logsearch.RECENT``
    deliveries only). ``tests_only``: the attempts that belong to no event
    delivery (Tests and their resends; the webhook's page lists event
    deliveries by their state, ``delivery_states``). Keyset pagination: pass
    the last delivery's ``attempted_at`` and ``id`` as ``before_at``/``before_id``
    for the next page."""
    if "\x00" in text_filter or validate.not_unicode(text_filter):
        return []  # no stored text holds these (PostgreSQL cannot even compare them)
    if (before_at is None) != (before_id is None):
        raise ValidationError("before_id", "A page's key is a time and an id, both or neither.")
    needle = text_filter.strip().lower()
    before = None if before_at is None or before_id is None else (before_at, before_id)
    base = select(*_INFO_COLUMNS)
    if tests_only:
        base = base.where(col(Delivery.event_delivery_id).is_(None))
    with store.read() as s:
        rows = logsearch.page(
            s,
            _listing(webhook_id),
            base,
            needle=needle,
            match=_match(needle, store.is_sqlite),
            limit=max(1, min(limit, 5000)),
            before=before,
        )
        return [DeliveryInfo(**row._mapping) for row in rows]


def count(store: Store, webhook_id: int, text_filter: str = "", cap: int | None = None) -> int:
    """How many deliveries of the webhook match ``text_filter`` (as
    ``deliveries``), counting at most to ``cap + 1`` ("more than ``cap``")."""
    if "\x00" in text_filter or validate.not_unicode(text_filter):
        return 0
    if cap is not None and cap < 0:
        raise ValidationError("cap", "A count's cap is 0 or more.")
    needle = text_filter.strip().lower()
    with store.read() as s:
        return logsearch.count(
            s,
            _listing(webhook_id),
            select(Delivery.id),
            needle=needle,
            match=_match(needle, store.is_sqlite),
            cap=cap,
        )


def delivery(store: Store, delivery_id: int) -> DeliveryDetail:
    """One logged attempt in full."""
    with store.read() as s:
        d = s.get(Delivery, delivery_id)
        if d is None:
            raise NotFound("That delivery is no longer in the log.")
        try:
            headers = tuple((str(k), str(v)) for k, v in json.loads(d.request_headers or "[]"))
        except ValueError:
            headers = ()

        def place(delivery_id: int):
            return (
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.webhook_id == d.webhook_id, col(Delivery.id) <= delivery_id)
                .scalar_subquery()
            )

        # One round trip for both (no resend: a count of nothing, 0).
        number, resend_of = s.exec(select(place(d.id or 0), place(d.resend_of_id or 0))).one()
        return DeliveryDetail(
            **_info_fields(d),
            request_headers=headers,
            request_body=d.request_body,
            response_excerpt=d.response_excerpt,
            number=int(number or 0),
            resend_of_number=int(resend_of) if d.resend_of_id and resend_of else None,
        )


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())

"""Where each event delivery of a webhook stands, as screens list it, and
whether a dispatcher is running while deliveries wait. Reads only: the
dispatcher (``store.dispatch``) and the outbox (``store.outbox``) write the
queue (``event_delivery``); replays are ``store.replay``'s.

A delivery is one event to one webhook: pending (never tried), sending (a
dispatcher holds it), delivered, retrying (failed; the next attempt is
scheduled), exhausted (every attempt failed) or cancelled (its webhook or
integration stopped before it was delivered). Each attempt is a row of the
delivery log (``store.delivery_log``) pointing at its delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import or_
from sqlmodel import col, func, select

from . import clock, logsearch, validate
from .db import Store
from .models import Delivery, Dispatcher, EventDelivery
from .sending import RETRY_SCHEDULE_S, status_phrase
from .textmatch import contains, like_pattern

MAX_ATTEMPTS: Final = len(RETRY_SCHEDULE_S) + 1  # the first, then one per delay: 10
STATES: Final = ("pending", "sending", "delivered", "retrying", "exhausted", "cancelled")
WAITING: Final = ("pending", "sending", "retrying")  # a dispatcher still has them to send
# No dispatcher seen for this long while deliveries wait: screens say so.
DISPATCHER_GONE_AFTER: Final = timedelta(seconds=60)
NO_DISPATCHER: Final = "No dispatcher is running: start `integrations-admin serve` or `dispatch`"


@dataclass(frozen=True)
class QueuedDelivery:
    """One event delivered (or to be delivered) to one webhook, with its state."""

    id: int
    webhook_id: int
    event_type: str
    callback_id: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    # The newest attempt in the delivery log (None: not tried yet, or pruned).
    last_attempt_id: int | None = None
    last_latency_ms: int | None = None

    @property
    def waiting(self) -> bool:
        return self.state in WAITING

    @property
    def last_result(self) -> str:
        """The last attempt in a few words: '503 Service Unavailable', 'timeout', ''."""
        if self.last_status is not None:
            return f"{self.last_status} {status_phrase(self.last_status)}".strip()
        return (self.last_error or "").split(":", 1)[0]

    @property
    def state_label(self) -> str:
        """The state in words, without clock times (the screen adds the next
        attempt's time in its own format): 'pending', 'retrying (attempt 3 of 10)'."""
        if self.state == "retrying":
            return f"retrying (attempt {self.attempts + 1} of {MAX_ATTEMPTS})"
        if self.state == "sending":
            return f"sending (attempt {self.attempts + 1} of {MAX_ATTEMPTS})"
        if self.state == "exhausted":
            return f"exhausted ({self.attempts} attempts)"
        if self.state == "delivered" and self.attempts > 1:
            return f"delivered (attempt {self.attempts})"
        return self.state


_QUEUE_COLUMNS = tuple(
    getattr(EventDelivery, name)
    for name in QueuedDelivery.__dataclass_fields__
    if name not in ("webhook_id", "last_attempt_id", "last_latency_ms")
)


def _queue_match(needle: str, sqlite: bool) -> Any:
    """The filter's exact condition on an event delivery (None: no filter)."""
    if not needle:
        return None
    like = like_pattern(needle)
    return or_(
        *(
            contains(column, like, sqlite)
            for column in (
                EventDelivery.event_type,
                EventDelivery.callback_id,
                EventDelivery.state,
                EventDelivery.last_error,  # NULL (never failed) matches nothing
            )
        )
    )


def _queue_listing(webhook_id: int) -> logsearch.Listing:
    # Listed by id (ix_event_delivery_webhook): the order events came in.
    return logsearch.Listing(
        log=logsearch.EVENT_DELIVERY,
        time=EventDelivery.id,
        id=EventDelivery.id,
        scope=[EventDelivery.webhook_id == webhook_id],
        # ``+ 0``: not the listing index when the search index's ids drive the query.
        scope_unindexed=[(EventDelivery.webhook_id + 0) == webhook_id],
        scope_key=(webhook_id,),
    )


def queue_for_webhook(
    store: Store,
    account_id: int,
    webhook_id: int,
    limit: int = 200,
    text_filter: str = "",
    *,
    before_id: int | None = None,
) -> list[QueuedDelivery]:
    """The webhook's event deliveries, newest first, each with its state and its
    newest attempt; ``text_filter`` matches event type, callback id, state or the
    last error, ignoring case, as a substring, through the search index
    (store/logsearch.py: a filter of one or two characters looks at the newest
    ``logsearch.RECENT`` only). Keyset pagination: pass the last row's id as
    ``before_id`` for the next page. One statement; two when a filter of three
    characters or more did not fill its page from the newest ``RECENT`` rows."""
    if "\x00" in text_filter or validate.not_unicode(text_filter):
        return []
    # Its newest attempt, per row listed (the index on ``delivery.event_delivery_id``):
    # not a grouping of all the webhook's attempts, which grew with its log
    # (0.35-0.8 s at 200,000 events).
    last_id = (
        select(func.max(Delivery.id))
        .where(Delivery.event_delivery_id == EventDelivery.id)
        .correlate(EventDelivery)
        .scalar_subquery()
    )
    latency = (
        select(Delivery.latency_ms)
        .where(Delivery.id == last_id)
        .correlate(EventDelivery)
        .scalar_subquery()
    )
    base = select(
        *_QUEUE_COLUMNS,
        EventDelivery.webhook_id,
        last_id.label("last_id"),
        latency.label("latency_ms"),
    ).where(
        # ``+ 0``: a guard, not the index to list by (the webhook's, or the search's).
        (EventDelivery.account_id + 0) == account_id
    )
    needle = text_filter.strip().lower()
    out = []
    with store.read() as s:
        rows = logsearch.page(
            s,
            _queue_listing(webhook_id),
            base,
            needle=needle,
            match=_queue_match(needle, store.is_sqlite),
            limit=max(1, min(limit, 5000)),
            before=None if before_id is None else (before_id, before_id),
        )
        for row in rows:
            m = dict(row._mapping)
            last, latency_ms = m.pop("last_id"), m.pop("latency_ms")
            m["id"], m["webhook_id"] = m["id"] or 0, m["webhook_id"] or 0
            out.append(QueuedDelivery(**m, last_attempt_id=last, last_latency_ms=latency_ms))
    return out


@dataclass(frozen=True)
class DispatchStatus:
    """Deliveries of the account that wait for a dispatcher, and when one was last seen."""

    waiting: int
    last_seen_at: datetime | None
    now: datetime

    @property
    def no_dispatcher(self) -> bool:
        """Deliveries wait and no dispatcher has been seen for a minute."""
        if not self.waiting:
            return False
        return self.last_seen_at is None or self.now - self.last_seen_at > DISPATCHER_GONE_AFTER

    @property
    def warning(self) -> str:
        """What a screen says (the store's words), or '' when all is well."""
        return NO_DISPATCHER if self.no_dispatcher else ""


def dispatch_status(store: Store, account_id: int) -> DispatchStatus:
    """How many deliveries of the account wait (pending, sending or retrying) and
    when a dispatcher was last seen (any dispatcher: they serve every account).
    One round trip."""
    waiting = (
        select(func.count())
        .select_from(EventDelivery)
        # By the due index's states (few rows wait), the account checked on those:
        # ``+ 0`` keeps SQLite off the account's index, which read every delivery
        # the account ever had (194 ms at 870,000, at every open and poll of a page).
        .where((EventDelivery.account_id + 0) == account_id, col(EventDelivery.state).in_(WAITING))
        .scalar_subquery()
    )
    seen = select(func.max(Dispatcher.last_seen_at)).scalar_subquery()
    with store.read() as s:
        n, last = s.exec(select(waiting, seen)).one()
    if last is not None and last.tzinfo is None:  # an aggregate may come back naive
        last = last.replace(tzinfo=UTC)
    return DispatchStatus(int(n or 0), last, clock.now())


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())

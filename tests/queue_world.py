"""Deliveries in every state, written straight into the queue (``event_delivery``)
for the tests of what screens and replays do with them. The dispatcher's own
tests make them by sending; these tests need exact states and times.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import insert

from store import clock
from store.models import Delivery, Dispatcher, Event, EventDelivery, Webhook


def queued(
    store,
    account_id: int,
    webhook_id: int,
    state: str = "pending",
    *,
    attempts: int = 0,
    event_type: str = "contract:sign",
    last_attempt_at: datetime | None = None,
    created_at: datetime | None = None,
    next_attempt_at: datetime | None = None,
    last_status: int | None = None,
    log_attempts: bool = True,
) -> EventDelivery:
    """One event delivery in ``state`` with ``attempts`` logged attempts (the last
    failed with ``last_status`` unless delivered)."""
    now = clock.now()
    created = created_at or now
    with store.write(account_id) as s:
        ev = Event(account_id=account_id, type=event_type, payload="{}", created_at=created)
        s.add(ev)
        s.flush()
        d = EventDelivery(
            event_id=ev.id,
            webhook_id=webhook_id,
            account_id=account_id,
            callback_id=secrets.token_hex(20),
            event_type=event_type,
            state=state,
            attempts=attempts,
            created_at=created,
            next_attempt_at=next_attempt_at
            if next_attempt_at is not None
            else (now if state in ("pending", "retrying", "sending") else None),
            last_attempt_at=last_attempt_at if attempts else None,
            last_status=last_status if attempts else None,
            delivered_at=last_attempt_at if state == "delivered" else None,
        )
        s.add(d)
        s.flush()
        w = s.get(Webhook, webhook_id)
        for n in range(1, attempts + 1 if log_attempts else 1):
            ok = state == "delivered" and n == attempts
            s.add(
                Delivery(
                    webhook_id=webhook_id,
                    callback_id=d.callback_id,
                    event_type=event_type,
                    url=w.url,
                    attempted_at=(last_attempt_at or created) - timedelta(seconds=attempts - n),
                    success=ok,
                    status_code=200 if ok else last_status,
                    latency_ms=12,
                    error=None if ok else "HTTP 500",
                    request_body=json.dumps(
                        {
                            "callback_id": d.callback_id,
                            "events": [{"id": ev.id, "type": event_type}],
                        }
                    ),
                    event_delivery_id=d.id,
                    attempt=n,
                )
            )
        s.flush()
        s.expunge(d)
        return d


def bulk_queued(store, account_id: int, webhook_id: int, rows: list[dict]) -> None:
    """Setup only: event deliveries of ``webhook_id`` in one transaction, one event
    each, in the order given (ids follow). A row holds ``event_delivery``'s columns
    (``created_at`` at least); the callback id and event type have defaults."""
    with store.write(account_id) as s:
        event_ids = s.execute(
            insert(Event).returning(Event.id, sort_by_parameter_order=True),
            [
                dict(
                    account_id=account_id,
                    type=row.get("event_type", "contract:sign"),
                    payload="{}",
                    created_at=row["created_at"],
                )
                for row in rows
            ],
        ).scalars()
        s.execute(
            insert(EventDelivery),
            [
                {
                    "callback_id": secrets.token_hex(20),
                    "event_type": "contract:sign",
                    **row,
                    "event_id": event_id,
                    "webhook_id": webhook_id,
                    "account_id": account_id,
                }
                for event_id, row in zip(list(event_ids), rows, strict=True)
            ],
        )


def state_of(store, delivery_id: int) -> EventDelivery:
    with store.read() as s:
        d = s.get(EventDelivery, delivery_id)
        s.expunge(d)
        return d


def heartbeat(store, seen_at: datetime | None = None, name: str = "test:1:x") -> None:
    """A dispatcher's heartbeat row, last seen at ``seen_at`` (now by default)."""
    when = seen_at or clock.now()
    with store.write(None, whole_database=True) as s:
        row = s.get(Dispatcher, name)
        if row is None:
            s.add(Dispatcher(id=name, host="test", pid=1, started_at=when, last_seen_at=when))
        else:
            row.last_seen_at = when
            s.add(row)


def disable(store, account_id: int, webhook_id: int, reason: str, since: datetime) -> None:
    """The dispatcher's automatic disable, as its columns record it."""
    with store.write(account_id) as s:
        w = s.get(Webhook, webhook_id)
        w.disabled_at = clock.now()
        w.disabled_reason = reason
        w.first_failure_at = since
        w.exhausted_in_row = 5
        w.consecutive_failures = 50
        s.add(w)

"""The transactional outbox: a change that produces an event writes the event
and one pending delivery per subscribed webhook in its own transaction, so a
change that rolls back sends nothing and a change that commits is never lost.
The dispatcher (``store.dispatch``) sends what this writes.

A source of events adds one line inside its ``change``::

    outbox.emit(c, "contract:sign", {"contract": {"id": 7, "name": "Order 7"}},
                integration_id=..., contract_id=7)

Subscribed webhooks: the account's custom webhooks (managed ones are the
platform's own) whose integration is enabled and not suspended by the plan
(``catalog.suspended_by_plan``), that are not paused nor disabled, and whose
event filter takes the type (an empty filter takes every type).

Each event delivery gets its own callback id (one per event and webhook), the
same on every attempt and replay: a receiver deduplicates on it.

On PostgreSQL the transaction also sends ``NOTIFY`` on ``NOTIFY_CHANNEL``,
which PostgreSQL delivers only when it commits: an idle dispatcher wakes at
once, and never for a change that rolled back.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, or_, text
from sqlmodel import Session, col, select

from . import catalog, clock, driver, validate
from . import payload as _payload  # emit has an argument called payload
from .change import Change
from .models import Account, Event, EventDelivery, Integration, Webhook
from .webhooks import ALL_EVENTS, events_of

NOTIFY_CHANNEL = "integrations_admin_deliveries"
PAYLOAD_MAX = 64 * 1024  # characters of an event's JSON payload

_EVENT = Event.__table__  # type: ignore[attr-defined]
_QUEUE = EventDelivery.__table__  # type: ignore[attr-defined]
_INSERT_EVENT = driver.Prepared(_EVENT.insert().returning(_EVENT.c.id))
_INSERT_QUEUE = driver.Prepared(_QUEUE.insert())


@dataclass(frozen=True)
class Emitted:
    """What ``emit`` wrote: the event and the webhooks it was queued for."""

    event_id: int
    webhook_ids: tuple[int, ...]


_SUBSCRIBED = driver.Prepared(
    select(Webhook.id, Webhook.event_types, Integration.extension_key, Account.plan)
    .join(Integration, Integration.id == Webhook.integration_id)
    .join(Account, Account.id == Integration.account_id)
    .where(
        Integration.account_id == bindparam("account_id"),
        col(Integration.enabled).is_(True),
        col(Webhook.managed).is_(False),
        col(Webhook.paused).is_(False),
        col(Webhook.disabled_at).is_(None),
        # The filter, roughly in SQL (exactly below): all, or naming the type.
        or_(
            Webhook.event_types == ALL_EVENTS,
            col(Webhook.event_types).contains(bindparam("event_type")),
            Webhook.event_types == "",
        ),
    )
    .order_by(col(Webhook.id))
)  # built once: building it took more time than running it


def subscribed_webhooks(s: Session, account_id: int, event_type: str) -> list[int]:
    """The ids of the account's webhooks that receive ``event_type`` now (see the
    module's notes), in one query, inside the caller's transaction (what the
    session holds unwritten is written first, as the ORM's autoflush would)."""
    s.flush()
    rows = _SUBSCRIBED.run(s, {"account_id": account_id, "event_type": event_type})
    return [
        webhook_id or 0
        for webhook_id, events, key, plan in rows
        if catalog.suspended_by_plan(key, plan) is None
        and (not events_of(events) or event_type in events_of(events))
    ]


def emit(
    c: Change,
    event_type: str,
    payload: dict[str, Any],
    *,
    integration_id: int | None = None,
    contract_id: int | None = None,
    only: Collection[int] | None = None,
) -> Emitted:
    """Write the event ``event_type`` (``payload``: JSON-able facts about it, for
    the administrator) and a pending delivery to each subscribed webhook (of
    ``only``, when given: a trigger's choice), in the change ``c``'s
    transaction. Returns what was written."""
    s = c.s
    account_id = c.account_id or 0
    now = clock.now()
    body = json.dumps(payload, ensure_ascii=False, default=str)
    if len(body) > PAYLOAD_MAX:  # never refuse the change for its event's description
        body = json.dumps({"truncated": True, "type": event_type})
    event_id = _INSERT_EVENT.run(
        s,
        {
            "account_id": account_id,
            "integration_id": integration_id,
            "contract_id": contract_id,
            "type": event_type,
            "payload": body,
            "created_at": now,
        },
    )[0].id
    hooks = subscribed_webhooks(s, account_id, event_type)
    if only is not None:
        hooks = [h for h in hooks if h in only]
    if hooks:
        _INSERT_QUEUE.run(
            s,
            [
                {
                    "event_id": event_id,
                    "webhook_id": webhook_id,
                    "account_id": account_id,
                    "callback_id": _payload.new_callback_id(),  # the demo fixes this one
                    "event_type": event_type,
                    "state": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
                for webhook_id in hooks
            ],
        )
        notify(s)
    return Emitted(event_id, tuple(hooks))


def notify(s: Session) -> None:
    """Wake the dispatchers when the caller's transaction commits (PostgreSQL's
    NOTIFY; nothing on SQLite, whose dispatcher polls)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())

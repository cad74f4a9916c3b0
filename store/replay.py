"""Replay: send again what a webhook did not receive, through the dispatcher.

A replay is a new attempt of the *same* delivery (the same callback id, so a
receiver deduplicates): the delivery goes back to ``pending``, due now, with
its attempt count started again (a replayed delivery has the whole retry
schedule before it is exhausted again). It never makes a second delivery: one
that already waits (pending, or held by a dispatcher) is left as it is; one
that is retrying is made due now. Replays of a paused or disabled webhook are
refused (resume or enable it first: nothing would send).

Three ways in: deliveries chosen by id (a selection in the log), the attempts
chosen in the log (each replays the delivery it belongs to; a Test has none:
resend it instead), and every failed or exhausted delivery of a webhook whose
last attempt (or, never tried, whose creation) is at or after a time (the
command line's ``deliveries replay --webhook ID --since TIME``).

Each replay is one change with its audit entry (how many, never a payload).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from . import clock, outbox, validate
from .accounts import Actor
from .change import anyone, change, may_manage
from .db import Store
from .errors import Conflict, NotFound, ValidationError
from .models import Delivery, EventDelivery, Integration, Webhook
from .users import Operator
from .webhooks import audit_url

# ``--status`` words: failed (its last attempt failed and it was not delivered:
# retrying, exhausted, or cancelled when its webhook stopped), or exhausted only.
CHOICES: Final = ("failed", "exhausted")
_STATES_OF: Final = {
    "failed": ("retrying", "exhausted", "cancelled"),
    "exhausted": ("exhausted",),
}
REPLAY_MAX: Final = 10_000  # deliveries in one replay


@dataclass(frozen=True)
class ReplayResult:
    """What a replay did: ``queued`` sent again (due now), ``waiting`` already
    queued and left alone, ``not_events`` attempts that belong to no delivery
    (Tests: resend those)."""

    queued: int
    waiting: int = 0
    not_events: int = 0

    @property
    def label(self) -> str:
        """The outcome in one sentence, for the screen and the command line."""

        def n(k: int, one: str, many: str) -> str:
            return f"{k} {one if k == 1 else many}"

        parts = [n(self.queued, "delivery queued again", "deliveries queued again")]
        if self.waiting:
            parts.append(n(self.waiting, "was already waiting", "were already waiting"))
        if self.not_events:
            parts.append(
                n(self.not_events, "test is not an event", "tests are not events")
                + " (r on its page resends it)"
            )
        if not self.queued and not self.waiting and not self.not_events:
            return "Nothing to replay."
        return "; ".join(parts) + "."


def _check(who: object) -> object:
    return anyone if isinstance(who, Operator) else may_manage


def _webhook(s: Session, account_id: int, webhook_id: int) -> Webhook:
    w = s.get(Webhook, webhook_id)
    integ = s.get(Integration, w.integration_id) if w else None
    if w is None or integ is None or integ.account_id != account_id:
        raise NotFound("That webhook no longer exists.")
    if w.managed:
        raise Conflict(
            "This webhook is managed by its integration: its deliveries are not replayed here."
        )
    if w.disabled_at is not None:
        raise Conflict(
            f"This webhook was disabled ({w.disabled_reason or 'automatically'}): "
            "enable it first, then replay."
        )
    if w.paused:
        raise Conflict("This webhook is paused: resume it first, then replay.")
    return w


def _requeue(s: Session, rows: Sequence[EventDelivery]) -> tuple[int, int]:
    """Queue each delivery again unless it already waits; (queued, waiting)."""
    now = clock.now()
    queued = waiting = 0
    for d in rows:
        if d.state in ("pending", "sending"):
            waiting += 1
            continue
        if d.state == "retrying":
            d.next_attempt_at = now  # the same delivery, sooner: never a second one
        else:
            d.state = "pending"
            d.attempts = 0
            d.next_attempt_at = now
            d.lease_owner = None
            d.lease_until = None
            d.delivered_at = None
        s.add(d)
        queued += 1
    return queued, waiting


def _wake(s: Session) -> None:
    """Wake dispatchers listening on PostgreSQL, at commit (they poll otherwise)."""
    outbox.notify(s)


def _replay(store: Store, who: object, webhook_id: int, pick, doing_detail: str) -> ReplayResult:
    with change(store, who, "replay deliveries", check=_check(who)) as c:  # type: ignore[arg-type]
        w = _webhook(c.s, c.who.account_id, webhook_id)
        rows, not_events = pick(c.s, w)
        if len(rows) > REPLAY_MAX:
            raise ValidationError(
                "since",
                f"That is {len(rows)} deliveries; at most {REPLAY_MAX} are replayed at once: "
                "choose a later time.",
            )
        queued, waiting = _requeue(c.s, rows)
        if queued:
            c.log(
                "delivery.replay",
                "webhook",
                w.id,
                audit_url(w.url),
                f"{queued} deliver{'y' if queued == 1 else 'ies'} queued again{doing_detail}",
            )
            c.s.flush()
            _wake(c.s)
        return ReplayResult(queued, waiting, not_events)


def replay(
    store: Store, who: Actor | Operator, webhook_id: int, delivery_ids: list[int]
) -> ReplayResult:
    """Replay the webhook's event deliveries ``delivery_ids`` (ids of the queue,
    ``delivery_states.QueuedDelivery.id``); ids of other webhooks are not found."""
    ids = sorted(set(delivery_ids))

    def pick(s: Session, w: Webhook):
        rows = s.exec(
            select(EventDelivery)
            .where(EventDelivery.webhook_id == w.id, col(EventDelivery.id).in_(ids))
            .order_by(col(EventDelivery.id))
        ).all()
        if len(rows) != len(ids):
            raise NotFound(
                "Some of those deliveries are no longer in the log: reload it and choose again."
            )
        return rows, 0

    return _replay(store, who, webhook_id, pick, "")


def replay_attempts(
    store: Store, who: Actor | Operator, webhook_id: int, attempt_ids: list[int]
) -> ReplayResult:
    """Replay the deliveries that the logged attempts ``attempt_ids`` belong to
    (several attempts of one delivery replay it once); a Test has no delivery to
    replay and is counted in ``not_events``."""
    ids = sorted(set(attempt_ids))

    def pick(s: Session, w: Webhook):
        found = s.exec(
            select(Delivery.id, Delivery.event_delivery_id).where(
                Delivery.webhook_id == w.id, col(Delivery.id).in_(ids)
            )
        ).all()
        if len(found) != len(ids):
            raise NotFound(
                "Some of those attempts are no longer in the log: reload it and choose again."
            )
        of = sorted({e for _, e in found if e is not None})
        rows = s.exec(select(EventDelivery).where(col(EventDelivery.id).in_(of))).all()
        return rows, sum(1 for _, e in found if e is None)

    return _replay(store, who, webhook_id, pick, "")


def replay_since(
    store: Store,
    who: Actor | Operator,
    webhook_id: int,
    since: datetime,
    state: str | None = None,
) -> ReplayResult:
    """Replay every delivery of the webhook that failed (``state`` "failed",
    the default: retrying, exhausted or cancelled) or is exhausted (``state``
    "exhausted") and whose last attempt, or its creation when never tried, is at
    or after ``since``."""
    if state is not None and state not in CHOICES:
        raise ValidationError("state", f"Replay 'failed' or 'exhausted' deliveries, not {state!r}.")
    states = _STATES_OF[state or "failed"]
    if since.tzinfo is None:
        raise ValidationError("since", "The time needs a time zone (UTC when none is written).")

    def pick(s: Session, w: Webhook):
        when = func.coalesce(EventDelivery.last_attempt_at, EventDelivery.created_at)
        rows = s.exec(
            select(EventDelivery)
            .where(
                EventDelivery.webhook_id == w.id,
                col(EventDelivery.state).in_(states),
                or_(
                    col(EventDelivery.last_attempt_at) >= since,
                    (col(EventDelivery.last_attempt_at).is_(None))
                    & (col(EventDelivery.created_at) >= since),
                ),
            )
            .order_by(when, col(EventDelivery.id))
            .limit(REPLAY_MAX + 1)
        ).all()
        return rows, 0

    shown = since.astimezone(clock.now().tzinfo).strftime("%Y-%m-%d %H:%M:%S %Z")
    return _replay(store, who, webhook_id, pick, f" ({state or 'failed'} since {shown})")


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())

"""The dispatcher: sends what the outbox (``store.outbox``) queued, retries,
keeps each webhook's health, and deletes what is past the account's retention.

How it works (``Dispatcher.run``):

- **Claims** due event deliveries in batches, ahead of its sending slots (at
  most ``PREFETCH`` times as many claims as slots, claimed again once a slot's
  worth of room is free), so a slot that frees starts its next send at once
  instead of waiting for a claim's round trips. On PostgreSQL ``SELECT ... FOR
  UPDATE SKIP LOCKED`` then a lease (``lease_owner``, ``lease_until``), so any
  number of dispatchers on any number of machines share the work and never
  claim the same row; on SQLite
  inside the one-writer transaction, with one dispatcher per database (a second
  one waits until the first stops: ``Dispatcher.run``). While a row is
  ``sending`` its ``next_attempt_at`` is its ``lease_until``: a dispatcher that
  dies gives its claims back when the lease runs out, through the same index
  as any due delivery. A running dispatcher renews the leases of its claims
  with its heartbeat, so a lease can be short (``LEASE_S``).
- **Sends** concurrently, at most ``concurrency`` at once and at most
  ``per_webhook`` to one webhook (so one slow receiver cannot starve the
  rest), with ``store.sending`` and ``store.payload``: a fresh timestamp and
  both signatures on every attempt, the same callback id.
- **Logs** every attempt (a ``Delivery`` row with ``event_delivery_id`` and
  ``attempt``) and schedules the next: ``RETRY_SCHEDULE_S`` after each failure,
  then *exhausted* after ``MAX_ATTEMPTS``. A ``Retry-After`` on 429 or 503 is
  honoured (at most ``RETRY_AFTER_MAX_S``); ``410 Gone`` disables the webhook at
  once (what this dispatcher still holds for that webhook is given back, not
  sent). Results are written in batches, one transaction per batch; a success
  waits up to ``GATHER_S`` for others to be written with it, a failure not.
- **Health**: consecutive failures, last success, first failure since it, and
  exhausted deliveries in a row; a webhook whose deliveries all failed for 24
  hours, or with 5 exhausted in a row, is disabled automatically with an audit
  entry and ``disabled_reason`` (what screens show in their banner). The
  waiting deliveries of a disabled webhook are cancelled (replayable).
- **Wakes** on PostgreSQL's ``LISTEN`` (the outbox's ``NOTIFY`` arrives when the
  change commits), polls otherwise and as a fallback, and wakes itself for the
  retries it scheduled.
- **Heartbeat**: a ``dispatcher`` row renewed every few seconds, deleted on a
  clean stop (``dispatcher_missing`` tells screens when none was seen).
- **Stops cleanly** (``stop`` set, e.g. on SIGTERM or ctrl+c): no new claims,
  the sends in flight finish and are logged, claims not yet sent are released.
- **Retention**: every hour, attempts and events older than the account's
  ``retention_days`` are deleted (``purge_expired``).

The schedule can be run faster for tests and demonstrations: the environment
variable ``INTEGRATIONS_ADMIN_RETRY_SCALE`` (a factor, e.g. ``0.001``)
multiplies every delay of the schedule, ``Retry-After`` waits, and the 24 hours
of the automatic disable. Never set it in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import bindparam, delete, exists, func, or_, update
from sqlmodel import col, select

from . import audit, catalog, clock, payload, sending, validate
from .change import anyone, change
from .db import Store
from .delivery_log import DeliveryInfo
from .errors import NotFound
from .models import (
    Account,
    Delivery,
    Event,
    EventDelivery,
    Integration,
    Webhook,
)
from .models import (
    Dispatcher as DispatcherRow,
)
from .outbox import NOTIFY_CHANNEL
from .sending import RETRY_SCHEDULE_S, AttemptResult, clip_error
from .webhooks import audit_url as _audit_url
from .webhooks import previous_key_at, validate_url

log = logging.getLogger("integrations_admin.dispatch")

SCALE_ENV = "INTEGRATIONS_ADMIN_RETRY_SCALE"
MAX_ATTEMPTS = len(RETRY_SCHEDULE_S) + 1  # the first attempt, then one per delay: 10
RETRY_AFTER_MAX_S = 3600
RETRY_AFTER_STATUSES = (429, 503)
DISABLE_AFTER_FAILING_S = 24 * 3600  # only failures for this long: disabled
DISABLE_AFTER_EXHAUSTED = 5  # exhausted deliveries in a row: disabled
SEEN_WITHIN_S = 60  # a dispatcher not seen for this long is not running
HEARTBEAT_S = 5.0
LEASE_S = 60.0
RETENTION_EVERY_S = 3600.0
CONCURRENCY = 32
PER_WEBHOOK = 4
PREFETCH = 3  # claims held per sending slot (the sends in flight and the next ones)
GATHER_S = 0.02  # a write of outcomes waits this long for more to record with them
ACTOR = "integrations-admin dispatcher"  # who the audit log says disabled a webhook
WAITING = ("pending", "retrying", "sending")
_DISABLED_BEFORE = "Cancelled: the webhook was disabled before this delivery was sent."
STATES = ("pending", "sending", "delivered", "retrying", "exhausted", "cancelled")
NO_DISPATCHER = (
    "No dispatcher is running: start `integrations-admin serve` or `integrations-admin dispatch`."
)

_ED = EventDelivery.__table__  # type: ignore[attr-defined]
_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]


def retry_scale() -> float:
    """The factor of every delay (``INTEGRATIONS_ADMIN_RETRY_SCALE``; 1 when unset or
    not a positive number)."""
    try:
        value = float(os.environ.get(SCALE_ENV, "") or 1)
    except ValueError:
        return 1.0
    return value if 0 < value <= 1000 else 1.0


def retry_delay(
    attempts: int, status: int | None, retry_after_s: float | None, scale: float = 1.0
) -> float | None:
    """Seconds until the next attempt after ``attempts`` failed ones (None: exhausted).
    A ``Retry-After`` on 429/503 waits longer than the schedule if it asks to, never
    more than an hour."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = float(RETRY_SCHEDULE_S[max(attempts, 1) - 1])
    if status in RETRY_AFTER_STATUSES and retry_after_s is not None:
        delay = max(delay, min(float(retry_after_s), RETRY_AFTER_MAX_S))
    return delay * scale


def _due(now: datetime):
    """Event deliveries due at ``now``: new, retrying, or sending under a lease that
    ran out (``ix_event_delivery_due``)."""
    return or_(
        *(
            (EventDelivery.state == state) & (col(EventDelivery.next_attempt_at) <= now)
            for state in WAITING
        )
    )


# -- what screens read --------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedInfo:
    """One event delivery (an event to a webhook) and where it stands."""

    id: int
    webhook_id: int
    event_id: int
    event_type: str
    callback_id: str
    state: str  # pending | sending | delivered | retrying | exhausted | cancelled
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None  # retrying: when; sending: the lease's end
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    contract_id: int | None

    @property
    def state_label(self) -> str:
        """'retrying (attempt 3 of 10, next at 14:02:11)' style, in UTC."""
        if self.state == "retrying" and self.next_attempt_at is not None:
            at = self.next_attempt_at.strftime("%H:%M:%S")
            return f"retrying (attempt {self.attempts + 1} of {MAX_ATTEMPTS}, next at {at})"
        if self.state == "exhausted":
            return f"exhausted ({self.attempts} attempts)"
        return self.state


def deliveries_of_webhook(store: Store, webhook_id: int, limit: int = 200) -> list[QueuedInfo]:
    """A webhook's event deliveries, newest first, each with its state, attempt
    count and next attempt time (one query)."""
    q = (
        select(EventDelivery, Event.contract_id)
        .join(Event, Event.id == EventDelivery.event_id)
        .where(EventDelivery.webhook_id == webhook_id)
        .order_by(col(EventDelivery.id).desc())
        .limit(max(0, limit))
    )
    with store.read() as s:
        return [_queued(ed, contract_id) for ed, contract_id in s.exec(q).all()]


def deliveries_of_contract(store: Store, account_id: int, contract_id: int) -> list[QueuedInfo]:
    """The event deliveries of a contract's events, oldest first (one query)."""
    q = (
        select(EventDelivery, Event.contract_id)
        .join(Event, Event.id == EventDelivery.event_id)
        .where(Event.contract_id == contract_id, Event.account_id == account_id)
        .order_by(col(EventDelivery.id))
    )
    with store.read() as s:
        return [_queued(ed, cid) for ed, cid in s.exec(q).all()]


ENDED: Final = frozenset({"delivered", "exhausted", "cancelled"})  # a delivery's last states


@dataclass(frozen=True)
class Progress:
    """Where a trigger's deliveries stand: each one's state and the attempts
    logged after ``after_id``."""

    deliveries: tuple[QueuedInfo, ...]
    attempts: tuple[DeliveryInfo, ...]  # as the delivery log lists them

    @property
    def ended(self) -> bool:
        return all(d.state in ENDED for d in self.deliveries)


def event_progress(store: Store, account_id: int, event_id: int, after_id: int = 0) -> Progress:
    """The deliveries of an event (a trigger's) and their attempts logged after
    ``after_id`` (a delivery log id), in one read transaction."""
    with store.read() as s:
        rows = s.exec(
            select(EventDelivery, Event.contract_id)
            .join(Event, Event.id == EventDelivery.event_id)
            .where(EventDelivery.event_id == event_id, Event.account_id == account_id)
            .order_by(col(EventDelivery.webhook_id))
        ).all()
        queued = tuple(_queued(ed, cid) for ed, cid in rows)
        callbacks: Sequence[str] = [q.callback_id for q in queued]
        columns = [getattr(Delivery, name) for name in DeliveryInfo.__dataclass_fields__]
        attempts = (
            s.exec(
                select(*columns)
                .where(col(Delivery.callback_id).in_(callbacks), col(Delivery.id) > after_id)
                .order_by(col(Delivery.id))
            ).all()
            if callbacks
            else []
        )
        return Progress(queued, tuple(DeliveryInfo(*row) for row in attempts))


def _queued(ed: EventDelivery, contract_id: int | None) -> QueuedInfo:
    return QueuedInfo(
        id=ed.id or 0,
        webhook_id=ed.webhook_id or 0,
        event_id=ed.event_id or 0,
        event_type=ed.event_type,
        callback_id=ed.callback_id,
        state=ed.state,
        attempts=ed.attempts,
        created_at=ed.created_at,
        next_attempt_at=ed.next_attempt_at,
        last_attempt_at=ed.last_attempt_at,
        last_status=ed.last_status,
        last_error=ed.last_error,
        delivered_at=ed.delivered_at,
        contract_id=contract_id,
    )


@dataclass(frozen=True)
class Health:
    """A webhook's health as the dispatcher keeps it."""

    webhook_id: int
    paused: bool
    consecutive_failures: int
    last_success_at: datetime | None
    first_failure_at: datetime | None
    exhausted_in_row: int
    disabled_at: datetime | None
    disabled_reason: str | None
    waiting: int  # deliveries pending, retrying or being sent
    counts: dict[str, int] = field(default_factory=dict)  # state -> deliveries

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def label(self) -> str:
        """'ok', 'paused', '3 failing', 'disabled: ...': narrow enough for a list."""
        if self.disabled:
            return f"disabled: {self.disabled_reason or 'automatically'}"
        if self.paused:
            return "paused"
        if self.consecutive_failures:
            return f"{self.consecutive_failures} failing"
        return "ok" if self.last_success_at else "no deliveries yet"


def webhook_health(store: Store, account_id: int, webhook_id: int) -> Health:
    """A webhook's health and how many of its deliveries are in each state."""
    with store.read() as s:
        row = s.exec(
            select(Webhook)
            .join(Integration, Integration.id == Webhook.integration_id)
            .where(Webhook.id == webhook_id, Integration.account_id == account_id)
        ).first()
        if row is None:
            raise NotFound("That webhook no longer exists.")
        counts = {
            state: int(n)
            for state, n in s.exec(
                select(EventDelivery.state, func.count())
                .where(EventDelivery.webhook_id == webhook_id)
                .group_by(EventDelivery.state)
            ).all()
        }
    return Health(
        webhook_id=webhook_id,
        paused=row.paused,
        consecutive_failures=row.consecutive_failures,
        last_success_at=row.last_success_at,
        first_failure_at=row.first_failure_at,
        exhausted_in_row=row.exhausted_in_row,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        waiting=sum(counts.get(st, 0) for st in WAITING),
        counts=counts,
    )


@dataclass(frozen=True)
class DispatcherInfo:
    id: str
    host: str
    pid: int
    started_at: datetime
    last_seen_at: datetime


def dispatchers_seen(store: Store, within_s: int = SEEN_WITHIN_S) -> list[DispatcherInfo]:
    """The dispatchers whose heartbeat was seen in the last ``within_s`` seconds."""
    since = clock.precise_now() - timedelta(seconds=within_s)
    with store.read() as s:
        rows = s.exec(
            select(DispatcherRow)
            .where(DispatcherRow.last_seen_at >= since)
            .order_by(col(DispatcherRow.started_at))
        ).all()
    return [DispatcherInfo(r.id, r.host, r.pid, r.started_at, r.last_seen_at) for r in rows]


def dispatcher_missing(store: Store, account_id: int) -> str | None:
    """The status line's words when deliveries of the account wait and no
    dispatcher was seen for a minute (``NO_DISPATCHER``); None otherwise. One query."""
    since = clock.precise_now() - timedelta(seconds=SEEN_WITHIN_S)
    waiting = exists().where(  # by the due index (``+ 0``: as dispatch_status)
        (EventDelivery.account_id + 0) == account_id, col(EventDelivery.state).in_(WAITING)
    )
    seen = exists().where(DispatcherRow.last_seen_at >= since)
    with store.read() as s:
        waits, alive = s.exec(select(waiting, seen)).one()
    return NO_DISPATCHER if waits and not alive else None


# -- retention ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    attempts: int
    events: int


def purge_expired(store: Store) -> Purged:
    """Delete, per account, logged attempts and events (with their deliveries)
    older than its ``retention_days``; an event with a delivery still waiting is
    kept. One transaction."""
    now = clock.precise_now()
    attempts = events = 0
    with change(store, None, "delete expired deliveries", check=anyone) as c:
        for account_id, days in c.s.exec(select(Account.id, Account.retention_days)).all():
            cutoff = now - timedelta(days=max(1, int(days or 30)))
            hooks = (
                select(Webhook.id)
                .join(Integration, Integration.id == Webhook.integration_id)
                .where(Integration.account_id == account_id)
            )
            attempts += c.s.execute(
                delete(Delivery).where(
                    col(Delivery.attempted_at) < cutoff, col(Delivery.webhook_id).in_(hooks)
                )
            ).rowcount
            still = exists().where(
                EventDelivery.event_id == Event.id, col(EventDelivery.state).in_(WAITING)
            )
            events += c.s.execute(
                delete(Event).where(
                    Event.account_id == account_id, col(Event.created_at) < cutoff, ~still
                )
            ).rowcount
    return Purged(attempts, events)


# -- the dispatcher ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    id: int
    webhook_id: int
    account_id: int
    callback_id: str
    attempt: int  # the number of the attempt about to be made (1 = first)
    event: payload.Event
    contract_id: int | None
    url: str
    key: str | None
    timeout_s: int
    allow_private: bool
    previous_key: str | None = None  # a key rotation's overlap: it signs too


@dataclass(frozen=True)
class _Outcome:
    claim: _Claim
    result: AttemptResult


@dataclass
class Stats:
    """What a dispatcher did since it started."""

    claimed: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    exhausted: int = 0
    cancelled: int = 0
    released: int = 0
    disabled: int = 0


class Dispatcher:
    """One dispatcher (see the module's notes). ``say`` receives one line per
    thing worth telling an operator (the CLI prints them)."""

    def __init__(
        self,
        store: Store,
        *,
        concurrency: int = CONCURRENCY,
        per_webhook: int = PER_WEBHOOK,
        lease_s: float = LEASE_S,
        poll_s: float | None = None,
        heartbeat_s: float = HEARTBEAT_S,
        scale: float | None = None,
        say: Callable[[str], None] | None = None,
        verbose: bool = False,
    ) -> None:
        self.store = store
        self.concurrency = max(1, concurrency)
        self.per_webhook = max(1, per_webhook)
        self.lease_s = max(1.0, lease_s)
        self.poll_s = poll_s if poll_s is not None else (0.2 if store.is_sqlite else 1.0)
        self.heartbeat_s = min(heartbeat_s, self.lease_s / 3)
        self.scale = scale if scale is not None else retry_scale()
        self.say = say or (lambda line: log.info("%s", line))
        self.verbose = verbose
        self.id = f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.stats = Stats()
        self._inflight: dict[int, _Claim] = {}
        self._per_hook: dict[int, int] = {}
        self._sems: dict[int, asyncio.Semaphore] = {}
        self._slots: asyncio.Semaphore | None = None  # at most ``concurrency`` sends
        self._done: list[_Outcome] = []
        self._unsent: list[_Claim] = []
        self._gone: set[int] = set()  # webhooks that answered 410: nothing more sent
        self._urgent = False  # a failure to record: no waiting for more outcomes
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._flush_wake: asyncio.Event | None = None
        self._tasks: set[asyncio.Task] = set()
        self._last_retention = 0.0

    # -- the loop ------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> Stats:
        """Dispatch until ``stop`` is set, then stop cleanly; the counts of what it did."""
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._flush_wake = asyncio.Event()
        self._slots = asyncio.Semaphore(self.concurrency)
        if not await self._register(stop):
            return self.stats
        listener: threading.Thread | None = None
        if not self.store.is_sqlite:
            listener = threading.Thread(
                target=self._listen, args=(loop,), name="dispatch-listen", daemon=True
            )
            listener.start()
        beat = asyncio.create_task(self._beat())
        flusher = asyncio.create_task(self._flusher())
        stopper = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                got = await self._claim_some()
                if got:
                    continue  # there may be more: claim again at once (slots permitting)
                waiter = asyncio.create_task(self._wake.wait())
                await asyncio.wait(
                    {waiter, stopper}, timeout=self.poll_s, return_when=asyncio.FIRST_COMPLETED
                )
                waiter.cancel()
                self._wake.clear()
        finally:
            self._stopping = True
            stopper.cancel()
            if self._tasks:  # the sends in flight finish; those not started are released
                await asyncio.gather(*self._tasks, return_exceptions=True)
            # The writer records what is left, then returns: never cancelled mid-write.
            self._flush_wake.set()
            await asyncio.gather(flusher, return_exceptions=True)
            await asyncio.to_thread(self._release)
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            await asyncio.to_thread(self._unregister)
            if listener is not None:
                listener.join(timeout=2)
        return self.stats

    async def _claim_some(self) -> int:
        free = self.concurrency * PREFETCH - len(self._inflight)
        if free < self.concurrency or self._stopping:
            # More than a slot's worth is queued still: claim again once a whole
            # batch fits (one claim's round trips for many deliveries, not each).
            return 0
        full = tuple(w for w, n in self._per_hook.items() if n >= self.per_webhook * PREFETCH)
        # What this dispatcher still holds (sending, sent and not yet recorded, to
        # give back) is never claimed again by it, even when a late heartbeat let
        # its lease run out: it would be sent twice by the same process.
        held = (
            *self._inflight,
            *(o.claim.id for o in self._done),
            *(cl.id for cl in self._unsent),
        )
        claims = await asyncio.to_thread(self._claim, free, full, held)
        for claim in claims:
            self._inflight[claim.id] = claim
            self._per_hook[claim.webhook_id] = self._per_hook.get(claim.webhook_id, 0) + 1
            task = asyncio.create_task(self._send(claim))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(claims)

    async def _send(self, claim: _Claim) -> None:
        sem = self._sems.setdefault(claim.webhook_id, asyncio.Semaphore(self.per_webhook))
        assert self._slots is not None
        try:
            async with sem, self._slots:
                if self._stopping or claim.webhook_id in self._gone:
                    # Given back (a clean stop), or queued for a webhook that
                    # answered 410 meanwhile: given back, and cancelled with the
                    # webhook's disable (recorded first).
                    self._unsent.append(claim)
                    if not self._stopping:
                        self._urgent = True
                        assert self._flush_wake is not None
                        self._flush_wake.set()
                    return
                prep = payload.prepare(
                    claim.url,
                    claim.key,
                    [claim.event],
                    callback_id=claim.callback_id,
                    contract_id=claim.contract_id,
                    previous_key=claim.previous_key,
                )
                result = await self._attempt(claim, prep)
                self.stats.sent += 1
                if result.status_code == 410:
                    self._gone.add(claim.webhook_id)
                if not result.ok:
                    self._urgent = True
                self._done.append(_Outcome(claim, result))
                assert self._flush_wake is not None
                self._flush_wake.set()
        finally:
            self._inflight.pop(claim.id, None)
            left = self._per_hook.get(claim.webhook_id, 1) - 1
            if left:
                self._per_hook[claim.webhook_id] = left
            else:
                self._per_hook.pop(claim.webhook_id, None)
                # None of its claims left here: what comes next is claimed anew,
                # and the claim cancels it if the webhook is disabled.
                self._gone.discard(claim.webhook_id)
            if self._wake is not None:
                self._wake.set()  # a slot is free

    async def _attempt(self, claim: _Claim, prep: payload.Prepared) -> AttemptResult:
        try:
            validate_url(claim.url, allow_private=claim.allow_private)
        except Exception as exc:  # e.g. http after private networks were turned off
            return sending.refused(prep, getattr(exc, "message", str(exc)))
        try:
            return await sending.send(
                prep, timeout_s=claim.timeout_s, allow_private=claim.allow_private
            )
        except Exception as exc:  # never lose the claim to an unexpected error
            log.exception("sending %s failed unexpectedly", claim.callback_id)
            return sending.refused(prep, f"Delivery failed: {type(exc).__name__}: {exc}")

    async def _flusher(self) -> None:
        assert self._flush_wake is not None
        while True:
            await self._flush_wake.wait()
            if not (self._stopping or self._urgent) and len(self._done) < self.concurrency:
                await asyncio.sleep(GATHER_S)  # one transaction for the successes around
            self._flush_wake.clear()
            self._urgent = False
            if self._done:
                # Taken here, on the loop that appends to it, never in the thread.
                batch, self._done = self._done, []
                try:
                    wake_in = await asyncio.to_thread(self._write_outcomes, batch)
                except Exception as exc:  # the database away: keep them, try again
                    if self._stopping:  # their leases run out: they are sent again
                        self.say(f"Cannot record {len(batch)} deliveries ({exc}).")
                        return
                    self._done = batch + self._done
                    self.say(f"Cannot record deliveries yet ({exc}); retrying.")
                    await asyncio.sleep(1)
                    self._flush_wake.set()
                    continue
                if wake_in is not None:
                    asyncio.get_running_loop().call_later(max(0.0, wake_in), self._wake_up)
                if self._wake is not None:
                    self._wake.set()
            if self._unsent and not self._stopping:
                # After the outcomes (a 410's disable first): due again, and then
                # cancelled by the claim that finds the webhook disabled.
                unsent, self._unsent = self._unsent, []
                try:
                    await asyncio.to_thread(self._release, unsent)
                except Exception as exc:  # their leases run out: claimed again then
                    self.say(f"Cannot give back {len(unsent)} deliveries yet ({exc}).")
            if self._stopping and not self._done:
                return

    def _wake_up(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await asyncio.to_thread(self._heartbeat)
                if loop.time() - self._last_retention >= RETENTION_EVERY_S:
                    self._last_retention = loop.time()
                    purged = await asyncio.to_thread(purge_expired, self.store)
                    if purged.attempts or purged.events:
                        self.say(
                            f"Retention: deleted {purged.attempts} attempts and "
                            f"{purged.events} events past their account's retention."
                        )
            except Exception as exc:
                self.say(f"Heartbeat failed ({exc}); trying again.")

    def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        """PostgreSQL LISTEN in a thread of its own: each NOTIFY wakes the loop."""
        engine = self.store.engine
        while not self._stopping:
            try:
                cargs, cparams = engine.dialect.create_connect_args(engine.url)
                conn = engine.dialect.loaded_dbapi.connect(*cargs, **cparams)
                conn.autocommit = True
                try:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self._stopping:
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            loop.call_soon_threadsafe(self._wake_up)
                finally:
                    conn.close()
            except Exception as exc:  # polling goes on meanwhile
                if self._stopping:
                    return
                log.warning("LISTEN failed (%s); polling until it works again", exc)
                threading.Event().wait(2)

    # -- the database side (each in a thread) ---------------------------------------------

    async def _register(self, stop: asyncio.Event) -> bool:
        """Write this dispatcher's heartbeat row. On SQLite, wait while another
        dispatcher runs on the same database (one claims at a time)."""
        told = False
        while not stop.is_set():
            other = await asyncio.to_thread(self._register_once)
            if other is None:
                return True
            if not told:
                self.say(
                    f"Another dispatcher ({other}) is running on this SQLite database, and "
                    "one is enough: waiting until it stops (ctrl+c to quit)."
                )
                told = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.heartbeat_s)
        return False

    def _register_once(self) -> str | None:
        now = clock.precise_now()
        with change(self.store, None, "start dispatchers", check=anyone) as c:
            if self.store.is_sqlite:
                since = now - timedelta(seconds=max(self.heartbeat_s * 3, 1.0))
                for other in c.s.exec(
                    select(DispatcherRow).where(
                        DispatcherRow.id != self.id, DispatcherRow.last_seen_at >= since
                    )
                ).all():
                    if other.host == socket.gethostname()[:200] and not _alive(other.pid):
                        c.s.delete(other)  # killed on this machine: no need to wait for it
                        continue
                    return f"pid {other.pid} on {other.host}"
            c.s.add(
                DispatcherRow(
                    id=self.id,
                    host=socket.gethostname()[:200],
                    pid=os.getpid(),
                    started_at=now,
                    last_seen_at=now,
                )
            )
            # Rows of dispatchers gone for a day are of no use to anyone.
            c.s.execute(
                delete(DispatcherRow).where(
                    col(DispatcherRow.last_seen_at) < now - timedelta(days=1)
                )
            )
        return None

    def _heartbeat(self) -> None:
        now = clock.precise_now()
        until = now + timedelta(seconds=self.lease_s)
        with change(self.store, None, "renew leases", check=anyone) as c:
            c.s.execute(
                update(DispatcherRow).where(DispatcherRow.id == self.id).values(last_seen_at=now)
            )
            c.s.execute(
                update(EventDelivery)
                .where(EventDelivery.lease_owner == self.id, EventDelivery.state == "sending")
                .values(lease_until=until, next_attempt_at=until)
            )

    def _unregister(self) -> None:
        with change(self.store, None, "stop dispatchers", check=anyone) as c:
            c.s.execute(delete(DispatcherRow).where(DispatcherRow.id == self.id))

    def _claim(self, limit: int, full: tuple[int, ...], held: tuple[int, ...] = ()) -> list[_Claim]:
        now = clock.precise_now()
        until = now + timedelta(seconds=self.lease_s)
        probe = select(EventDelivery.id).where(_due(now)).limit(1)
        with self.store.read() as s:  # idle: no write transaction for nothing
            if s.exec(probe).first() is None:
                return []
        q = (
            select(
                EventDelivery.id,
                EventDelivery.webhook_id,
                EventDelivery.account_id,
                EventDelivery.callback_id,
                EventDelivery.attempts,
                col(Event.id).label("event_id"),
                Event.type,
                col(Event.created_at).label("event_at"),
                Event.contract_id,
                Webhook.url,
                Webhook.sign_key,
                Webhook.previous_key,
                Webhook.previous_key_until,
                Webhook.managed,
                Webhook.disabled_at,
                Integration.enabled,
                Integration.extension_key,
                Account.plan,
                Account.webhook_timeout_s,
                Account.allow_private_webhooks,
            )
            .join(Event, Event.id == EventDelivery.event_id)
            .join(Webhook, Webhook.id == EventDelivery.webhook_id)
            .join(Integration, Integration.id == Webhook.integration_id)
            .join(Account, Account.id == Integration.account_id)
            .where(_due(now), col(Webhook.paused).is_(False))
            .order_by(col(EventDelivery.next_attempt_at))
            .limit(limit)
        )
        if full:
            q = q.where(col(EventDelivery.webhook_id).notin_(full))
        if held:
            q = q.where(col(EventDelivery.id).notin_(held))
        if not self.store.is_sqlite:
            q = q.with_for_update(skip_locked=True, of=EventDelivery)
        claims: list[_Claim] = []
        cancelled: list[tuple[int, str]] = []
        with change(self.store, None, "claim deliveries", check=anyone) as c:
            for row in c.s.exec(q).all():
                name = catalog.extension(row.extension_key).name
                suspended = catalog.suspended_by_plan(row.extension_key, row.plan)
                why = None
                if row.disabled_at is not None:
                    why = _DISABLED_BEFORE
                elif row.managed:
                    why = "Cancelled: this webhook is managed by the platform."
                elif not row.enabled:
                    why = f"Cancelled: {name} was disabled before this delivery was sent."
                elif suspended:
                    why = f"Cancelled: {suspended}"
                if why:
                    cancelled.append((row.id, why))
                    continue
                claims.append(
                    _Claim(
                        id=row.id,
                        webhook_id=row.webhook_id,
                        account_id=row.account_id,
                        callback_id=row.callback_id,
                        attempt=row.attempts + 1,
                        event=payload.Event(
                            id=row.event_id, type=row.type, created_at=row.event_at
                        ),
                        contract_id=row.contract_id,
                        url=row.url,
                        key=row.sign_key,
                        timeout_s=row.webhook_timeout_s,
                        allow_private=row.allow_private_webhooks,
                        previous_key=previous_key_at(
                            row.sign_key, row.previous_key, row.previous_key_until, now
                        ),
                    )
                )
            if claims:
                c.s.execute(
                    update(EventDelivery)
                    .where(col(EventDelivery.id).in_([cl.id for cl in claims]))
                    .values(
                        state="sending",
                        lease_owner=self.id,
                        lease_until=until,
                        next_attempt_at=until,
                    )
                )
            for ed_id, why in cancelled:
                c.s.execute(
                    update(EventDelivery)
                    .where(EventDelivery.id == ed_id)
                    .values(
                        state="cancelled",
                        next_attempt_at=None,
                        lease_owner=None,
                        lease_until=None,
                        last_error=clip_error(why),
                    )
                )
        self.stats.claimed += len(claims)
        self.stats.cancelled += len(cancelled)
        return claims

    def _release(self, unsent: list[_Claim] | None = None) -> None:
        """Give back the claims not sent (a clean stop; ``unsent``: those queued
        for a webhook that answered 410): due again at once."""
        if unsent is None:
            unsent, self._unsent = self._unsent, []
        if not unsent:
            return
        now = clock.precise_now()
        with change(self.store, None, "release deliveries", check=anyone) as c:
            for claim in unsent:
                c.s.execute(
                    update(EventDelivery)
                    .where(
                        EventDelivery.id == claim.id,
                        EventDelivery.lease_owner == self.id,
                        EventDelivery.state == "sending",
                    )
                    .values(
                        state="pending" if claim.attempt == 1 else "retrying",
                        next_attempt_at=now,
                        lease_owner=None,
                        lease_until=None,
                    )
                )
            # Those of a webhook disabled meanwhile (a 410) are cancelled with it, as
            # the next claim would: in the same words.
            disabled = select(Webhook.id).where(col(Webhook.disabled_at).is_not(None))
            c.s.execute(
                update(EventDelivery)
                .where(
                    col(EventDelivery.id).in_([claim.id for claim in unsent]),
                    col(EventDelivery.state).in_(("pending", "retrying")),
                    col(EventDelivery.webhook_id).in_(disabled),
                )
                .values(state="cancelled", next_attempt_at=None, last_error=_DISABLED_BEFORE)
            )
        self.stats.released += len(unsent)

    def _write_outcomes(self, outcomes: list[_Outcome]) -> float | None:
        """Log the finished attempts, move their deliveries on, keep the webhooks'
        health: one transaction. Returns the seconds until the soonest retry it
        scheduled (None: none)."""
        if not outcomes:
            return None
        now = clock.precise_now()
        soonest: float | None = None
        attempts_rows = []
        states = []
        for o in outcomes:
            r, cl = o.result, o.claim
            attempts_rows.append(
                {
                    "webhook_id": cl.webhook_id,
                    "callback_id": r.callback_id,
                    "event_type": r.event_type,
                    "url": r.url,
                    "attempted_at": r.attempted_at,
                    "success": r.ok,
                    "status_code": r.status_code,
                    "latency_ms": r.latency_ms,
                    "error": None if r.ok else clip_error(r.reason),
                    "request_headers": json.dumps([list(h) for h in r.request_headers]),
                    "request_body": r.request_body,
                    "response_excerpt": r.response_excerpt,
                    "resend_of_id": None,
                    "event_delivery_id": cl.id,
                    "attempt": cl.attempt,
                }
            )
        hook_ids = sorted({o.claim.webhook_id for o in outcomes})
        notices: list[str] = []
        with change(self.store, None, "record deliveries", check=anyone) as c:
            s = c.s
            q = select(Webhook).where(col(Webhook.id).in_(hook_ids)).order_by(col(Webhook.id))
            if not self.store.is_sqlite:
                q = q.with_for_update()
            hooks = {w.id: w for w in s.exec(q).all()}
            alive = [row for row in attempts_rows if row["webhook_id"] in hooks]
            if alive:
                s.execute(_DELIVERY.insert(), alive)
            disable: dict[int, str] = {}
            for o in outcomes:
                r, cl = o.result, o.claim
                w = hooks.get(cl.webhook_id)
                if w is None:
                    continue  # deleted meanwhile: its deliveries went with it
                values: dict[str, object] = {
                    "b_id": cl.id,
                    "attempts": cl.attempt,
                    "last_attempt_at": r.attempted_at,
                    "last_status": r.status_code,
                    "last_error": None if r.ok else clip_error(r.reason),
                    "delivered_at": None,
                    "next_attempt_at": None,
                }
                if r.ok:
                    self.stats.delivered += 1
                    values["state"] = "delivered"
                    values["delivered_at"] = now
                    w.consecutive_failures = 0
                    w.last_success_at = now
                    w.first_failure_at = None
                    w.exhausted_in_row = 0
                else:
                    self.stats.failed += 1
                    w.consecutive_failures += 1
                    w.first_failure_at = w.first_failure_at or r.attempted_at
                    delay = retry_delay(cl.attempt, r.status_code, r.retry_after_s, self.scale)
                    if r.status_code == 410:
                        values["state"] = "cancelled"
                        disable[w.id or 0] = (
                            f"The receiver answered 410 Gone on {_when(now)}: it no longer "
                            "accepts deliveries."
                        )
                    elif w.disabled_at is not None or (w.id or 0) in disable:
                        values["state"] = "cancelled"
                    elif delay is None:
                        self.stats.exhausted += 1
                        values["state"] = "exhausted"
                        w.exhausted_in_row += 1
                    else:
                        values["state"] = "retrying"
                        values["next_attempt_at"] = now + timedelta(seconds=delay)
                        soonest = delay if soonest is None else min(soonest, delay)
                    if w.disabled_at is None and (w.id or 0) not in disable:
                        if w.exhausted_in_row >= DISABLE_AFTER_EXHAUSTED:
                            disable[w.id or 0] = (
                                f"{w.exhausted_in_row} deliveries in a row were exhausted "
                                f"({MAX_ATTEMPTS} attempts each) without one delivered."
                            )
                        elif (
                            w.first_failure_at is not None
                            and (now - w.first_failure_at).total_seconds()
                            >= DISABLE_AFTER_FAILING_S * self.scale
                        ):
                            disable[w.id or 0] = (
                                f"Every delivery failed for {_span(DISABLE_AFTER_FAILING_S)} "
                                f"(since {_when(w.first_failure_at)})."
                            )
                states.append(values)
            if states:
                s.execute(
                    update(_ED)
                    .where(
                        _ED.c.id == bindparam("b_id"),
                        _ED.c.lease_owner == self.id,
                        _ED.c.state == "sending",
                    )
                    .values(
                        state=bindparam("state"),
                        attempts=bindparam("attempts"),
                        last_attempt_at=bindparam("last_attempt_at"),
                        last_status=bindparam("last_status"),
                        last_error=bindparam("last_error"),
                        delivered_at=bindparam("delivered_at"),
                        next_attempt_at=bindparam("next_attempt_at"),
                        lease_owner=None,
                        lease_until=None,
                    ),
                    states,
                )
            for hook_id, reason in disable.items():
                w = hooks[hook_id]
                if w.disabled_at is not None:
                    # Disabled already (another 410 recorded in an earlier batch,
                    # or by another dispatcher): one disable, one audit entry.
                    continue
                w.disabled_at = now
                w.disabled_reason = reason
                s.execute(
                    update(EventDelivery)
                    .where(
                        EventDelivery.webhook_id == hook_id,
                        col(EventDelivery.state).in_(("pending", "retrying")),
                    )
                    .values(
                        state="cancelled",
                        next_attempt_at=None,
                        last_error=clip_error(f"Cancelled: the webhook was disabled. {reason}"),
                    )
                )
                account_id = next(
                    o.claim.account_id for o in outcomes if o.claim.webhook_id == hook_id
                )
                audit.record(
                    s,
                    account_id=account_id,
                    actor=ACTOR,
                    action="webhook.disable",
                    object_type="webhook",
                    object_id=hook_id,
                    object_name=_audit_url(w.url),
                    detail=f"disabled automatically: {reason}",
                )
                notices.append(f"Disabled the webhook {_audit_url(w.url)}: {reason}")
                self.stats.disabled += 1
            for w in hooks.values():
                s.add(w)
        for line in notices:
            self.say(line)
        if self.verbose:
            ok = sum(1 for o in outcomes if o.result.ok)
            self.say(f"Sent {len(outcomes)} ({ok} delivered, {len(outcomes) - ok} failed).")
        return soonest


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it exists
        return True
    return True


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _span(seconds: int) -> str:
    return f"{seconds // 3600} hours" if seconds % 3600 == 0 else f"{seconds} s"


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())

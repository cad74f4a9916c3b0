"""The dispatcher (issue 17) on SQLite and PostgreSQL, with real receivers on
loopback and signatures checked by the ``standardwebhooks`` library: retries on
the scaled schedule with the same callback id, Retry-After, 410, exhaustion,
automatic disable, a clean stop, retention, and the "no dispatcher" words."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import select
from standardwebhooks import Webhook as StandardWebhook

from store import audit, clock, contracts, dispatch, settings, webhooks
from store.change import anyone, change
from store.models import Delivery, Event, EventDelivery, Webhook

from ..contracts_world import World, build
from ..receivers import Receiver, always, in_turn

SCALE = 0.001  # the schedule's 1, 5, 10 ... 3600 s become 1, 5, 10 ... 3600 ms


@pytest.fixture
def world(store, owner) -> World:
    settings.set_allow_private_webhooks(store, owner, True)
    settings.set_webhook_timeout(store, owner, 2)
    return build(store, owner)


@pytest.fixture
def rx():
    made: list[Receiver] = []

    def make(answer=None, delay_s: float = 0.0) -> Receiver:
        r = Receiver(answer or always(200), delay_s)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def _hook(store, owner, world, url: str, events=None, key=None) -> int:
    return webhooks.create(
        store, owner, world.integration_id, url=url, event_types=events, sign_key=key
    ).id


def _emit(store, owner, event_type="contract:sign", n=1) -> None:
    with change(store, None, "emit", check=anyone, account_id=owner.account_id) as c:
        from store import outbox

        for _ in range(n):
            outbox.emit(c, event_type, {"test": True})


def _states(store) -> list[str]:
    with store.read() as s:
        return list(s.exec(select(EventDelivery.state).order_by(EventDelivery.id)).all())


def _attempts(store) -> list[Delivery]:
    with store.read() as s:
        return list(
            s.exec(
                select(Delivery)
                .where(Delivery.event_delivery_id.is_not(None))  # type: ignore[union-attr]
                .order_by(Delivery.id)
            ).all()
        )


async def run_until(d: dispatch.Dispatcher, done: Callable[[], bool], timeout: float = 60):
    """Run ``d`` until ``done()`` (read in a thread) holds, then stop it cleanly."""
    stop = asyncio.Event()
    task = asyncio.create_task(d.run(stop))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while not await asyncio.to_thread(done):
            assert not task.done(), "the dispatcher stopped by itself"
            assert loop.time() < deadline, "timed out waiting for the dispatcher"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
    return d.stats


def _dispatcher(store, **kw) -> dispatch.Dispatcher:
    kw.setdefault("scale", SCALE)
    kw.setdefault("poll_s", 0.05)
    return dispatch.Dispatcher(store, **kw)


async def test_a_signed_contract_reaches_the_subscribed_webhook_once_with_valid_signatures(
    store, owner, world, rx
):
    yes, no = rx(), rx()
    key = webhooks.generate_signing_key()
    _hook(store, owner, world, yes.url, ["contract:sign"], key)
    _hook(store, owner, world, no.url, ["contract:decline"])
    caller = world.caller(store)
    cid = contracts.create(
        store, caller, playbook_id=world.playbook_id, name="Order", values={"Amount": "5"}
    ).contract.id
    contracts.publish(store, caller, cid)
    contracts.sign(store, caller, cid)
    await run_until(_dispatcher(store), lambda: "sending" not in _states(store) and yes.count())
    assert no.count() == 0
    [req] = yes.requests
    body = StandardWebhook(key).verify(req.body, req.headers)
    assert body["signature"] == hashlib.sha1((body["callback_id"] + key).encode()).hexdigest()
    assert [e["type"] for e in body["events"]] == ["contract:sign"]
    assert body["contract"] == {"id": cid}
    [row] = _attempts(store)
    assert (row.success, row.attempt, row.callback_id) == (True, 1, body["callback_id"])
    assert _states(store) == ["delivered"]


async def test_500_500_200_is_three_attempts_on_the_scaled_schedule_same_callback_id(
    store, owner, world, rx
):
    r = rx(in_turn(500, 500, 200))
    hook = _hook(store, owner, world, r.url)
    _emit(store, owner)
    stats = await run_until(_dispatcher(store), lambda: _states(store) == ["delivered"])
    assert (stats.sent, stats.delivered, stats.failed) == (3, 1, 2)
    assert len(r.requests) == 3
    assert len({q.callback_id for q in r.requests}) == 1
    assert len({q.headers["content-type"] for q in r.requests}) == 1
    gaps = [b.at - a.at for a, b in zip(r.requests, r.requests[1:], strict=False)]
    assert gaps[0] >= 1 * SCALE and gaps[1] >= 5 * SCALE  # 1 s then 5 s, scaled
    logged = _attempts(store)
    assert [(d.attempt, d.status_code, d.success) for d in logged] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert {d.callback_id for d in logged} == {r.requests[0].callback_id}
    health = dispatch.webhook_health(store, owner.account_id, hook)
    assert health.consecutive_failures == 0 and health.last_success_at is not None
    assert health.first_failure_at is None and health.label == "ok"


async def test_retry_after_on_503_and_429_is_honoured_at_most_an_hour(store, owner, world, rx):
    r = rx(in_turn((503, {"Retry-After": "200"}), 200))
    _hook(store, owner, world, r.url)
    _emit(store, owner)
    await run_until(_dispatcher(store, scale=0.002), lambda: _states(store) == ["delivered"])
    # 200 s asked (0.4 s scaled), where the schedule says 1 s (2 ms scaled).
    assert r.requests[1].at - r.requests[0].at >= 200 * 0.002
    # A Retry-After of a day waits an hour, not a day: the schedule is looked at directly.
    assert dispatch.retry_delay(1, 429, 86400.0) == 3600
    assert dispatch.retry_delay(1, 503, 2.0) == 2.0  # never sooner than... the schedule's 1 s
    assert dispatch.retry_delay(1, 500, 900.0) == 1  # only 429 and 503 ask for a wait
    assert dispatch.retry_delay(10, 429, 5.0) is None  # exhausted


async def test_410_disables_the_webhook_at_once_with_an_audit_entry(store, owner, world, rx):
    gone = rx(always(410))
    hook = _hook(store, owner, world, gone.url)
    _emit(store, owner, n=3)
    d = _dispatcher(store, per_webhook=1, concurrency=1)
    await run_until(d, lambda: "disabled" in dispatch.webhook_health(
        store, owner.account_id, hook).label)  # fmt: skip
    health = dispatch.webhook_health(store, owner.account_id, hook)
    assert "410 Gone" in (health.disabled_reason or "")
    # The others were cancelled with the webhook, never sent: the dispatcher held
    # them already (claimed ahead of its one slot) and gave them back after the 410.
    assert gone.count() == 1
    assert _states(store) == ["cancelled"] * 3
    [entry] = [e for e in audit.entries(store, owner.account_id) if e.action == "webhook.disable"]
    assert entry.object_id == hook and "410" in entry.detail
    # A disabled webhook queues nothing more.
    _emit(store, owner)
    assert len(_states(store)) == 3


async def test_exhausted_after_ten_attempts_then_disabled_after_five_in_a_row(
    store, owner, world, rx
):
    r = rx(always(500))
    hook = _hook(store, owner, world, r.url)
    _emit(store, owner)
    await run_until(_dispatcher(store), lambda: _states(store) == ["exhausted"])
    assert r.count() == dispatch.MAX_ATTEMPTS == 10
    assert [d.attempt for d in _attempts(store)] == list(range(1, 11))
    assert len({q.callback_id for q in r.requests}) == 1
    health = dispatch.webhook_health(store, owner.account_id, hook)
    assert (health.exhausted_in_row, health.consecutive_failures) == (1, 10)
    assert not health.disabled
    _emit(store, owner, n=4)  # four more exhausted: five in a row
    await run_until(
        _dispatcher(store),
        lambda: dispatch.webhook_health(store, owner.account_id, hook).disabled,
    )
    health = dispatch.webhook_health(store, owner.account_id, hook)
    assert "5 deliveries in a row were exhausted" in (health.disabled_reason or "")
    assert any(e.action == "webhook.disable" for e in audit.entries(store, owner.account_id))


async def test_24_hours_of_only_failures_disables(store, owner, world, rx):
    r = rx(always(503))
    hook = _hook(store, owner, world, r.url)
    with store.write(owner.account_id) as s:  # failing since yesterday
        w = s.get(Webhook, hook)
        w.first_failure_at = clock.now() - timedelta(hours=25)
        w.consecutive_failures = 40
    _emit(store, owner)
    await run_until(
        _dispatcher(store, scale=1.0),
        lambda: dispatch.webhook_health(store, owner.account_id, hook).disabled,
    )
    health = dispatch.webhook_health(store, owner.account_id, hook)
    assert "Every delivery failed for 24 hours" in (health.disabled_reason or "")
    assert r.count() == 1


async def test_a_clean_stop_finishes_sends_in_flight_and_gives_back_the_rest(
    store, owner, world, rx
):
    slow = rx(always(200), delay_s=0.5)
    _hook(store, owner, world, slow.url)
    _emit(store, owner, n=3)
    d = _dispatcher(store, per_webhook=1, concurrency=8)
    stats = await run_until(d, lambda: slow.count() >= 1)  # stop while the first is in flight
    assert stats.sent == 1 and stats.released == 2
    with store.read() as s:
        rows = s.exec(select(EventDelivery).order_by(EventDelivery.id)).all()
    assert [r.state for r in rows] == ["delivered", "pending", "pending"]
    assert all(r.lease_owner is None for r in rows)
    assert dispatch.dispatchers_seen(store) == []  # its heartbeat row went with it


async def test_an_expired_lease_is_claimed_again_with_the_same_callback_id(store, owner, world, rx):
    r = rx()
    _hook(store, owner, world, r.url)
    _emit(store, owner)
    with store.write() as s:  # a dispatcher that died mid-send, its lease run out
        ed = s.exec(select(EventDelivery)).one()
        ed.state, ed.lease_owner = "sending", "dead:1:x"
        ed.lease_until = ed.next_attempt_at = clock.precise_now() - timedelta(seconds=1)
        callback_id = ed.callback_id
    await run_until(_dispatcher(store), lambda: _states(store) == ["delivered"])
    assert [q.callback_id for q in r.requests] == [callback_id]


async def test_a_late_heartbeat_never_makes_a_dispatcher_send_twice_what_it_holds(
    store, owner, world, rx, monkeypatch
):
    # The receiver answers after 1.6 s (within the test world's timeout); the
    # lease is 1 s and its heartbeat stalls (a loaded machine): the lease runs out
    # while the send is in flight. The dispatcher still holds the claim, so it
    # does not claim (and send) it again.
    r = rx(delay_s=1.6)
    _hook(store, owner, world, r.url)
    _emit(store, owner)
    monkeypatch.setattr(dispatch.Dispatcher, "_heartbeat", lambda self: None)
    d = _dispatcher(store, lease_s=1.0)
    await run_until(d, lambda: _states(store) == ["delivered"])
    assert len(r.requests) == 1
    assert d.stats.sent == 1


async def test_paused_webhook_deliveries_wait_and_disabled_integration_ones_are_cancelled(
    store, owner, world, rx
):
    r = rx()
    hook = _hook(store, owner, world, r.url)
    _emit(store, owner)
    with store.write() as s:
        s.get(Webhook, hook).paused = True
    d = _dispatcher(store)
    stop = asyncio.Event()
    task = asyncio.create_task(d.run(stop))
    await asyncio.sleep(0.3)  # several polls: nothing may be sent while paused
    stop.set()
    await task
    assert r.count() == 0 and _states(store) == ["pending"]
    with store.write() as s:
        s.get(Webhook, hook).paused = False
    from store import marketplace

    marketplace.disable(store, owner, "custom")
    await run_until(_dispatcher(store), lambda: _states(store) == ["cancelled"])
    assert r.count() == 0


async def test_sqlite_runs_one_dispatcher_at_a_time(store, owner, world, rx, db_url):
    if not store.is_sqlite:
        pytest.skip("on PostgreSQL dispatchers share the work (tests/reliability)")
    first, second = _dispatcher(store), _dispatcher(store)
    said: list[str] = []
    second.say = said.append
    stop1, stop2 = asyncio.Event(), asyncio.Event()
    t1 = asyncio.create_task(first.run(stop1))
    while not await asyncio.to_thread(dispatch.dispatchers_seen, store):
        await asyncio.sleep(0.02)
    t2 = asyncio.create_task(second.run(stop2))
    while not said:
        await asyncio.sleep(0.02)
    assert "Another dispatcher" in said[0] and "waiting" in said[0]
    assert [x.id for x in dispatch.dispatchers_seen(store)] == [first.id]
    stop1.set()
    await t1
    while (
        len(dispatch.dispatchers_seen(store)) != 1
        or dispatch.dispatchers_seen(store)[0].id != second.id
    ):
        await asyncio.sleep(0.05)
    stop2.set()
    await t2


def test_no_dispatcher_words_only_while_deliveries_wait(store, owner, world):
    hook_url = "https://hooks.example.com/h"
    _hook(store, owner, world, hook_url)
    assert dispatch.dispatcher_missing(store, owner.account_id) is None  # nothing waits
    _emit(store, owner)
    assert dispatch.dispatcher_missing(store, owner.account_id) == dispatch.NO_DISPATCHER
    from store.models import Dispatcher as Row

    with store.write() as s:
        s.add(
            Row(
                id="h:1:a",
                host="h",
                pid=1,
                started_at=clock.now(),
                last_seen_at=clock.precise_now() - timedelta(seconds=30),
            )
        )
    assert dispatch.dispatcher_missing(store, owner.account_id) is None
    with store.write() as s:
        s.get(Row, "h:1:a").last_seen_at = clock.precise_now() - timedelta(seconds=61)
    assert dispatch.dispatcher_missing(store, owner.account_id) == dispatch.NO_DISPATCHER


def test_retention_deletes_old_attempts_and_finished_events(store, owner, world):
    hook = _hook(store, owner, world, "https://hooks.example.com/h")
    _emit(store, owner, n=2)
    old = clock.now() - timedelta(days=31)
    with store.write() as s:
        first, _second = s.exec(select(EventDelivery).order_by(EventDelivery.id)).all()
        first.state = "delivered"
        for ev in s.exec(select(Event)).all():
            ev.created_at = old  # both old; the second still waits
        for i, at in enumerate((old, clock.now())):
            s.add(
                Delivery(
                    webhook_id=hook,
                    callback_id=f"{i:040d}",
                    event_type="contract:sign",
                    url="https://hooks.example.com/h",
                    attempted_at=at,
                    event_delivery_id=first.id,
                    attempt=i + 1,
                )
            )
    purged = dispatch.purge_expired(store)
    assert (purged.attempts, purged.events) == (1, 1)
    assert [d.attempt for d in _attempts(store)] == [2]
    assert _states(store) == ["pending"]  # the waiting one is kept, its event too


def test_the_scale_setting(monkeypatch):
    monkeypatch.setenv(dispatch.SCALE_ENV, "0.001")
    assert dispatch.retry_scale() == 0.001
    for bad in ("", "fast", "-1", "0", "1e9"):
        monkeypatch.setenv(dispatch.SCALE_ENV, bad)
        assert dispatch.retry_scale() == 1.0
    assert [dispatch.retry_delay(n, None, None) for n in range(1, 11)] == [
        1,
        5,
        10,
        30,
        60,
        300,
        600,
        1800,
        3600,
        None,
    ]


def test_delivery_listing_for_screens(store, owner, world):
    hook = _hook(store, owner, world, "https://hooks.example.com/h")
    _emit(store, owner, n=2)
    with store.write() as s:
        ed = s.exec(select(EventDelivery).order_by(EventDelivery.id)).first()
        ed.state, ed.attempts = "retrying", 2
    listed = dispatch.deliveries_of_webhook(store, hook)
    assert [q.state for q in listed] == ["pending", "retrying"]  # newest first
    assert listed[1].state_label.startswith("retrying (attempt 3 of 10, next at ")
    assert json.loads(json.dumps(listed[0].callback_id)) == listed[0].callback_id


async def test_during_a_key_rotation_event_deliveries_verify_with_either_key(
    store, owner, world, rx
):
    """The dispatcher signs as Test and resend do: while a rotation's overlap
    runs, ``webhook-signature`` carries both keys' signatures, so a receiver
    still holding the old key accepts it as well as one holding the new."""
    got = rx()
    old = webhooks.generate_signing_key()
    hook = _hook(store, owner, world, got.url, ["contract:sign"], old)
    new = webhooks.rotate_key(store, owner, hook, overlap_hours=24)
    with store.read() as s:
        new_key = s.get(Webhook, hook).sign_key
    assert new.in_overlap and new_key != old
    _emit(store, owner)
    await run_until(_dispatcher(store), lambda: got.count() == 1)
    [req] = got.requests
    for key in (old, new_key):
        assert StandardWebhook(key).verify(req.body, req.headers)["events"]
    assert len(req.headers["webhook-signature"].split(" ")) == 2

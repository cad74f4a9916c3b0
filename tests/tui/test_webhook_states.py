"""Issue 17 in the TUI, by keys on the real App: the delivery states in the
log (updating by itself while open), the webhooks list's health, the banner of
a webhook disabled automatically, enabling it with the offer to replay, pause
and resume, replay of a marked selection and of everything failed since a
time, and the line that says no dispatcher is running. Both backends.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from store import audit, clock, delivery_states, webhooks
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog
from tui.screens import webhook as webhook_screen
from tui.screens.webhook import WebhookScreen
from tui.widgets.filter_table import FilterTable

from ..queue_world import disable, heartbeat, queued, state_of
from ..ui import flat, footer_line, settle, wait_until

URL = "https://hooks.example.com/states"


@pytest.fixture(autouse=True)
def _quick_poll(monkeypatch):
    monkeypatch.setattr(webhook_screen, "POLL_S", 0.2)


@pytest.fixture
def hook(store, owner, custom):
    return webhooks.create(store, owner, custom, url=URL)


async def open_page(pilot, app, hook_id: int) -> None:
    app.push_screen(WebhookScreen(hook_id))
    await settle(pilot)


def log_text(app) -> str:
    return flat(app)


async def test_every_state_in_the_log_and_it_updates_by_itself(store, owner, hook):
    aid = owner.account_id
    now = clock.now()
    heartbeat(store)
    queued(store, aid, hook.id, "delivered", attempts=1, last_attempt_at=now - timedelta(minutes=5))
    queued(
        store,
        aid,
        hook.id,
        "exhausted",
        attempts=10,
        last_attempt_at=now - timedelta(minutes=4),
        last_status=500,
    )
    nxt = now + timedelta(minutes=10)
    queued(
        store,
        aid,
        hook.id,
        "retrying",
        attempts=3,
        last_attempt_at=now - timedelta(minutes=3),
        next_attempt_at=nxt,
        last_status=503,
    )
    queued(store, aid, hook.id, "sending", attempts=0, created_at=now - timedelta(minutes=2))
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await open_page(pilot, app, hook.id)
        text = log_text(app)
        assert "delivered" in text
        assert "exhausted (10 attempts)" in text
        assert f"retrying (attempt 4 of 10), next at {nxt:%H:%M:%S}" in text
        assert "sending (attempt 1 of 10)" in text
        assert "No dispatcher is running" not in text

        # A delivery queued by another process shows without a key pressed.
        fresh = queued(store, aid, hook.id, "pending", event_type="contract:decline")
        await wait_until(pilot, lambda: "contract:decline" in log_text(app), tries=500)
        table = app.screen.query_one(FilterTable)
        assert table.row_count == 5
        # ... and its retries count up as the dispatcher records them.
        with store.write(aid) as s:
            from store.models import EventDelivery

            row = s.get(EventDelivery, fresh.id)
            row.state, row.attempts, row.next_attempt_at = "retrying", 1, nxt
            s.add(row)
        await wait_until(pilot, lambda: "retrying (attempt 2 of 10)" in log_text(app), tries=500)


async def test_no_dispatcher_line_while_deliveries_wait(store, owner, hook):
    queued(store, owner.account_id, hook.id, "pending")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_page(pilot, app, hook.id)
        assert delivery_states.NO_DISPATCHER in log_text(app)
        assert "(1 delivery waiting)" in log_text(app)
        heartbeat(store)  # a dispatcher starts
        await wait_until(pilot, lambda: "No dispatcher" not in log_text(app), tries=500)


async def test_health_in_the_list_banner_enable_and_replay_offer(store, owner, hook, custom):
    aid = owner.account_id
    failing = webhooks.create(store, owner, custom, url=URL + "/failing")
    with store.write(aid) as s:
        from store.models import Webhook

        w = s.get(Webhook, failing.id)
        w.consecutive_failures = 3
        s.add(w)
    t0 = clock.now() - timedelta(hours=1)
    lost = [
        queued(
            store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=t0 + timedelta(minutes=i)
        )
        for i in range(2)
    ]
    disable(store, aid, hook.id, "5 exhausted in a row", t0)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.press("enter", "4")
        await settle(pilot)
        text = flat(app)
        assert "Health" in text and "disabled" in text and "3 failing" in text
        assert "was disabled: 5 exhausted in a row" in text  # the tab's banner
        hooks_list = app.screen.query_one("#webhook-list", FilterTable)
        assert hooks_list.selected_key == str(hook.id)  # the first row
        assert "E Enable" in footer_line(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WebhookScreen)
        assert "Disabled automatically: 5 exhausted in a row" in flat(app)  # the page's banner
        assert "P Pause" not in footer_line(app)
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "2 deliveries failed since" in flat(app)
        await pilot.press("y")
        await settle(pilot)
        assert all(state_of(store, d.id).state == "pending" for d in lost)
        assert "2 deliveries queued again." in " ".join(n.message for n in app._notifications)
        assert "Disabled automatically" not in flat(app)
        actions = [e.action for e in audit.entries(store, aid)]
        assert "webhook.enable" in actions and "delivery.replay" in actions


async def test_pause_and_resume_by_keys(store, owner, hook):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.press("enter", "4")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WebhookScreen)
        assert "P Pause" in footer_line(app)
        await pilot.press("P")
        await settle(pilot)
        assert webhooks.get(store, owner.account_id, hook.id).paused
        assert "paused: queues no events until resumed" in flat(app)
        assert "P Resume" in footer_line(app)
        await pilot.press("escape")
        await settle(pilot)
        assert "paused" in flat(app)  # the Webhooks tab's Health
        assert "P Pause" in footer_line(app)
        await pilot.press("P")
        await settle(pilot)
        assert not webhooks.get(store, owner.account_id, hook.id).paused
        actions = [e.action for e in audit.entries(store, owner.account_id)]
        assert actions.count("webhook.pause") == 1 and actions.count("webhook.resume") == 1


async def test_replay_a_marked_selection_never_twice(store, owner, hook):
    aid = owner.account_id
    now = clock.now()
    heartbeat(store)
    a = queued(
        store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=now - timedelta(minutes=3)
    )
    b = queued(
        store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=now - timedelta(minutes=2)
    )
    c = queued(store, aid, hook.id, "pending", created_at=now - timedelta(minutes=1))
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await open_page(pilot, app, hook.id)
        # Newest first: c, b, a. Mark all three (space moves down), replay.
        await pilot.press("space", "space", "space")
        await pilot.pause()
        assert flat(app).count("✓") == 3
        await pilot.press("R")
        await settle(pilot)
        assert [state_of(store, d.id).state for d in (a, b, c)] == ["pending"] * 3
        assert "2 deliveries queued again; 1 was already waiting." in " ".join(
            n.message for n in app._notifications
        )
        assert flat(app).count("✓") == 0
        assert state_of(store, a.id).callback_id == a.callback_id


async def test_replay_failed_since_a_time_by_keys(store, owner, hook):
    aid = owner.account_id
    t0 = clock.now() - timedelta(hours=2)
    old = queued(
        store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=t0 - timedelta(minutes=1)
    )
    new = queued(
        store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=t0 + timedelta(minutes=1)
    )
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await open_page(pilot, app, hook.id)
        await pilot.press("F")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        app.screen.set_value("since", f"{t0:%Y-%m-%d %H:%M:%S}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, WebhookScreen)
        assert state_of(store, new.id).state == "pending"
        assert state_of(store, old.id).state == "exhausted"


async def test_retries_count_up_and_recover_while_the_page_is_open(store, owner, custom):
    """A real dispatcher (in the test's loop) and a receiver that fails, then is
    fixed: the open page shows the retry, then the delivery, by itself."""
    import asyncio

    from store import outbox, settings
    from store.change import anyone, change

    from ..receivers import Receiver, in_turn
    from ..store.test_dispatch import _dispatcher

    settings.set_allow_private_webhooks(store, owner, True)
    rx = Receiver(in_turn(503, 200))
    hook = webhooks.create(store, owner, custom, url=rx.url)
    app = IntegrationsAdmin(store, owner)
    stop = asyncio.Event()
    # The first retry 2 s after the failure (1 s scaled by 2): long enough to be seen.
    task = asyncio.create_task(_dispatcher(store, scale=2.0).run(stop))
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await open_page(pilot, app, hook.id)
            with change(store, None, "emit", check=anyone, account_id=owner.account_id) as c:
                outbox.emit(c, "contract:sign", {"test": True})
            await wait_until(
                pilot, lambda: "retrying (attempt 2 of 10)" in log_text(app), tries=1000
            )
            await wait_until(pilot, lambda: "delivered (attempt 2)" in log_text(app), tries=1000)
            assert rx.count() == 2
    finally:
        stop.set()
        await task
        rx.stop()

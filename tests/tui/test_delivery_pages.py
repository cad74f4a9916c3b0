"""The webhook page's delivery log read a page at a time (tui/screens/webhook.py):
its two halves (the queue of event deliveries, by id; the Tests, by time) merged
by time, and never a row shown below one that is still unread; the next pages as
the cursor goes down; the poll's arrivals in front; a return from a delivery that
finds its row again. On SQLite and PostgreSQL, in the real App."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import col

from store.models import Delivery, EventDelivery
from tui.app import IntegrationsAdmin
from tui.screens.webhook import PAGE, DeliveryScreen, WebhookScreen
from tui.widgets.filter_table import FilterTable

from ..helpers import two_webhooks
from ..queue_world import bulk_queued
from ..ui import settle, wait_until

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _queue(store, owner, hook: int, rows: list[tuple[datetime, datetime | None, str]]) -> None:
    """Event deliveries (created, last attempt, state), inserted in this order (ids follow)."""
    bulk_queued(
        store,
        owner.account_id,
        hook,
        [
            dict(
                state=state,
                attempts=1 if last else 0,
                created_at=created,
                last_attempt_at=last,
                last_status=200 if state == "delivered" else 503 if last else None,
                next_attempt_at=created if state in ("pending", "retrying") else None,
                delivered_at=last if state == "delivered" else None,
            )
            for created, last, state in rows
        ],
    )


def _tests(store, owner, hook: int, times: list[datetime]) -> None:
    with store.write(owner.account_id) as s:
        s.execute(
            insert(Delivery),
            [
                dict(
                    webhook_id=hook,
                    callback_id=secrets.token_hex(20),
                    event_type="webhook:test",
                    url="https://hooks.example.com/first",
                    attempted_at=at,
                    success=True,
                    status_code=200,
                    latency_ms=20,
                    request_headers="[]",
                    request_body="{}",
                    response_excerpt="",
                )
                for at in times
            ],
        )


def _when(item) -> datetime:
    at = getattr(item, "attempted_at", None) or item.last_attempt_at or item.created_at
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _shown(app) -> list:
    table = app.screen.query_one(FilterTable)
    return [r.item for r in table._shown]


def _key(item) -> str:
    return str(item.id) if hasattr(item, "attempted_at") else f"q{item.id}"


async def test_both_halves_are_read_by_pages_and_merged_by_time(store, owner):
    """Tests and event deliveries interleaved over two hours, and one event of
    the day before retried just now (on the queue's last page, by its id): each
    screen of rows is in time order with nothing unread above its last row; the
    cursor going down reads the pages until the oldest; then every row once."""
    hook, _ = two_webhooks(store, owner)
    retried_late = T0 + timedelta(minutes=3 * PAGE + 5)
    _queue(store, owner, hook, [(T0 - timedelta(days=1), retried_late, "delivered")])
    events = [T0 + timedelta(minutes=i) for i in range(3 * PAGE) if i % 3]
    tests = [T0 + timedelta(minutes=i, seconds=20) for i in range(3 * PAGE) if i % 3 == 0]
    _queue(store, owner, hook, [(t, t + timedelta(seconds=5), "delivered") for t in events])
    _tests(store, owner, hook, tests)
    total = 1 + len(events) + len(tests)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(WebhookScreen(hook))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WebhookScreen)
        assert len(screen.queue) == len(screen.entries) == PAGE
        first = _shown(app)
        times = [_when(i) for i in first]
        assert times == sorted(times, reverse=True)
        # Down to the newer of the two halves' last rows read, every row of both.
        edge = max(screen.queue[-1].created_at, screen.entries[-1].attempted_at)
        edge = edge if edge.tzinfo else edge.replace(tzinfo=UTC)
        assert all(t >= edge for t in times)
        expected_first = sorted([*(t + timedelta(seconds=5) for t in events), *tests], reverse=True)
        assert times == [t for t in expected_first if t >= edge]
        assert _when(first[0]) == expected_first[0]  # the retried one is not read yet
        seen_rows = len(first)
        for _ in range(8):
            await pilot.press("end")
            await settle(pilot)
            shown = _shown(app)
            assert len(shown) >= seen_rows
            seen_rows = len(shown)
        shown = _shown(app)
        keys = [_key(i) for i in shown]
        assert len(keys) == total == len(set(keys))
        assert not (screen.queue_more or screen.tests_more)
        times = [_when(i) for i in shown]
        assert times == sorted(times, reverse=True)
        assert times[0] == retried_late  # its page read: it went where its time is
        assert screen.query_one(FilterTable).selected_item is shown[-1]  # the oldest


async def test_the_poll_puts_arrivals_in_front_and_keeps_the_pages_read(store, owner):
    hook, _ = two_webhooks(store, owner)
    _queue(
        store,
        owner,
        hook,
        [(T0 + timedelta(minutes=i), T0 + timedelta(minutes=i), "delivered") for i in range(150)],
    )
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(WebhookScreen(hook))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WebhookScreen)
        table = screen.query_one(FilterTable)
        await pilot.press("end")
        await settle(pilot)
        read = table.row_count
        assert PAGE < read < 150
        await pilot.press("up", "up")
        here = table.selected_key
        newest = screen.queue[0].id
        # An event arrives, and the newest delivery failed its retry meanwhile.
        _queue(store, owner, hook, [(T0 + timedelta(hours=5), None, "pending")])
        with store.write(owner.account_id) as s:
            s.execute(
                update(EventDelivery)
                .where(col(EventDelivery.id) == newest)
                .values(state="retrying", attempts=2, last_status=503)
            )
        screen._poll()  # what the page's interval calls every POLL_S
        await wait_until(pilot, lambda: table.row_count == read + 1)
        assert table.selected_key == here  # the cursor stays on its delivery
        assert screen.queue[0].state == "pending"
        assert screen.queue[1].id == newest and screen.queue[1].state == "retrying"
        row = next(r for r in table._shown if r.key == f"q{newest}")
        assert str(row.cells[2]).startswith("retrying (attempt 3 of 10)")  # redrawn
        keys = [_key(i) for i in _shown(app)]
        assert len(keys) == len(set(keys)) == read + 1


async def test_a_return_from_a_delivery_finds_its_row_far_down(store, owner):
    hook, _ = two_webhooks(store, owner)
    _tests(store, owner, hook, [T0 + timedelta(minutes=i) for i in range(3 * PAGE)])
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(WebhookScreen(hook))
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(FilterTable)
        for _ in range(2):
            await pilot.press("end")
            await settle(pilot)
        await pilot.press("up")
        here, read = table.selected_key, table.row_count
        assert read > PAGE + 10
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DeliveryScreen))
        await settle(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert table.selected_key == here
        assert table.row_count >= read

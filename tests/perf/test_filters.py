"""Filters made fast for large logs still find what they must (no timing here;
speed is measured by tests/benchmarks): the delivery log's filter searches
the whole log in SQL, not only the rows shown; the audit log shows its rows
first and the exact count of matches after; SQLite's plain LIKE ignores case
as lower() did, and % and _ are taken literally."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from store import audit, deliveries, marketplace, settings, webhooks
from store.catalog import CUSTOM_KEY
from store.models import AuditEntry, Delivery
from tui.app import IntegrationsAdmin
from tui.screens.audit import PAGE, AuditScreen
from tui.screens.webhook import WebhookScreen
from tui.widgets.filter_table import FilterTable

from ..ui import screen_text, settle, type_text

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def hook_with_log(store, owner, n: int) -> tuple[int, list[str]]:
    """A webhook with ``n`` logged deliveries, oldest first; their callback ids."""
    custom = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    hook = webhooks.create(store, owner, custom, url="https://hooks.example.com/log").id
    ids = [hashlib.sha1(f"delivery {i}".encode()).hexdigest() for i in range(1, n + 1)]
    rows = [
        {
            "webhook_id": hook,
            "callback_id": cid,
            "event_type": "contract:sign",
            "url": "https://hooks.example.com/log",
            "attempted_at": T0 + timedelta(minutes=i),
            "success": i % 10 != 0,
            "status_code": 200 if i % 10 else 503,
            "latency_ms": 20,
            "error": None if i % 10 else "HTTP 503 Service Unavailable",
            "request_headers": json.dumps([["Content-Type", "application/json"]]),
            "request_body": "{}",
            "response_excerpt": "",
            "resend_of_id": None,
        }
        for i, cid in enumerate(ids, start=1)
    ]
    with store.write(owner.account_id) as s:
        s.execute(insert(Delivery), rows)
    return hook, ids


def test_a_webhook_counts_its_log_up_to_a_cap_and_shows_its_newest_attempt(
    store, owner, monkeypatch
):
    """The list and the page read a webhook's count and last attempt by the log's
    index, never counting a busy webhook's million rows: up to one past the cap."""
    hook, _ = hook_with_log(store, owner, 12)
    monkeypatch.setattr(webhooks, "DELIVERY_COUNT_CAP", 5)
    info = webhooks.get(store, owner.account_id, hook)
    assert info.delivery_count == 6  # more than the cap, counted no further
    # The newest attempt (the 12th, a success), not the first or a failed one.
    assert info.last_attempt_at == T0 + timedelta(minutes=12)
    assert info.last_success is True and info.last_status == 200
    monkeypatch.setattr(webhooks, "DELIVERY_COUNT_CAP", 100)
    listed = webhooks.list_for_integration(store, owner.account_id, info.integration_id)[0]
    assert listed.delivery_count == 12 and listed.last_attempt_at == info.last_attempt_at


def test_delivery_filter_in_sql(store, owner):
    hook, ids = hook_with_log(store, owner, 300)
    assert [d.callback_id for d in deliveries.deliveries(store, hook, text_filter=ids[0])] == [
        ids[0]
    ]
    assert len(deliveries.deliveries(store, hook, text_filter="FAILED", limit=1000)) == 30
    assert len(deliveries.deliveries(store, hook, text_filter="ok", limit=1000)) == 270
    with_503 = [c for i, c in enumerate(ids, start=1) if i % 10 == 0 or "503" in c]
    found = deliveries.deliveries(store, hook, text_filter="503", limit=1000)
    assert sorted(d.callback_id for d in found) == sorted(with_503)  # status or callback id
    assert len(deliveries.deliveries(store, hook, text_filter="Service UNAVAILABLE")) == 30
    assert deliveries.deliveries(store, hook, text_filter="%") == []  # literal, not a wildcard
    assert deliveries.deliveries(store, hook, text_filter="contract_sign") == []
    newest = deliveries.deliveries(store, hook, text_filter="contract:SIGN", limit=3)
    assert [d.callback_id for d in newest] == ids[:-4:-1]


async def test_delivery_log_filter_finds_what_is_not_shown(store, owner):
    hook, ids = hook_with_log(store, owner, 300)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(WebhookScreen(hook))
        await settle(pilot)
        table = app.screen.query_one(FilterTable)
        page = app.screen.page_size()
        assert table.row_count == page < 300  # the newest page of 300
        await pilot.press("slash")
        await type_text(pilot, ids[0][-10:])  # the oldest delivery, not among those shown
        await settle(pilot)
        assert table.row_count == 1
        assert ids[0][:12] in screen_text(app)
        assert f"Delivery log matching {ids[0][-10:]!r}, newest first" in screen_text(app)
        await pilot.press("ctrl+u")
        await type_text(pilot, "nothing like it")
        await settle(pilot)
        assert table.row_count == 0
        assert "No match for 'nothing like it'." in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert table.row_count == page
        assert "Delivery log, newest first" in screen_text(app)  # no filter named


def test_audit_filter_ignores_case_and_takes_wildcards_literally(store, owner):
    with store.write(owner.account_id) as s:
        for name in ("Order_Data", "Order Data", "100% sure", "C:\\exports"):
            audit.record(
                s,
                account_id=owner.account_id,
                actor="Carol",
                action="blueprint.create",
                object_type="blueprint",
                object_name=name,
            )
    aid = owner.account_id
    assert [r.object_name for r in audit.entries(store, aid, text="order_")] == ["Order_Data"]
    assert [r.object_name for r in audit.entries(store, aid, text="0%")] == ["100% sure"]
    assert [r.object_name for r in audit.entries(store, aid, text=":\\e")] == ["C:\\exports"]
    assert len(audit.entries(store, aid, text="CAROL")) == 4
    assert audit.count(store, aid, text="carol") == 4
    assert audit.count(store, aid, text="ORDER") == 2


async def test_audit_title_counts_every_match_after_the_rows(store, owner):
    rows = [
        {
            "account_id": owner.account_id,
            "at": T0 + timedelta(minutes=i),
            "actor": "dave" if i % 3 == 0 else "erin",
            "action": "field.create",
            "object_type": "blueprint_field",
            "object_id": i,
            "object_name": f"Field {i}",
            "detail": "",
        }
        for i in range(1, 3 * PAGE + 1)
    ]
    with store.write() as s:
        s.execute(insert(AuditEntry), rows)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await pilot.press("slash")
        await type_text(pilot, "erin")  # more matches than a page: counted after
        await settle(pilot)
        assert screen.table.row_count == PAGE
        total = 3 * PAGE + 1  # and the account's creation
        assert f"{2 * PAGE:,} of {total:,} entries match 'erin'" in screen_text(app)
        await pilot.press("ctrl+u")
        await type_text(pilot, "dave")  # exactly a page
        await settle(pilot)
        assert f"{PAGE:,} of {total:,} entries match 'dave'" in screen_text(app)
        await type_text(pilot, "x")
        await settle(pilot)
        assert f"no entry of {total:,} matches 'davex'" in screen_text(app)

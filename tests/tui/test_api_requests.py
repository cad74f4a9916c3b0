"""The integration API's traffic in the program (Pilot, on SQLite and
PostgreSQL): the API tokens tab's last use and requests in the last 24 hours,
and the API requests tab (5): the request log newest first, literally, never a
token; `/` filters in SQL; nothing there writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store import apiaccess, audit, clock, marketplace, tokens
from store.apiaccess import LoggedRequest
from tui.app import IntegrationsAdmin
from tui.screens.api_requests_tab import ApiRequestsTab
from tui.screens.integration import IntegrationScreen
from tui.widgets.filter_table import FilterTable

from .. import contracts_world
from ..ui import flat, screen_text, settle, type_text, wait_until

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
MARKUP_PATH = "/v1/[bold]7[/b]"


@pytest.fixture
def world(store, owner) -> contracts_world.World:
    clock.fix(NOW)
    return contracts_world.build(store, owner)


def log(store, world, token_id: int, hint: str, rows) -> None:
    """Log requests of ``token_id``: (minutes ago, method, path, status, latency)."""
    apiaccess.record_requests(
        store,
        [
            LoggedRequest(
                account_id=world.actor.account_id,
                integration_id=world.integration_id,
                token_id=token_id,
                token_hint=hint,
                at=NOW - timedelta(minutes=ago),
                method=method,
                path=path,
                status=status,
                latency_ms=latency,
            )
            for ago, method, path, status, latency in rows
        ],
    )


async def open_integration_tab(pilot, app, tab: str) -> None:
    await pilot.press("enter")  # the Custom integration: the only one enabled
    await wait_until(pilot, lambda: isinstance(app.screen, IntegrationScreen))
    await pilot.press(tab)
    await pilot.pause()


def requests_table(app) -> FilterTable:
    return app.screen.query_one(ApiRequestsTab).query_one(FilterTable)


POLL_TRIES = 500  # 10 s of 20 ms pauses: a loaded machine may take several polls


# -- the API tokens tab ---------------------------------------------------------------


async def test_tokens_tab_shows_last_use_and_requests_of_the_last_24_hours(store, owner, world):
    erp = world.caller(store)  # authenticated now: its last use is now
    other, _ = tokens.generate(store, owner, world.integration_id, name="Idle")
    log(
        store,
        world,
        erp.token_id,
        erp.token_hint,
        [(5, "GET", "/v1/ping", 200, 1.0)] * 3
        + [(60 * 23, "POST", "/v1/contracts", 201, 9.0)]
        + [(60 * 25, "GET", "/v1/ping", 200, 1.0)] * 4,  # older than 24 hours: not counted
    )
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_integration_tab(pilot, app, "3")
        shown = screen_text(app)
        assert "24 h" in shown  # the column, narrow
        (erp_row,) = [line for line in shown.splitlines() if "Orders sync" in line]
        (idle_row,) = [line for line in shown.splitlines() if "Idle" in line]
        assert "just now" in erp_row and erp_row.split()[-2] == "4"
        assert "never" in idle_row and idle_row.split()[-2] == "0"
        assert world.token not in shown
    usage = apiaccess.token_usage(store, owner.account_id, world.integration_id)
    assert usage[erp.token_id].requests_24h == 4 and usage[other.id].requests_24h == 0


async def test_tokens_tab_wide_names_the_column_and_the_creator(store, owner, world):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_integration_tab(pilot, app, "3")
        shown = screen_text(app)
        assert "Requests 24 h" in shown
        assert f"{NOW:%Y-%m-%d} alice" in shown


# -- the API requests tab ---------------------------------------------------------------


async def test_requests_show_newest_first_literally_and_never_a_token(store, owner, world):
    erp = world.caller(store)
    log(
        store,
        world,
        erp.token_id,
        erp.token_hint,
        [
            (30, "GET", "/v1/blueprints", 200, 3.25),
            (20, "POST", "/v1/contracts", 422, 5.0),
            (10, "GET", MARKUP_PATH, 404, 2.0),
            (1, "POST", "/v1/contracts/1/publish\x1b[31m", 409, 150.4),
        ],
    )
    stored = apiaccess.requests_for_integration(store, owner.account_id, world.integration_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_integration_tab(pilot, app, "5")
        shown = screen_text(app)
        rows = [line for line in shown.splitlines() if erp.token_hint in line]
        assert len(rows) == len(stored) == 4
        # Newest first, each as the log holds it.
        for line, r in zip(rows, stored, strict=True):
            assert f"{r.at:%m-%d %H:%M:%S}" in line
            assert r.method in line and str(r.status) in line
            # A long path is shortened in its middle at 80 columns, keeping both ends.
            assert r.path in line or ("…" in line and r.path[:10] in line and r.path[-10:] in line)
        assert "publish␛[31m" in rows[0]  # the escape made visible
        assert MARKUP_PATH in rows[1]  # markup in a path is text
        assert "150 ms" in rows[0] and "3.2 ms" in rows[3]
        assert world.token not in shown and world.token not in flat(app)
        assert "Newest first" in shown


async def test_requests_wide_name_the_token(store, owner, world):
    erp = world.caller(store)
    log(store, world, erp.token_id, erp.token_hint, [(3, "GET", "/v1/ping", 200, 1.5)])
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_integration_tab(pilot, app, "5")
        (row,) = [line for line in screen_text(app).splitlines() if "/v1/ping" in line]
        assert f"Orders sync ({erp.token_hint})" in row
        assert f"{NOW - timedelta(minutes=3):%Y-%m-%d %H:%M:%S}" in row


async def test_filter_narrows_in_sql_and_escape_restores(store, owner, world):
    erp = world.caller(store)
    other, token = tokens.generate(store, owner, world.integration_id, name="Reporting")
    log(
        store,
        world,
        erp.token_id,
        erp.token_hint,
        [(50 - i, "GET", f"/v1/playbooks/{i}", 200, 1.0) for i in range(8)]
        + [(5, "POST", "/v1/contracts", 422, 4.0)],
    )
    log(store, world, other.id, other.hint, [(2, "GET", "/v1/contracts/3", 200, 2.0)])
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_integration_tab(pilot, app, "5")
        table = requests_table(app)
        assert table.row_count == 10
        await pilot.press("slash")
        await type_text(pilot, "422")  # a status code
        await wait_until(pilot, lambda: table.row_count == 1)
        assert "/v1/contracts" in screen_text(app) and "/v1/playbooks" not in screen_text(app)
        assert "Matching '422', newest first" in screen_text(app)  # the note names the filter
        await pilot.press("backspace")  # two characters: the newest rows only, on screen
        await wait_until(pilot, lambda: "Matching '42'" in screen_text(app))
        assert (
            "Matching '42', newest first · the filter looks at the newest 10,000 only"
            in screen_text(app)  # on its one line at 80 columns, not cut
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: table.row_count == 10)
        assert "Matching" not in screen_text(app) and "Newest first" in screen_text(app)
        await pilot.press("slash")
        await type_text(pilot, "reporting")  # a token's name
        await wait_until(pilot, lambda: table.row_count == 1)
        assert other.hint in screen_text(app) and erp.token_hint not in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: table.row_count == 10)
        await pilot.press("slash")
        await type_text(pilot, "playbooks/7")  # a path
        await wait_until(pilot, lambda: table.row_count == 1)
        await type_text(pilot, "7")
        await wait_until(pilot, lambda: table.row_count == 0)
        assert "No match for 'playbooks/77'." in screen_text(app)
        assert token not in flat(app)


async def test_an_empty_log_says_how_requests_arrive(store, owner, world):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_integration_tab(pilot, app, "5")
        text = flat(app)
        assert "No API requests yet." in text
        assert "integrations-admin serve" in text and "Integration API" in text


async def test_a_native_integration_says_its_calls_are_not_logged(store, owner):
    marketplace.enable(store, owner, "slack")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_integration_tab(pilot, app, "5")
        text = flat(app)
        assert "managed token" in text and "not in this log" in text
        assert not requests_table(app).display


async def test_nothing_in_the_requests_tab_writes(store, owner, world):
    erp = world.caller(store)
    log(store, world, erp.token_id, erp.token_hint, [(3, "GET", "/v1/ping", 200, 1.5)])
    before = apiaccess.requests_for_integration(store, owner.account_id, world.integration_id)
    audited = audit.count(store, owner.account_id)
    listed = tokens.list_for_integration(store, owner.account_id, world.integration_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_integration_tab(pilot, app, "5")
        for key in ("n", "d", "e", "t", "r", "enter", "space", "delete", "ctrl+s"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, IntegrationScreen), key  # no form, no confirmation
    assert (
        apiaccess.requests_for_integration(store, owner.account_id, world.integration_id) == before
    )
    assert audit.count(store, owner.account_id) == audited
    assert tokens.list_for_integration(store, owner.account_id, world.integration_id) == listed


async def test_requests_that_arrive_show_without_a_key(store, owner, world, monkeypatch):
    from tui.screens import api_requests_tab

    monkeypatch.setattr(api_requests_tab, "POLL_S", 0.05)
    erp = world.caller(store)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_integration_tab(pilot, app, "5")
        assert "No API requests yet." in flat(app)
        log(store, world, erp.token_id, erp.token_hint, [(1, "GET", "/v1/ping", 200, 1.0)])
        await wait_until(pilot, lambda: "/v1/ping" in screen_text(app), tries=POLL_TRIES)
        # Filtered, only what matches arrives.
        await pilot.press("slash")
        await type_text(pilot, "contracts")
        await wait_until(pilot, lambda: requests_table(app).row_count == 0, tries=POLL_TRIES)
        log(
            store,
            world,
            erp.token_id,
            erp.token_hint,
            [(0, "POST", "/v1/contracts", 201, 9.0), (0, "GET", "/v1/ping", 200, 1.0)],
        )
        await wait_until(pilot, lambda: requests_table(app).row_count == 1, tries=POLL_TRIES)
        # The row is in the table; its paint may follow a refresh later.
        await wait_until(pilot, lambda: "/v1/contracts" in screen_text(app))


# -- pages: the log is read a page at a time, by keyset -----------------------------------


def many(n: int, path: str = "/v1/ping") -> list:
    """``n`` requests a minute apart, the newest first: paths ``{path}/0`` ..."""
    return [(i, "GET", f"{path}/{i}", 200, 1.0) for i in range(n)]


async def test_the_log_is_read_a_page_at_a_time_as_the_cursor_goes_down(store, owner, world):
    """A page (PAGE at 80x24) is read when the tab opens; the next as the cursor
    comes near the last row read, in order, none twice, until the oldest."""
    from tui.screens.api_requests_tab import PAGE

    erp = world.caller(store)
    log(store, world, erp.token_id, erp.token_hint, many(2 * PAGE + 7))
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_integration_tab(pilot, app, "5")
        await settle(pilot)
        tab = app.screen.query_one(ApiRequestsTab)
        table = requests_table(app)
        assert table.row_count == PAGE == len(tab.items) and tab.more
        assert "/v1/ping/0 " in screen_text(app)  # the newest first
        for _ in range(4):
            await pilot.press("end")
            await settle(pilot)
        ids = [r.id for r in tab.items]
        assert table.row_count == 2 * PAGE + 7 == len(ids) == len(set(ids))
        assert [r.path for r in tab.items] == [f"/v1/ping/{i}" for i in range(2 * PAGE + 7)]
        assert not tab.more
        assert table.selected_item.path == f"/v1/ping/{2 * PAGE + 6}"  # the oldest
        assert f"/v1/ping/{2 * PAGE + 6} " in screen_text(app)


async def test_a_search_reads_one_page_and_its_next_pages_match_too(store, owner, world):
    from tui.screens.api_requests_tab import PAGE

    erp = world.caller(store)
    log(
        store,
        world,
        erp.token_id,
        erp.token_hint,
        [(2 * i, "GET", f"/v1/ping/{i}", 200, 1.0) for i in range(PAGE + 30)]
        + [(2 * i + 1, "POST", f"/v1/contracts/{i}", 201, 2.0) for i in range(PAGE + 30)],
    )
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_integration_tab(pilot, app, "5")
        await settle(pilot)
        tab = app.screen.query_one(ApiRequestsTab)
        table = requests_table(app)
        await pilot.press("slash")
        await type_text(pilot, "contracts")
        await settle(pilot)
        assert table.row_count == PAGE
        assert {r.method for r in tab.items} == {"POST"}
        await pilot.press("down")  # into the list
        for _ in range(3):
            await pilot.press("end")
            await settle(pilot)
        assert table.row_count == PAGE + 30 and not tab.more
        assert [r.path for r in tab.items] == [f"/v1/contracts/{i}" for i in range(PAGE + 30)]
        await pilot.press("slash", "escape")  # the filter emptied: the first page of all again
        await settle(pilot)
        assert table.row_count == PAGE and tab.more
        assert [r.path for r in tab.items[:2]] == ["/v1/ping/0", "/v1/contracts/0"]


async def test_arrivals_go_in_front_of_the_pages_read_the_cursor_kept(
    store, owner, world, monkeypatch
):
    from tui.screens import api_requests_tab
    from tui.screens.api_requests_tab import PAGE

    monkeypatch.setattr(api_requests_tab, "POLL_S", 0.05)
    erp = world.caller(store)
    log(
        store,
        world,
        erp.token_id,
        erp.token_hint,
        [(ago + 10, *rest) for ago, *rest in many(PAGE + 20)],
    )
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_integration_tab(pilot, app, "5")
        await settle(pilot)
        tab = app.screen.query_one(ApiRequestsTab)
        table = requests_table(app)
        await pilot.press("end")  # the next page read
        await wait_until(pilot, lambda: table.row_count == PAGE + 20, tries=POLL_TRIES)
        for _ in range(5):
            await pilot.press("up")
        chosen = table.selected_item
        assert chosen.path == f"/v1/ping/{PAGE - 6}"  # `end` went to the first page's last
        log(
            store,
            world,
            erp.token_id,
            erp.token_hint,
            [(1, "GET", "/v1/arrived/1", 200, 1.0), (0, "GET", "/v1/arrived/0", 200, 1.0)],
        )
        await wait_until(pilot, lambda: table.row_count == PAGE + 22, tries=POLL_TRIES)
        assert [r.path for r in tab.items[:3]] == ["/v1/arrived/0", "/v1/arrived/1", "/v1/ping/0"]
        assert table.selected_item.id == chosen.id  # the same request under the cursor
        assert len({r.id for r in tab.items}) == PAGE + 22

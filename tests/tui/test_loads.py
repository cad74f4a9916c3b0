"""Screens read the store in thread workers (tui/screens/loading.py): a slow
database shows the loading indicator and never holds the keys; another
administrator's change appears by itself, the cursor kept on its row."""

from __future__ import annotations

from store import blueprints, marketplace
from store.catalog import CUSTOM_KEY
from store.db import Store
from tui.app import IntegrationsAdmin
from tui.screens.integration import IntegrationScreen
from tui.screens.integrations import IntegrationsScreen
from tui.textual_compat import is_exiting, updates_held
from tui.widgets.filter_table import FilterTable

from ..ui import hold_reads, screen_text, select_row, wait_until


async def test_a_slow_load_shows_the_indicator_and_escape_still_leaves(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30)) as pilot:
        release = hold_reads(store)
        try:
            await pilot.press_now("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, IntegrationScreen))
            screen = app.screen
            # The frame is up at once; the data is not: the indicator says so.
            assert "Details" in screen_text(app)
            await wait_until(pilot, lambda: screen.visible_tab().loading)
            await pilot.press_now("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, IntegrationsScreen))
        finally:
            release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, IntegrationsScreen)
        assert "Custom integration" in screen_text(app)


async def test_ctrl_q_quits_at_once_while_a_load_hangs(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30)) as pilot:
        release = hold_reads(store)
        try:
            await pilot.press_now("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, IntegrationScreen))
            await pilot.press_now("ctrl+q")
            await wait_until(pilot, lambda: is_exiting(app))
        finally:
            release.set()


async def test_another_administrators_change_appears_with_the_cursor_kept(store, owner, db_url):
    custom = marketplace.enable(store, owner, CUSTOM_KEY)
    for name in ("Beta", "Delta", "Gamma"):
        blueprints.create(store, owner, custom, name=name)
    delta = next(
        b.id
        for b in blueprints.for_integration(store, owner.account_id, custom)
        if b.name == "Delta"
    )
    app = IntegrationsAdmin(store, owner)
    app.CHANGES_POLL_S = 0.1
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter", "2")
        await select_row(pilot, str(delta))
        other = Store(db_url)  # another administrator: another engine, other connections
        try:
            blueprints.create(other, owner, custom, name="Alpha")
        finally:
            other.dispose()
        table = app.screen.query_one("BlueprintsTab FilterTable", FilterTable)
        await wait_until(pilot, lambda: "Alpha" in screen_text(app), tries=300)
        assert table.selected_key == str(delta)


async def test_a_section_key_holds_no_update(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press_now("p")
        assert not updates_held(app)  # Textual's switch_mode held them 50 ms


async def test_the_first_screen_loads_once_for_its_two_resumes(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("m", "i")
        screen = app.screen
        assert isinstance(screen, IntegrationsScreen)
        # The start's resumes and the return each load once (a load is one
        # worker named after the screen).
        assert "Custom integration" in screen_text(app)

"""A key shows something at once, whatever the database's distance: a tab or a
section built for the first time shows its title before its content (building
and drawing that took 40-60 ms, with nothing on the screen meanwhile), and the
keys typed meanwhile still reach what the key opens."""

from __future__ import annotations

from textual.widgets import Static

from store import marketplace
from store.catalog import CUSTOM_KEY
from tui import frames
from tui.app import SECTION_TITLES, IntegrationsAdmin
from tui.dialogs.form import FormDialog
from tui.screens import tabs as tabs_module
from tui.screens.audit import AuditScreen
from tui.screens.integrations import IntegrationsScreen
from tui.screens.tabs import TabContent
from tui.widgets.tabs import TabbedPanes

from ..ui import screen_text, settle


def _title(screen) -> str:
    """The section's title, without what follows it (the audit log's count)."""
    return str(screen.query_one(".section-title", Static).content).split(" · ")[0]


def _note_titles_drawn(monkeypatch, app, seen: list[tuple[type, str]]) -> None:
    """From now on, each frame a title is shown first in: the screen in view, its title."""
    painted = frames.painted

    async def watched(node, **kwargs):
        await painted(node, **kwargs)
        seen.append((type(app.screen), _title(app.screen)))

    monkeypatch.setattr(frames, "painted", watched)


async def test_a_tab_built_now_shows_its_title_first_and_the_keys_after_reach_it(
    store, owner, monkeypatch
):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    seen: list[tuple[str, bool, str]] = []
    painted = tabs_module.painted

    async def watched(node, **kwargs):
        await painted(node, **kwargs)
        panes = node.query_one(TabbedPanes)
        built = bool(panes.get_pane(panes.active).query(TabContent))
        seen.append((panes.active, built, screen_text(app)))

    monkeypatch.setattr(tabs_module, "painted", watched)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("2", "n")  # together: the n waits for the tab
        await settle(pilot)
        assert len(seen) == 1
        active, built, shown = seen[0]
        assert (active, built) == ("blueprints", False)  # the title, then the content
        assert "Integration blueprints" in shown
        assert isinstance(app.screen, FormDialog)  # n reached the tab built after
        assert "Create integration blueprint" in screen_text(app)
        await pilot.press("escape", "1", "2")  # built already: no title first
        await settle(pilot)
        assert len(seen) == 1


async def test_a_section_opened_first_shows_its_title_first_then_its_screen(
    store, owner, monkeypatch
):
    app = IntegrationsAdmin(store, owner)
    seen: list[tuple[type, str]] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        _note_titles_drawn(monkeypatch, app, seen)
        await pilot.press("a", "slash", "x")  # the filter keys reach the audit log
        await settle(pilot)
        # Drawn while the screen in view was still the integrations list.
        assert seen == [(IntegrationsScreen, "Audit log")]
        assert isinstance(app.screen, AuditScreen)
        assert _title(app.screen) == "Audit log"
        assert app.screen.query_one("#audit-list Input").value == "x"
        await pilot.press("escape", "i")
        await settle(pilot)
        assert _title(app.screen) == "Integrations"  # as it was before
        await pilot.press("a")  # built already: a mode switch, no title first
        await settle(pilot)
        assert len(seen) == 1


async def test_each_sections_title_first_is_the_title_its_screen_shows(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for mode, title in SECTION_TITLES.items():
            app.open_section(mode)
            await settle(pilot)
            assert _title(app.screen) == title, mode


async def test_the_screens_modules_are_imported_soon_after_the_start_off_the_ui_thread(
    store, owner, monkeypatch
):
    import importlib
    import threading

    import tui.app

    imported: list[tuple[str, bool]] = []
    import_module = importlib.import_module

    def recording(name, *args):
        imported.append((name, threading.current_thread() is threading.main_thread()))
        return import_module(name, *args)

    monkeypatch.setattr(importlib, "import_module", recording)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await app.workers.wait_for_complete()
    off_the_ui_thread = {name for name, on_main in imported if not on_main}
    for module in ("tui.screens.audit", "tui.screens.marketplace", *tui.app.WARM_UP):
        assert module in off_the_ui_thread


async def test_an_integration_opened_shows_its_title_first_and_the_keys_after_reach_it(
    store, owner, monkeypatch
):
    from tui.screens.integration import IntegrationScreen

    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    seen: list[tuple[type, str]] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        _note_titles_drawn(monkeypatch, app, seen)
        await pilot.press("enter", "2", "n")  # together: 2 and n wait for the page
        await settle(pilot)
        assert seen[0] == (IntegrationsScreen, "Integrations › Custom integration")
        assert isinstance(app.screen, FormDialog)
        assert "Create integration blueprint" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        page = app.screen
        assert isinstance(page, IntegrationScreen)
        assert _title(page) == "Integrations › Custom integration"
        await pilot.press("escape")
        await settle(pilot)
        assert _title(app.screen) == "Integrations"  # the list, titled as it was


async def test_a_page_opened_from_its_list_has_its_title_before_its_data(store, owner):
    from tui.screens.integration import IntegrationScreen
    from tui.screens.playbook import PlaybookScreen

    async with IntegrationsAdmin(store, owner).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # Composed, not yet loaded: the title is the one the list gave.
        page = IntegrationScreen(1, name="Orders")
        assert page.known_name == "Orders"
        pilot.app.push_screen(page)
        await pilot.pause()
        assert str(page.query_one("#title", Static).content) == "Integrations › Orders"
        pilot.app.pop_screen()
        playbook = PlaybookScreen(1, name="Sales")
        pilot.app.push_screen(playbook)
        await pilot.pause()
        assert str(playbook.query_one("#title", Static).content).startswith("Playbooks › Sales")

"""The tabbed screens' tab bar (tui/widgets/tabs.py): keys and clicks switch
tabs, the rule under the titles follows, and a hidden tab never takes the
focus (its keys would go there)."""

from __future__ import annotations

from store import marketplace
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.screens.integration import IntegrationScreen
from tui.screens.webhooks_tab import WebhooksTab
from tui.textual_compat import Underline
from tui.widgets.tabs import TabBar, TabbedPanes

from ..ui import loaded, screen_text


def _highlight(screen) -> tuple[int, int]:
    u = screen.query_one(Underline)
    return u.highlight_start, u.highlight_end


async def test_keys_and_clicks_switch_tabs_and_the_rule_follows(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, IntegrationScreen)
        tabs = screen.query_one(TabbedPanes)
        assert tabs.active == "details"
        lines = screen_text(app).splitlines()
        assert lines[2].startswith(" Details  Integration blueprints  API tokens  Webhooks")
        assert _highlight(screen) == (1, 1 + len("Details"))
        # Details has no list: nothing has the focus, so keys reach the screen.
        assert app.focused is None
        await pilot.press("2")
        await pilot.pause()
        assert tabs.active == "blueprints"
        assert "Custom blueprints 0/10" in screen_text(app)
        assert app.focused is not None and app.focused.parent.id == "blueprints"
        start = len(" Details  ")
        assert _highlight(screen) == (start, start + len("Integration blueprints"))
        # A click on a title: a tab never shown is not built yet.
        assert len(screen.query(WebhooksTab)) == 0
        span = screen.query_one(TabBar).span("webhooks")
        assert span is not None
        await pilot.click(TabBar, offset=(span.start + 2, 0))
        await pilot.pause()
        await loaded(pilot)
        assert tabs.active == "webhooks"
        assert _highlight(screen) == (span.start + 1, span.end - 1)
        # Built when first shown (by this click), and read.
        assert len(screen.query(WebhooksTab)) == 1
        assert "No webhooks yet" in screen_text(app), screen_text(app)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert tabs.active == "tokens"


async def test_a_hidden_tab_does_not_take_the_focus(store, owner):
    """Opening an integration on its Details tab: no list of another tab may
    take the focus (typing 2 went into a hidden filter box instead of
    switching tabs, when every tab was built with the page)."""
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is None
        await pilot.press("3")
        await pilot.pause()
        assert app.screen.query_one(TabbedPanes).active == "tokens"
        focused = app.focused
        assert focused is not None
        assert any(getattr(a, "id", None) == "tokens" for a in focused.ancestors)

"""Screens with tabs: `1`..`9` pick a tab, `[` `]` the previous and next."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import TabbedContent

from tui.screens.base import BaseScreen
from tui.widgets.filter_table import focus_now

if TYPE_CHECKING:
    from tui.app import IntegrationsAdmin


class TabContent(Vertical):
    """The content of one tab. Subclasses show store data in ``reload``."""

    DEFAULT_CSS = "TabContent { height: 1fr; }"

    @property
    def admin(self) -> IntegrationsAdmin:
        return cast("IntegrationsAdmin", self.app)

    def reload(self) -> None:
        pass

    def focus_main(self) -> None:
        """Focus the tab's main widget (its list)."""
        focusable = self.query("FilterTable DataTable, DataTable")
        if focusable:
            focus_now(focusable.first())


class TabbedScreen(BaseScreen):
    BINDINGS = [
        *(
            Binding(str(n), f"tab({n})", f"Tab {n}", show=False, id=f"tabs.{n}")
            for n in range(1, 10)
        ),
        Binding("left_square_bracket", "tab_step(-1)", "Prev tab", show=False, id="tabs.prev"),
        Binding("right_square_bracket", "tab_step(1)", "Next tab", show=False, id="tabs.next"),
    ]

    def tab_ids(self) -> list[str]:
        tabs = self.query_one(TabbedContent)
        return [pane.id or "" for pane in tabs.query("TabPane")]

    def action_tab(self, n: int) -> None:
        ids = self.tab_ids()
        if 1 <= n <= len(ids):
            self.show_tab(ids[n - 1])

    def action_tab_step(self, step: int) -> None:
        ids = self.tab_ids()
        if not ids:
            return
        current = self.query_one(TabbedContent).active
        i = ids.index(current) if current in ids else 0
        self.show_tab(ids[(i + step) % len(ids)])

    def show_tab(self, pane_id: str) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = pane_id
        content = tabs.get_pane(pane_id).query(TabContent)
        if content:
            content.first().reload()
            content.first().focus_main()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        content = event.pane.query(TabContent)
        if content:
            self.call_after_refresh(content.first().focus_main)

    def reload(self) -> None:
        for content in self.query(TabContent):
            content.reload()

"""Screens with tabs: `1`..`9` pick a tab, `[` `]` the previous and next."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.containers import Vertical

from tui.screens.base import BaseScreen
from tui.widgets.filter_table import focus_now
from tui.widgets.tabs import TabbedPanes

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

    @property
    def on_active_tab(self) -> bool:
        """Whether this content's tab is the one shown."""
        tabbed = next((a for a in self.ancestors if isinstance(a, TabbedPanes)), None)
        return tabbed is None or tabbed.active == getattr(self.parent, "id", None)

    def focus_main(self) -> None:
        """Focus the tab's main widget (its list), if its tab is the one shown:
        a hidden tab must not take the focus (its keys would go there)."""
        if not self.on_active_tab:
            return
        focusable = self.query("FilterTable DataTable, DataTable")
        if focusable:
            focus_now(focusable.first())


class TabbedScreen(BaseScreen):
    # The tabs give the focus themselves (focus_main, on the tab shown). Textual's
    # automatic focus picks the first focusable widget while the screen is
    # composed, before the hidden tabs are hidden: a filter box of another tab.
    AUTO_FOCUS = ""  # not None, which means "as the app"

    BINDINGS = [
        *(
            Binding(str(n), f"tab({n})", f"Tab {n}", show=False, id=f"tabs.{n}")
            for n in range(1, 10)
        ),
        Binding("left_square_bracket", "tab_step(-1)", "Prev tab", show=False, id="tabs.prev"),
        Binding("right_square_bracket", "tab_step(1)", "Next tab", show=False, id="tabs.next"),
    ]

    def tab_ids(self) -> list[str]:
        tabs = self.query_one(TabbedPanes)
        return [pane.id or "" for pane in tabs.panes]

    async def action_tab(self, n: int) -> None:
        ids = self.tab_ids()
        if 1 <= n <= len(ids):
            await self.open_tab(ids[n - 1])

    async def action_tab_step(self, step: int) -> None:
        ids = self.tab_ids()
        if not ids:
            return
        current = self.query_one(TabbedPanes).active
        i = ids.index(current) if current in ids else 0
        await self.open_tab(ids[(i + step) % len(ids)])

    async def open_tab(self, pane_id: str) -> None:
        """Show a tab from a key: built first if it never was (``build_tab``),
        else refreshed from the store."""
        built = await self.build_tab(pane_id)
        self.show_tab(pane_id, refresh=not built)

    async def build_tab(self, pane_id: str) -> bool:
        """Build a tab's content where it is built when first shown; whether it
        was built now. Here every tab is built with the screen."""
        return False

    def show_tab(self, pane_id: str, *, refresh: bool = True) -> None:
        tabs = self.query_one(TabbedPanes)
        tabs.active = pane_id
        content = tabs.get_pane(pane_id).query(TabContent)
        if content:
            if refresh:
                content.first().reload()
            content.first().focus_main()

    def on_tabbed_panes_tab_activated(self, event: TabbedPanes.TabActivated) -> None:
        content = event.pane.query(TabContent)
        if content:
            self.call_after_refresh(content.first().focus_main)

    def reload(self) -> None:
        for content in self.query(TabContent):
            content.reload()

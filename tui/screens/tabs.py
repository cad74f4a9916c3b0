"""Screens with tabs: `1`..`9` pick a tab, `[` `]` the previous and next."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget

from tui.frames import painted
from tui.screens.base import BaseScreen
from tui.screens.loading import Loads
from tui.widgets.filter_table import focus_now
from tui.widgets.tabs import TabbedPanes

if TYPE_CHECKING:
    from store.values import IntegrationInfo
    from tui.app import IntegrationsAdmin


class TabContent(Loads, Vertical):
    """The content of one tab. Subclasses read store data in ``load`` (a worker)
    and show it in ``show``; it is read when the tab is first shown, and again
    when the screen comes back while it is the tab shown."""

    DEFAULT_CSS = "TabContent { height: 1fr; }"

    @property
    def admin(self) -> IntegrationsAdmin:
        return cast("IntegrationsAdmin", self.app)

    def loading_target(self) -> Widget | None:
        # The tab's list, or the whole tab (Details has no list).
        found = self.query("FilterTable")
        return found.first() if found else self

    def integration_info(self, integration_id: int) -> IntegrationInfo:
        """In a load (thread): the integration as its screen read it in this load
        or the last one (no round trip of the tab's own), else read now."""
        info = getattr(self.screen, "loaded_info", None)
        if info is not None and info.id == integration_id:
            return info
        from store import integrations

        return integrations.get(self.admin.store, self.admin.actor.account_id, integration_id)

    @staticmethod
    def on_plan(info: IntegrationInfo, plan: str) -> IntegrationInfo:
        """The integration as the account's plan read now says (suspended or not):
        a tab reads the plan with its own data, so a plan changed since the screen
        read the integration is followed without reading the integration again."""
        from dataclasses import replace

        from store import catalog

        suspended = (catalog.suspended_by_plan(info.key, plan) or "") if info.enabled else ""
        return info if suspended == info.suspended else replace(info, suspended=suspended)

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
        shown = [t for t in self.query("FilterTable DataTable, DataTable") if _displayed(t, self)]
        if shown:
            focus_now(shown[0])
        elif self.can_focus:
            focus_now(self)  # a tab with no list shown (a native one's note): its keys


def _displayed(widget: Widget, within: Widget) -> bool:
    """Whether ``widget`` and its ancestors up to ``within`` are displayed."""
    node: Widget | None = widget
    while node is not None and node is not within:
        if not node.display:
            return False
        node = node.parent if isinstance(node.parent, Widget) else None
    return True


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
        else refreshed from the store.

        A tab built now shows its title first: building and drawing its content
        takes 40-60 ms, and the key showed nothing until then. The title and the
        empty pane are on the terminal before the content is built; the keys typed
        meanwhile wait for it (this action holds them), so ``2`` then ``n`` still
        reach the tab."""
        if self.tab_built(pane_id):
            built = await self.build_tab(pane_id)
        else:
            self.titled_first = pane_id
            try:
                self.query_one(TabbedPanes).active = pane_id
                await painted(self)
                built = await self.build_tab(pane_id)
            finally:
                self.titled_first = None
        self.show_tab(pane_id, refresh=not built)

    # The tab whose title a key shows before its content is built (``open_tab``):
    # the TabActivated handlers leave the building to the key.
    titled_first: str | None = None

    def tab_built(self, pane_id: str) -> bool:
        """Whether a tab's content exists (here every tab is built with the screen)."""
        return True

    async def build_tab(self, pane_id: str) -> bool:
        """Build a tab's content where it is built when first shown; whether it
        was built now. Here every tab is built with the screen."""
        return False

    def show_tab(self, pane_id: str, *, refresh: bool = True) -> None:
        """Show a tab: its content is read when first shown (``refresh`` or
        not), and again on ``refresh``."""
        tabs = self.query_one(TabbedPanes)
        tabs.active = pane_id
        content = tabs.get_pane(pane_id).query(TabContent)
        if content:
            tab = content.first()
            if refresh or (tab.loads_data() and not tab.has_loaded):
                tab.reload()
            tab.focus_main()

    def on_tabbed_panes_tab_activated(self, event: TabbedPanes.TabActivated) -> None:
        content = event.pane.query(TabContent)
        if content:
            tab = content.first()
            if tab.loads_data() and tab.never_loaded:
                tab.reload()  # a tab chosen by a click: read when first shown
            self.call_after_refresh(tab.focus_main)

    def visible_tab(self) -> TabContent | None:
        """The content of the tab shown."""
        tabs = self.query_one(TabbedPanes)
        if not tabs.active:
            return None
        content = tabs.get_pane(tabs.active).query(TabContent)
        return content.first() if content else None

    _loading_tab: TabContent | None = None

    def reload(self, select: str | None = None) -> None:
        """The screen's own data and the tab shown, in one load (one transaction);
        the other tabs are read when next shown."""
        if not self.loads_data():  # a screen still read on the UI thread: every tab
            for content in self.query(TabContent):
                content.reload()
            return
        tab = self._loading_tab = self.visible_tab()
        applied = tab.own_change_applied if tab is not None else None
        if tab is not None:
            tab.own_change_applied = None
        if (
            applied is not None
            and self.data_changes is not None
            and applied == self.data_changes + 1
            and self.has_loaded
        ):
            # Back from a dialog whose change, the only one meanwhile, the tab
            # showed without reading: nothing else to read.
            self.data_changes = applied
            self._tab_loads_when_covered = {}
            return
        covered = self._tab_loads_when_covered.get(id(tab))
        if tab is not None and covered is not None and tab.loads_started > covered:
            # Back from a dialog whose change the tab reloads itself for (the
            # dialog's callback, usually handled before this screen's resume):
            # the screen reads its own part only, not the tab's a second time.
            self._loading_tab = tab = None
        self._tab_loads_when_covered = {}
        if tab is not None and tab.loads_data():
            self._tab_serial = tab.ride_along()
        super().reload(select)

    # The visible tab's loads when a dialog covered the screen (ScreenSuspend).
    _tab_loads_when_covered: dict[int, int] = {}

    def on_screen_suspend(self) -> None:
        tab = self.visible_tab()
        if tab is not None and tab.loads_data():
            self._tab_loads_when_covered = {id(tab): tab.loads_started}

    def load(self) -> object:
        own = self.load_own()
        tab = self._loading_tab
        return own, tab, (tab.load() if tab is not None and tab.loads_data() else None)

    def show(self, data: object) -> None:
        own, tab, tab_data = data  # type: ignore[misc]
        self.show_own(own)
        if tab is not None and tab.loads_data():
            tab.shown_along(self._tab_serial, tab_data)

    def loading_target(self) -> Widget | None:
        tab = self.visible_tab()
        return tab.loading_target() if tab is not None else None

    def loads_data(self) -> bool:
        return type(self).load_own is not TabbedScreen.load_own

    def load_own(self) -> object:
        """What the screen shows besides its tabs (thread)."""
        return None

    def show_own(self, data: object) -> None:
        """Show what ``load_own`` read (UI thread)."""

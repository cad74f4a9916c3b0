"""One integration and its tabs: Details, Integration blueprints, API tokens, Webhooks,
API requests."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Header, Static

from store import integrations
from store.integrations import IntegrationInfo
from tui.format import minute, page_title
from tui.screens.api_requests_tab import ApiRequestsTab
from tui.screens.blueprints_tab import BlueprintsTab
from tui.screens.tabs import TabbedScreen, TabContent
from tui.screens.tokens_tab import TokensTab
from tui.screens.webhooks_tab import WebhooksTab
from tui.widgets.footer import Footer
from tui.widgets.tabs import TabbedPanes, TabPane


def _tokens(info: IntegrationInfo) -> str:
    if info.native:
        return "managed automatically" + (" (not verifying)" if info.suspended else "")
    # Not revoked: active, or not verifying while the plan suspends the integration.
    return f"{info.tokens} " + ("not verifying (suspended)" if info.suspended else "active")


def _status(info: IntegrationInfo) -> str:
    if info.suspended:
        return info.suspension_label
    return "Enabled" if info.enabled else "Disabled (paused)"


class DetailsTab(TabContent):
    def __init__(self, integration_id: int) -> None:
        super().__init__()
        self.integration_id = integration_id

    def compose(self) -> ComposeResult:
        yield Static("", id="details-body")

    def load(self) -> IntegrationInfo:
        info = integrations.get(self.admin.store, self.admin.actor.account_id, self.integration_id)
        screen = self.screen
        if isinstance(screen, IntegrationScreen):
            screen.loaded_info = info
        return info

    def show(self, info: IntegrationInfo) -> None:
        screen = self.screen
        if isinstance(screen, IntegrationScreen):
            screen.show_own(info)  # the title and banner follow as well
        else:
            self.show_info(info)

    def show_info(self, info: IntegrationInfo) -> None:
        kind = "Native integration" if info.native else "Custom integration extension"
        body = Text()
        body.append(f"{info.name}\n", style="bold")
        body.append(f"{info.description}\n\n")
        rows = [
            ("Kind", kind),
            ("Category", info.category),
            ("Status", _status(info)),
            ("Enabled", f"{minute(info.enabled_at, utc=True)} by {info.enabled_by}"),
            ("First enabled", minute(info.first_enabled_at, utc=True)),
            ("Blueprints", str(info.blueprints)),
            ("API tokens", _tokens(info)),
            ("Webhooks", f"{info.webhooks}" + (" (managed)" if info.native else "")),
        ]
        for label, value in rows:
            body.append(f"{label:<15}", style="bold")
            body.append(f"{value}\n")
        self.query_one("#details-body", Static).update(body)


# The tabs of an integration, in order: (pane id, title, factory taking the
# integration id). Keys 1..9 follow this order.
TABS: list[tuple[str, str, Callable[[int], TabContent]]] = [
    ("details", "Details", DetailsTab),
    ("blueprints", "Integration blueprints", BlueprintsTab),
    # -- other areas register their tabs below this line --
    ("tokens", "API tokens", TokensTab),
    ("webhooks", "Webhooks", WebhooksTab),
    ("requests", "API requests", ApiRequestsTab),
]


class IntegrationScreen(TabbedScreen):
    DEFAULT_CSS = """
    IntegrationScreen #suspended {
        display: none; height: auto; padding: 0 1; color: $text-warning; text-style: bold;
    }
    """

    def __init__(self, integration_id: int, *, tab: str = "details", name: str = "") -> None:
        super().__init__()
        self.integration_id = integration_id
        self.initial_tab = tab
        self.known_name = name  # from the list that opened it: the title before the data

    def compose(self) -> ComposeResult:
        yield Header()
        title = page_title("Integrations", self.known_name) if self.known_name else ""
        yield Static(Text(title), id="title", classes="section-title")
        # Shown on every tab while the plan suspends the integration: the store's words.
        yield Static("", id="suspended")
        # Only the first tab shown is built with the page; the others when first
        # shown (``build_tab``): composing and styling all five made opening an
        # integration take twice as long.
        with TabbedPanes(initial=self.initial_tab):
            for pane_id, title, factory in TABS:
                with TabPane(title, id=pane_id):
                    if pane_id == self.initial_tab:
                        yield factory(self.integration_id)
        yield Footer()

    async def build_tab(self, pane_id: str) -> bool:
        """Build a tab's content the first time it is shown (awaited, so the keys
        typed next, ``2`` then ``n``, reach that tab); whether it was built now."""
        pane = self.query_one(TabbedPanes).get_pane(pane_id)
        if pane.query(TabContent):
            return False
        factory = next(f for pid, _, f in TABS if pid == pane_id)
        await pane.mount(factory(self.integration_id))
        return True

    def tab_built(self, pane_id: str) -> bool:
        return bool(self.query_one(TabbedPanes).get_pane(pane_id).query(TabContent))

    async def on_tabbed_panes_tab_activated(self, event: TabbedPanes.TabActivated) -> None:
        # A click on a tab's title: built first if it never was; TabbedScreen's
        # handler (Textual calls each class's of the MRO, this one first) then
        # reads it and gives it the focus. A key builds its tab itself.
        if event.pane.id != self.titled_first:
            await self.build_tab(event.pane.id or "")

    info: IntegrationInfo | None = None  # shown
    loaded_info: IntegrationInfo | None = None  # read by the last load (its thread)

    def on_mount(self) -> None:
        # Read when the screen is shown (its resume: BaseScreen), the first tab with it.
        self.query_one(TabbedPanes).active = self.initial_tab
        self._first = True

    def load_own(self) -> IntegrationInfo | None:
        if isinstance(self._loading_tab, DetailsTab):
            return None  # the Details tab reads the integration itself, in this load
        info = integrations.get(self.admin.store, self.admin.actor.account_id, self.integration_id)
        self.loaded_info = info
        return info

    def show(self, data: object) -> None:
        super().show(data)
        if getattr(self, "_first", False):
            self._first = False
            tab = self.visible_tab()
            if tab is not None:
                tab.focus_main()

    def show_own(self, info: IntegrationInfo | None) -> None:
        if info is None:
            return
        self.info = info
        self.query_one("#title", Static).update(Text(page_title("Integrations", info.name)))
        banner = self.query_one("#suspended", Static)
        banner.update(Text(info.suspended))
        banner.display = bool(info.suspended)
        details = self.query(DetailsTab)
        if details:
            details.first().show_info(info)

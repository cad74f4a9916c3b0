"""The Integrations list: the account's active integrations."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from store.values import IntegrationInfo
from tui import colours
from tui.format import day, minute, page_title
from tui.keys import key_for
from tui.screens.base import BaseScreen
from tui.widgets.filter_table import FilterTable, Row
from tui.widgets.footer import Footer

# At 120 columns every column shows; narrower, Category goes (the Marketplace
# and the Details tab say it) and Enabled keeps its day and who, so that the
# counts, Webhooks included, stay in view at 80 columns.
WIDE = 100
COLUMNS_WIDE = ("Integration", "Category", "Enabled", "Blueprints", "Tokens", "Webhooks")
COLUMNS_NARROW = ("Integration", "Enabled", "Blueprints", "Tokens", "Webhooks")
LOGIN_NARROW = 10


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def integration_cells(i: IntegrationInfo, *, wide: bool) -> tuple[str | Text, ...]:
    """The row of one integration, with the columns of a wide or a narrow screen.
    Suspended by the plan, it says so where the date would be."""
    counts = (str(i.blueprints), "managed" if i.native else str(i.tokens), str(i.webhooks))
    if i.suspended:
        enabled: str | Text = Text(i.suspension_label, style=colours.style("warn", "bold"))
    elif wide:
        enabled = f"{minute(i.enabled_at)} by {i.enabled_by}"
    else:
        enabled = f"{day(i.enabled_at)} {_short(i.enabled_by, LOGIN_NARROW)}"
    return (i.name, i.category, enabled, *counts) if wide else (i.name, enabled, *counts)


class IntegrationsScreen(BaseScreen):
    """Every enabled integration; `enter` opens one.

    The program's first screen: on a start from a glance (``store.glance``) it
    shows the glance's rows until the store is open, so nothing here imports
    SQLAlchemy before the first paint.
    """

    shown: list[IntegrationInfo] | None = None

    # The list is hidden while empty and has no focus then: `/` still says
    # there is nothing to filter (the list's own key, from the screen).
    BINDINGS = [Binding("slash", "filter", "Filter", show=False)]

    def action_filter(self) -> None:
        self.query_one(FilterTable).action_filter()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Integrations", classes="section-title")
        yield Static("", id="empty", classes="empty")
        yield FilterTable(COLUMNS_WIDE, id="integrations")
        yield Footer()

    def _wide(self) -> bool:
        return self.app.size.width >= WIDE

    def on_resize(self) -> None:
        # The columns follow the width: shown again when it crosses WIDE.
        if self.shown and self._wide() != getattr(self, "_shown_wide", None):
            self._fill(self.shown)

    def on_mount(self) -> None:
        admin = self.admin
        if not admin.store_is_open and admin.glance is not None:
            self.show_glance()
        elif not admin.store_is_open:  # a server: the frame says where it connects
            self._say_connecting()
        self.query_one(FilterTable).focus_table()
        # The rows are painted: open the store now (no-op when it is open).
        self.call_after_refresh(self.admin.open_store_soon)

    def show_glance(self) -> None:
        """The glance's rows (``store.glance``), read before the store opened: no
        store, no worker (before the first paint on SQLite, in the thread that
        opens the store on a server)."""
        admin = self.admin
        if admin.store_is_open or admin.glance is None:
            return
        self.show(list(admin.glance.integrations))
        admin.show_title((admin.glance.account.name, admin.glance.account.plan))

    def reload(self, select: str | None = None) -> None:
        admin = self.admin
        if not admin.store_is_open and admin.glance is not None:
            return  # the glance shows; the store opens in a worker, then reloads
        if not admin.store_is_open:  # a server, opening in a thread (app.open_store_soon)
            self._say_connecting()
            return
        super().reload(select)

    def load(self) -> list[IntegrationInfo]:
        from store import integrations

        return integrations.active(self.admin.store, self.admin.actor.account_id)

    def show(self, items: list[IntegrationInfo]) -> None:
        if items == self.shown:
            return  # the same rows (mount and the first resume both reload)
        self.shown = items
        empty = self.query_one("#empty", Static)
        table = self.query_one(FilterTable)
        empty.display = not items
        table.set_shown(bool(items))
        if not items:
            empty.update(
                Text.assemble(
                    "No integrations are enabled yet.\n\nPress ",
                    (key_for(self.app, self, "go.marketplace"), "bold reverse"),
                    " to open the Marketplace, choose an extension (for example ",
                    ("Custom integration", "bold"),
                    ") and press ",
                    (key_for(self.app, None, "marketplace.toggle", default="e"), "bold reverse"),
                    " to enable it.",
                )
            )
            return
        self._fill(items)

    def _say_connecting(self) -> None:
        """The frame's one line before the store is open: where it connects to,
        or why it could not."""
        empty = self.query_one("#empty", Static)
        self.query_one(FilterTable).display = False
        empty.display = True
        failure = self.admin.open_failure
        empty.update(Text(failure or f"Connecting to {self.admin.connecting_to}..."))

    def _fill(self, items: list[IntegrationInfo]) -> None:
        wide = self._wide()
        self._shown_wide = wide
        table = self.query_one(FilterTable)
        table.set_columns(COLUMNS_WIDE if wide else COLUMNS_NARROW)
        table.set_rows(
            [
                Row(
                    str(i.id),
                    integration_cells(i, wide=wide),
                    search=f"{i.name} {i.category} {i.enabled_by}".lower(),
                    item=i,
                )
                for i in items
            ]
        )

    @on(FilterTable.Opened)
    def open_integration(self, event: FilterTable.Opened) -> None:
        row = event.table.selected_row
        name = row.item.name if row is not None and row.key == event.key and row.item else ""

        def page() -> Screen:
            from tui.screens.integration import IntegrationScreen

            return IntegrationScreen(int(event.key), name=name)

        # Its title at once; the page (100-150 ms to build and draw) after.
        self.admin.open_titled(page_title("Integrations", name) if name else None, page)

"""The Integrations list: the account's active integrations."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Header, Static

from store.errors import DomainError
from store.values import IntegrationInfo
from tui.keys import key_for
from tui.screens.base import BaseScreen
from tui.widgets.filter_table import FilterTable, Row
from tui.widgets.footer import Footer


def when(dt) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else "never"


class IntegrationsScreen(BaseScreen):
    """Every enabled integration; `enter` opens one.

    The program's first screen: on a start from a glance (``store.glance``) it
    shows the glance's rows until the store is open, so nothing here imports
    SQLAlchemy before the first paint.
    """

    shown: list[IntegrationInfo] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Integrations", classes="section-title")
        yield Static("", id="empty", classes="empty")
        yield FilterTable(
            ("Integration", "Category", "Enabled", "Blueprints", "Tokens", "Webhooks"),
            id="integrations",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(FilterTable).focus_table()
        # The rows are painted: open the store now (no-op when it is open).
        self.call_after_refresh(self.admin.open_store_soon)

    def reload(self) -> None:
        admin = self.admin
        if not admin.store_is_open and admin.glance is not None:
            items = list(admin.glance.integrations)
        else:
            from store import integrations

            try:
                items = integrations.active(admin.store, admin.actor.account_id)
            except DomainError as exc:
                admin.report(exc)
                return
        if items == self.shown:
            return  # the same rows (mount and the first resume both reload)
        self.shown = items
        empty = self.query_one("#empty", Static)
        table = self.query_one(FilterTable)
        empty.display = not items
        table.display = bool(items)
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
        table.set_rows(
            [
                Row(
                    str(i.id),
                    (
                        i.name,
                        i.category,
                        # Suspended by the plan: said where the date would be.
                        Text(i.suspension_label, style="bold yellow")
                        if i.suspended
                        else f"{when(i.enabled_at)} by {i.enabled_by}",
                        str(i.blueprints),
                        "managed" if i.native else str(i.tokens),
                        str(i.webhooks),
                    ),
                )
                for i in items
            ]
        )

    @on(FilterTable.Opened)
    def open_integration(self, event: FilterTable.Opened) -> None:
        from tui.screens.integration import IntegrationScreen

        self.app.push_screen(IntegrationScreen(int(event.key)))

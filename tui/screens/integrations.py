"""The Integrations list: the account's active integrations."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from store import integrations
from store.errors import DomainError
from tui.screens.base import BaseScreen
from tui.widgets.filter_table import FilterTable, Row


def when(dt) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else "never"


class IntegrationsScreen(BaseScreen):
    """Every enabled integration; `enter` opens one."""

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

    def reload(self) -> None:
        try:
            items = integrations.active(self.admin.store, self.admin.actor.account_id)
        except DomainError as exc:
            self.admin.report(exc)
            return
        empty = self.query_one("#empty", Static)
        table = self.query_one(FilterTable)
        empty.display = not items
        table.display = bool(items)
        if not items:
            empty.update(
                Text.assemble(
                    "No integrations are enabled yet.\n\nPress ",
                    ("m", "bold reverse"),
                    " to open the Marketplace, choose an extension (for example ",
                    ("Custom integration", "bold"),
                    ") and press ",
                    ("e", "bold reverse"),
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
                        f"{when(i.enabled_at)} by {i.enabled_by}",
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

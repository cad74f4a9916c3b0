"""The Marketplace: the catalog by category, the plan each needs, enabled or not."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Header, Label, Static

from store import catalog, marketplace
from store.marketplace import ExtensionState
from tui.dialogs.base import Dialog
from tui.dialogs.confirm import ConfirmDialog
from tui.keys import key_for
from tui.refusing import NOTHING_SELECTED, Refusal, Refuses, first, permission, plan
from tui.screens.base import BaseScreen
from tui.widgets.filter_table import FilterTable, Row
from tui.widgets.footer import Footer


def toggle_refusal(admin, st: ExtensionState | None, account_plan: str | None) -> Refusal | None:
    """Why ``st`` cannot be enabled or disabled by the acting user: the
    permission (hidden), then, to enable, the plan (dimmed: the operator may
    change it). The store's words."""
    if st is None:
        return first(permission(admin, "enable extensions"), NOTHING_SELECTED)
    verb = "disable" if st.enabled else "enable"
    return first(
        permission(admin, f"{verb} {st.extension.name}"),
        plan(marketplace.plan_refusal(st.extension, account_plan))
        if not st.enabled and account_plan
        else None,
    )


def status_text(st: ExtensionState) -> str:
    if st.suspended:
        return catalog.suspension_label(st.extension.key)
    if st.enabled:
        return "Enabled"
    if not st.allowed:
        return f"Needs {st.extension.plan}"
    if st.integration_id is not None:
        return "Disabled (paused)"
    return "Not enabled"


class ExtensionCard(Refuses, Dialog[str | None]):
    """An extension's card: what it is, the plan it needs, Enable / Disable."""

    DEFAULT_CSS = """
    ExtensionCard > .dialog { width: 70; padding: 1 2; }
    ExtensionCard .name { text-style: bold; }
    ExtensionCard .meta { color: $text-muted; margin-bottom: 1; }
    ExtensionCard .dialog-buttons { margin-top: 1; }
    """
    BINDINGS = [
        Binding("e", "toggle", "Enable/Disable", id="card.toggle"),
        Binding("escape", "close", "Close", id="card.close"),
    ]

    def __init__(self, state: ExtensionState, plan: str) -> None:
        super().__init__()
        self.state = state
        self.plan = plan

    def compose(self) -> ComposeResult:
        ext = self.state.extension
        kind = "Native integration" if ext.native else "Extension"
        with Vertical(classes="dialog"):
            yield Label(Text(ext.name), classes="name")
            yield Static(
                Text(f"{kind} · {ext.category} · included from the {ext.plan} plan"),
                classes="meta",
            )
            yield Static(Text(ext.description))
            if ext.native:
                yield Static(
                    Text(
                        f"Enabling creates its blueprint ({len(ext.fields)} default fields), "
                        "a managed API token and its managed webhook."
                    ),
                    classes="meta",
                )
            yield Static(Text(f"Status: {status_text(self.state)}"))
            if not self.state.allowed:
                yield Static(Text(marketplace.plan_refusal(ext, self.plan) or ""), classes="meta")
            with Horizontal(classes="dialog-buttons"):
                close = key_for(self.app, self, "card.close", short=True)
                yield Button(f"Close ({close})", id="close")
                toggle = key_for(self.app, self, "card.toggle")
                label = f"Disable ({toggle})" if self.state.enabled else f"Enable ({toggle})"
                yield Button(
                    label, id="toggle", variant="error" if self.state.enabled else "primary"
                )

    def on_mount(self) -> None:
        self.query_one("#toggle", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "toggle":
            self.action_toggle()
        else:
            self.dismiss(None)

    def refusal(self, action: str) -> Refusal | None:
        if action == "toggle":
            return toggle_refusal(self.app, self.state, self.plan)
        return None

    def action_toggle(self) -> None:
        # Refused here, the card stays open with the reason said.
        if not self.refused("toggle"):
            self.dismiss("toggle")


class MarketplaceScreen(Refuses, BaseScreen):
    """Browse extensions; `e` enables or disables, `enter` opens the card."""

    BINDINGS = [
        Binding("e", "toggle", "Enable/Disable", id="marketplace.toggle"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Marketplace", classes="section-title")
        yield FilterTable(("Extension", "Category", "Plan", "Status"), id="catalog")
        yield Footer()

    states: list[ExtensionState] = []
    plan: str = ""  # the account's, read with the extensions

    def on_mount(self) -> None:
        # Read when the screen is shown (its resume: BaseScreen), in a worker.
        self.query_one(FilterTable).focus_table()

    def load(self) -> tuple[list[ExtensionState], str]:
        from store import accounts

        account_id = self.admin.actor.account_id
        return (
            marketplace.extensions(self.admin.store, account_id),
            accounts.account_info(self.admin.store, account_id).plan,
        )

    def show(self, data: tuple[list[ExtensionState], str]) -> None:
        self.states, self.plan = data
        ordered = sorted(
            self.states, key=lambda s: (s.extension.category, s.extension.name.lower())
        )
        self.query_one(FilterTable).set_rows(
            [
                Row(
                    st.extension.key,
                    (st.extension.name, st.extension.category, st.extension.plan, status_text(st)),
                    item=st,
                )
                for st in ordered
            ]
        )
        self.refresh_bindings()

    def _selected(self) -> ExtensionState | None:
        return self.query_one(FilterTable).selected_item

    @on(FilterTable.Opened)
    def open_card(self, event: FilterTable.Opened) -> None:
        st = self._selected()
        if st is None:
            return
        plan = self.plan

        def after(choice: str | None) -> None:
            if choice == "toggle":
                self.toggle(st)

        self.app.push_screen(ExtensionCard(st, plan), after)

    def refusal(self, action: str) -> Refusal | None:
        if action == "toggle":
            return toggle_refusal(self.admin, self._selected(), self.admin.account_plan)
        return None

    def action_toggle(self) -> None:
        st = self._selected()
        if st is not None:
            self.toggle(st)

    def toggle(self, st: ExtensionState) -> None:
        ext = st.extension
        if self.refused("toggle"):
            return
        if not st.enabled:

            def saved(_result: object) -> None:
                i = key_for(self.app, self, "go.integrations")
                self.notify(f"{ext.name} is enabled: find it under Integrations ({i}).")
                self.reload()

            self.admin.save(
                marketplace.enable, self.admin.store, self.admin.actor, ext.key, on_done=saved
            )
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def saved(_result: object) -> None:
                self.notify(f"{ext.name} is disabled. Enable it again to restore everything.")
                self.reload()

            self.admin.save(
                marketplace.disable, self.admin.store, self.admin.actor, ext.key, on_done=saved
            )

        self.app.push_screen(
            ConfirmDialog(
                f"Disable {ext.name}?",
                f"{ext.name} leaves the Integrations list, its API tokens stop verifying and "
                "its webhooks stop sending. Nothing is deleted: enabling it again restores "
                "everything as it was.",
                yes="Disable",
            ),
            answered,
        )

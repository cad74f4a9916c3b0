"""The API tokens tab of an integration: list (with each token's last use and
its requests in the last 24 hours), generate (shown once), revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from store import apiaccess, clock, tokens
from store.refusals import (
    NATIVE_TOKENS,
    native_integration_refusal,
    revoked_token_refusal,
    token_rotation_refusal,
)
from store.tokens import TokenInfo
from tui import colours
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog, FormField
from tui.format import ago, day
from tui.keys import key_for
from tui.refusing import (
    NOTHING_SELECTED,
    Refusal,
    Refuses,
    first,
    for_now,
    permission,
    read_only,
    suspended,
)
from tui.screens.tabs import TabContent
from tui.widgets.filter_table import FilterTable, Row

EXPIRY_OPTIONS: tuple[tuple[str, str], ...] = (
    ("Never", "never"),
    ("30 days", "30"),
    ("90 days", "90"),
    ("365 days", "365"),
)
STATUS_ROLE = {  # the colour of each status, by role (tui.colours)
    "active": "good",
    "expired": "warn",
    "revoked": "bad",
    "paused": "warn",
    "suspended": "warn",
}
# At 100 columns and more, Created names who created the token; narrower, it
# keeps the day only, so that the requests of the last 24 hours stay in view.
WIDE = 100
COLUMNS_WIDE = ("Name", "Hint", "Created", "Expires", "Last used", "Requests 24 h", "Status")
COLUMNS_NARROW = ("Name", "Hint", "Created", "Expires", "Last used", "24 h", "Status")


def token_form(admin, integration_id: int) -> FormDialog:
    """Name and expiry; Confirm returns (TokenInfo, token) from the store."""

    def submit(v: dict[str, Any]) -> tuple[TokenInfo, str]:
        choice = v["expiry"]
        days = None if choice in (None, "never") else int(choice)
        return tokens.generate(
            admin.store, admin.actor, integration_id, name=v["name"], expires_in_days=days
        )

    return FormDialog(
        "Generate an API token",
        [
            FormField(
                "name",
                "Name",
                placeholder="e.g. ERP sync",
                help="What uses it; unique within this integration",
            ),
            FormField("expiry", "Expires", kind="select", value="never", options=EXPIRY_OPTIONS),
        ],
        submit,
        confirm_label="Generate",
        intro="The token is shown once, on the next screen. Only a hash is kept.",
    )


class TokensTab(Refuses, TabContent):
    DEFAULT_CSS = """
    TokensTab #tokens-note.-managed { height: auto; padding: 1 1; color: $text; }
    """
    BINDINGS = [
        Binding("n", "new", "New token", id="tokens.new"),
        Binding("d", "revoke", "Revoke", id="tokens.revoke"),
        Binding("x", "rotate", "Rotate", id="tokens.rotate"),
        Binding("z", "end_grace", "End old token", id="tokens.end_grace"),
    ]

    def __init__(self, integration_id: int) -> None:
        super().__init__()
        self.integration_id = integration_id
        self.items: list[TokenInfo] = []
        self.usage: dict[int, apiaccess.TokenUsage] = {}
        self.native = False
        self.integration_name = ""
        self.suspended = ""  # the store's words when the plan suspends the integration

    def compose(self) -> ComposeResult:
        yield Static("", id="tokens-note", classes="usage")
        yield FilterTable(COLUMNS_WIDE, id="token-list")

    _shown: tuple | None = None

    def on_resize(self) -> None:
        wide = self.app.size.width >= WIDE
        if self.items and self._shown is not None and wide != getattr(self, "_shown_wide", None):
            self.show(self._shown)  # the columns follow the width: no read

    def load(self) -> tuple:
        store, actor = self.admin.store, self.admin.actor
        info = self.integration_info(self.integration_id)
        items = (
            []
            if info.native
            else tokens.list_for_integration(store, actor.account_id, self.integration_id)
        )
        # Last use and requests in the last 24 hours: one query for every token.
        usage = (
            {}
            if info.native or not items
            else apiaccess.token_usage(store, actor.account_id, self.integration_id)
        )
        return info, items, usage

    def show(self, data: tuple) -> None:
        self._shown = data
        info, self.items, self.usage = data
        select = self.select_after
        self.native = info.native
        self.integration_name = info.name
        self.suspended = info.suspended
        note = self.query_one("#tokens-note", Static)
        table = self.query_one(FilterTable)
        # A native integration's tab has no list: the tab itself takes the focus
        # (and its keys, which say why not), before the hidden list gives it away.
        self.can_focus = info.native
        had_focus = table.has_focus_within or self.screen.focused is None
        table.display = not info.native
        if info.native and had_focus:
            self.focus_main()
        if info.native:
            note.update(
                Text(
                    f"{info.name}'s API token is managed automatically and is not visible: "
                    "it was created when the integration was enabled and is never shown. "
                    "Tokens you generate belong to the Custom integration."
                )
            )
            note.set_classes("-managed")  # several lines, not the one-line usage style
            note.display = True
            self.refresh_bindings()
            return
        active = sum(1 for t in self.items if t.status == "active")
        # An empty list says so once, in the table's own empty state.
        note.display = bool(self.items)
        note.update(Text(f"{active} active of {len(self.items)} · shown once, kept as a hash"))
        table.empty_text = self.empty_text()
        now = clock.now()
        wide = self._shown_wide = self.app.size.width >= WIDE
        table.set_columns(COLUMNS_WIDE if wide else COLUMNS_NARROW)
        table.set_rows(
            [
                Row(
                    str(t.id),
                    (
                        t.name,
                        t.hint,
                        f"{day(t.created_at)} {t.created_by}" if wide else day(t.created_at),
                        day(t.expires_at),
                        ago(self._last_used(t), now),
                        Text(f"{self._requests(t):,}", justify="right"),
                        self._status(t, now),
                    ),
                    search=f"{t.name} {t.hint} {t.created_by} {t.status}".lower(),
                    item=t,
                )
                for t in self.items
            ],
            select=select,
        )
        self.refresh_bindings()

    def _status(self, t: TokenInfo, now: datetime) -> Text:
        """The status and, during a rotation's grace, the old token and when it ends."""
        role = STATUS_ROLE.get(t.status)
        text = Text(t.status, style=colours.style(role) if role else "")
        if t.in_grace(now) and t.previous_until is not None:
            text.append(
                f" · old {(t.previous_hint or '').removeprefix('iadm_')} until "
                f"{t.previous_until:%m-%d %H:%M} UTC",
                style=colours.style("warn"),
            )
        return text

    def _last_used(self, t: TokenInfo) -> datetime | None:
        use = self.usage.get(t.id)
        return use.last_used_at if use is not None else t.last_used_at

    def _requests(self, t: TokenInfo) -> int:
        use = self.usage.get(t.id)
        return use.requests_24h if use is not None else 0

    def empty_text(self) -> str:
        return f"No API tokens yet: press {key_for(self.app, self, 'tokens.new')} to generate one."

    def selected(self) -> TokenInfo | None:
        return self.query_one(FilterTable).selected_item

    def refusal(self, action: str) -> Refusal | None:
        """The store's checks, in its order. Revoking stays possible while the
        plan suspends the integration (a leaked token can always be stopped)."""
        native = read_only(
            native_integration_refusal(self.integration_name, self.native, NATIVE_TOKENS)
        )
        if action == "new":
            return first(
                permission(self.admin, "generate API tokens"), native, suspended(self.suspended)
            )
        if action == "revoke":
            token = self.selected()
            return first(
                permission(self.admin, "revoke API tokens"),
                native,
                NOTHING_SELECTED if token is None else None,
                for_now(revoked_token_refusal(token.name, token.revoked_at)) if token else None,
            )
        if action in ("rotate", "end_grace"):
            token = self.selected()
            now = clock.now()
            if action == "end_grace" and (token is None or not token.in_grace(now)):
                return Refusal("", hidden=True)
            return first(
                permission(self.admin, "rotate API tokens"),
                native,
                suspended(self.suspended) if action == "rotate" else None,
                NOTHING_SELECTED if token is None else None,
                for_now(
                    token_rotation_refusal(
                        token.name,
                        managed=token.managed,
                        status=token.status,
                        previous_until=token.previous_until,
                        now=now,
                    )
                )
                if token is not None and action == "rotate"
                else None,
            )
        return None

    def action_rotate(self) -> None:
        token = self.selected()
        if token is None or self.refused("rotate"):
            return
        admin = self.admin

        def submit(v: dict[str, Any]) -> tuple[TokenInfo, str]:
            hours = v["grace"].strip()
            return tokens.rotate(
                admin.store,
                admin.actor,
                token.id,
                # Digits become hours; anything else goes as typed, for the store's words.
                grace_hours=int(hours) if hours.isdigit() else hours,
            )

        self.app.push_screen(
            FormDialog(
                f"Rotate the API token {token.name}",
                [
                    FormField(
                        "grace",
                        "Grace period (hours)",
                        value=str(tokens.GRACE_DEFAULT_H),
                        help="The old token keeps working this long: 0 to 168 hours",
                    )
                ],
                submit,
                confirm_label="Rotate",
                intro=f"A new token replaces {token.hint}; it is shown once, on the next "
                "screen. Then the old one is refused as rotated.",
            ),
            self.show_once,
        )

    def action_end_grace(self) -> None:
        token = self.selected()
        if token is None or self.refused("end_grace"):
            return

        def done(_info) -> None:
            self.notify(f"The old token {token.previous_hint} is refused from now on.")
            self.reload(select=str(token.id))

        self.admin.save(
            tokens.end_grace, self.admin.store, self.admin.actor, token.id, on_done=done
        )

    def action_new(self) -> None:
        if self.refused("new"):
            return

        self.app.push_screen(token_form(self.admin, self.integration_id), self.show_once)

    def show_once(self, result: tuple[TokenInfo, str] | None) -> None:
        """A new token (generated, or a rotation's) goes to the one-time screen and
        nowhere else; back from it, the list shows its row."""
        if result is None:
            return
        from tui.screens.token_once import TokenOnceScreen

        info = result[0]

        def closed(_: None) -> None:
            self.reload(select=str(info.id))
            self.focus_main()

        self.app.push_screen(
            TokenOnceScreen(info, result[1], integration_name=self.integration_name), closed
        )

    def action_revoke(self) -> None:
        token = self.selected()
        if token is None or self.refused("revoke"):
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def saved(_result: object) -> None:
                self.notify(f"API token {token.name!r} revoked.")
                self.reload(select=str(token.id))

            self.admin.save(
                tokens.revoke, self.admin.store, self.admin.actor, token.id, on_done=saved
            )

        self.app.push_screen(
            ConfirmDialog(
                f"Revoke the API token {token.name}?",
                f"Systems using {token.name!r} ({token.hint}) will be refused from now on. "
                "Revoking is permanent: the token cannot be restored.",
                yes="Revoke",
            ),
            answered,
        )

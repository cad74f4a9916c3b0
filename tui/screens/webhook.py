"""A webhook's page (its settings and delivery log, newest first) and a
delivery's page (the request as sent, the response as read, resend).

The signing key is masked; `r` reveals it (audit-logged) until `r` again or
the page is left, and the footer says `r Hide key` meanwhile. A typed key also
shows its Standard Webhooks secret (``whsec_`` + base64 of its bytes: what a
receiver pastes into an official library), masked and revealed with it; `w`
copies that one. Tests and resends run in app workers.
"""

from __future__ import annotations

import json
from dataclasses import replace

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Header, Static
from textual.worker import get_current_worker

from store import deliveries, webhooks
from store.deliveries import DeliveryDetail, DeliveryInfo
from store.errors import DomainError
from store.refusals import managed_webhook_refusal
from store.webhooks import WebhookInfo
from tui import colours
from tui.format import second
from tui.keys import key_for
from tui.refusing import Refusal, Refuses, first, permission, read_only, suspended
from tui.screens.base import BaseScreen
from tui.screens.webhooks_tab import confirm_delete, start_test
from tui.textual_compat import node_bindings
from tui.widgets.filter_table import FilterTable, Row
from tui.widgets.footer import Footer


def _grid(rows: list[tuple[str, Text | str]]) -> Table:
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold", no_wrap=True, min_width=13)
    t.add_column()
    for label, value in rows:
        # A long value (a 1000-character URL) wraps whole: it is what this page is about.
        t.add_row(Text(label), value if isinstance(value, Text) else Text(value, overflow="fold"))
    return t


def _result(d: DeliveryInfo) -> Text:
    return Text(
        d.short_label,
        style=colours.style("good" if d.success else "bad"),
        no_wrap=True,
        overflow="ellipsis",
    )


class WebhookScreen(Refuses, BaseScreen):
    help_title = "Webhook"
    DEFAULT_CSS = """
    WebhookScreen #webhook-settings { height: auto; padding: 0 1; }
    WebhookScreen #log-title { height: 1; padding: 0 1; margin-top: 1; text-style: bold; }
    /* A long URL, shown whole, may fill the screen: the page scrolls, the log keeps rows. */
    WebhookScreen FilterTable { min-height: 6; }
    """
    BINDINGS = [
        Binding("t", "test", "Test", id="webhook.test"),
        Binding("r", "reveal", "Reveal key", id="webhook.reveal"),
        Binding("c", "copy_key", "Copy key", id="webhook.copy_key"),
        Binding("w", "copy_secret", "Copy receiver secret", id="webhook.copy_secret"),
        Binding("d", "delete", "Delete", id="webhook.delete"),
    ]
    REVEAL_LABEL = "Reveal key"
    HIDE_LABEL = "Hide key"

    def __init__(self, webhook_id: int) -> None:
        super().__init__()
        self.webhook_id = webhook_id
        self.info: WebhookInfo | None = None
        self.entries: list[DeliveryInfo] = []
        self._revealed: str | None = None
        self.testing = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="section-title")
        yield Static("", id="webhook-settings")
        yield Static("Delivery log, newest first (enter opens one)", id="log-title")
        yield FilterTable(
            ("Time", "Event", "Result", "Latency", "Callback id"),
            id="delivery-list",
            search=self._search,  # the whole log, in SQL: it may hold 100,000 deliveries
        )
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(FilterTable).focus_table()

    def on_screen_suspend(self) -> None:
        # A revealed key does not outlive the visit. Redrawn from what is shown,
        # not reloaded: the screen may be leaving because its webhook is gone.
        if self._revealed is not None:
            self._set_revealed(None)

    def _set_revealed(self, key: str | None) -> None:
        """Show or hide the key, and say in the footer what `r` does now."""
        self._revealed = key
        label = self.REVEAL_LABEL if key is None else self.HIDE_LABEL
        # The binding keeps its id and key (a remapped key stays remapped: the
        # keymap is applied to these bindings when the footer reads them).
        # New lists, never edited in place: Textual's copy of a class's bindings
        # shares them with the class (an edit would reach every later screen).
        by_key = node_bindings(self).key_to_bindings
        for key, bindings in list(by_key.items()):
            if any(b.id == "webhook.reveal" and b.description != label for b in bindings):
                by_key[key] = [
                    replace(b, description=label) if b.id == "webhook.reveal" else b
                    for b in bindings
                ]
        self.refresh_bindings()
        self._show_settings()

    def refusal(self, action: str) -> Refusal | None:
        """The store's checks, in its order: the permission, a managed webhook
        (read-only), the plan. Keys for a key the webhook has not (no signing
        key; a receiver secret is a typed key's only) are not shown."""
        w = self.info
        if w is None or action not in ("test", "reveal", "copy_key", "copy_secret", "delete"):
            return None
        if action == "reveal" and self._revealed is not None:
            return None  # hiding it again needs nothing
        no_key = Refusal("", hidden=True)
        if action in ("reveal", "copy_key") and not w.signed:
            return no_key
        if action == "copy_secret" and not w.receiver_secret_masked:
            # Only a typed key has a receiver secret of its own (a generated key is one).
            return no_key
        doing = {
            "test": "test webhooks",
            "reveal": "reveal signing keys",
            "copy_key": "copy signing keys",
            "copy_secret": "copy signing keys",
            "delete": "delete webhooks",
        }[action]
        if action not in ("test", "delete"):
            return permission(self.admin, doing)
        return first(
            permission(self.admin, doing),
            read_only(
                managed_webhook_refusal(w.integration_name, w.managed, sending=action == "test")
            ),
            suspended(w.suspended),
        )

    def reload(self, select: str | None = None) -> None:
        if not self.is_attached:
            return
        try:
            self.info = webhooks.get(self.admin.store, self.admin.actor.account_id, self.webhook_id)
            self.entries = deliveries.deliveries(
                self.admin.store, self.webhook_id, text_filter=self._filter_text()
            )
        except DomainError as exc:
            self.admin.report(exc)
            return
        self._show_settings()
        self.refresh_bindings()  # `w` applies to a typed key only
        self._show_entries(select)

    def _show_settings(self) -> None:
        w = self.info
        if w is None:
            return
        self.query_one("#title", Static).update(
            Text(f"Integrations › {w.integration_name} › Webhook")
        )
        secret: Text | None = None
        reveal, copy_key, copy_secret = (
            key_for(self.app, self, i)
            for i in ("webhook.reveal", "webhook.copy_key", "webhook.copy_secret")
        )
        if not w.signed:
            key = Text("none (deliveries are not signed)")
        elif self._revealed is not None:
            key = Text(self._revealed, style=colours.style("secret", "bold"))
            key.append(f"  ({reveal} hides)", style="dim")
            if w.receiver_secret_masked:
                secret = Text(
                    webhooks.receiver_secret(self._revealed), style=colours.style("secret", "bold")
                )
        else:
            kind = "generated" if w.key_generated else "typed"
            key = Text(f"{w.key_masked}  ({kind}; {reveal} reveals, {copy_key} copies)")
            if w.receiver_secret_masked:
                secret = Text(w.receiver_secret_masked)
        if secret is not None:
            secret.append(
                f"  (paste this into a Standard Webhooks library; {copy_secret} copies)",
                style="dim",
            )
        if w.suspended:
            state = "suspended by the plan: " + w.suspended
        else:
            state = "active" if w.active else "paused: its integration is disabled"
        if w.managed:
            state += " · managed by the integration, read-only"
        self.query_one("#webhook-settings", Static).update(
            _grid(
                [
                    ("URL", w.url),
                    ("Events", w.events_label),
                    ("Signing key", key),
                    *([("Receiver secret", secret)] if secret is not None else []),
                    ("Verified", "yes, by a test" if w.verified else "no"),
                    ("Status", "testing…" if self.testing else state),
                    ("Created", f"{second(w.created_at, utc=True)} by {w.created_by}"),
                ]
            )
        )

    def _filter_text(self) -> str:
        return self.query_one(FilterTable).filter_text.strip()

    def _search(self, text: str) -> None:
        self._search_worker(text.strip())

    @work(thread=True, exclusive=True, group="delivery-search")
    def _search_worker(self, text: str) -> None:
        try:
            found = deliveries.deliveries(self.admin.store, self.webhook_id, text_filter=text)
        except DomainError as exc:
            self.app.call_from_thread(self.admin.report, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._found, text, found)

    def _found(self, text: str, found: list[DeliveryInfo]) -> None:
        if text == self._filter_text():  # else a newer keystroke's search is coming
            self.entries = found
            self._show_entries()

    def _show_entries(self, select: str | None = None) -> None:
        table = self.query_one(FilterTable)
        table.empty_text = "No deliveries yet: t sends a test."
        table.set_rows(
            [
                Row(
                    str(d.id),
                    (
                        second(d.attempted_at),
                        d.event_type,
                        _result(d),
                        f"{d.latency_ms} ms" if d.latency_ms is not None else "",
                        d.callback_id[:12] + "…",
                    ),
                    search=f"{d.event_type} {d.callback_id} {d.result_label}".lower(),
                )
                for d in self.entries
            ],
            select=select,
        )

    def action_test(self) -> None:
        if self.info is None or self.refused("test"):
            return
        if self.testing:
            self.notify("A test is already running.", severity="warning")
            return
        self.testing = True
        self.reload()

        def done() -> None:
            self.testing = False
            self.reload()

        start_test(self.admin, self.info, done)

    def action_reveal(self) -> None:
        if self.info is None or not self.info.signed:
            return
        if self._revealed is not None:
            self._set_revealed(None)
        elif not self.refused("reveal"):
            # Revealing is audit-logged: a change, off the UI thread.
            self.admin.save(
                webhooks.reveal_key,
                self.admin.store,
                self.admin.actor,
                self.webhook_id,
                on_done=self._set_revealed,
            )

    def action_copy_key(self) -> None:
        self._copy(receiver=False)

    def action_copy_secret(self) -> None:
        self._copy(receiver=True)

    def _copy(self, *, receiver: bool) -> None:
        if self.info is None or self.refused("copy_secret" if receiver else "copy_key"):
            return

        def copy(key: str | None) -> None:
            if key:
                from tui import clipboard

                clipboard.copy(self.app, webhooks.receiver_secret(key) if receiver else key)

        self.admin.save(
            webhooks.reveal_key, self.admin.store, self.admin.actor, self.webhook_id, on_done=copy
        )

    def action_delete(self) -> None:
        w = self.info
        if w is None or self.refused("delete"):
            return
        confirm_delete(self.admin, w, self.app.pop_screen)

    @on(FilterTable.Opened, "#delivery-list")
    def _open(self, event: FilterTable.Opened) -> None:
        event.stop()
        self.app.push_screen(DeliveryScreen(int(event.key), self.info))


def delivery_breadcrumb(w: WebhookInfo, d: DeliveryDetail, width: int = 80) -> str:
    """Where a delivery is: its integration, its webhook (its URL shortened to
    fit ``width``; the page shows it whole) and its number in that webhook's
    log (not the account-wide id)."""
    head, tail = f"{w.integration_name} › Webhooks › ", f" › Delivery {d.number} · {d.event_type}"
    if width - 2 - len(head) - len(tail) < 16:
        tail = f" › Delivery {d.number}"  # the event type is the page's first lines
    room = max(16, width - 2 - len(head) - len(tail))
    url = w.url.removeprefix("https://")
    if len(url) > room:
        url = url[: room - 1] + "…"
    return head + url + tail


def _pretty_body(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2)
    except ValueError:
        return body


class DeliveryScreen(Refuses, BaseScreen):
    help_title = "Delivery"
    DEFAULT_CSS = """
    DeliveryScreen #delivery-body { height: 1fr; padding: 0 1; }
    DeliveryScreen #delivery-body > Static { height: auto; }
    DeliveryScreen .part { text-style: bold; margin-top: 1; }
    """
    BINDINGS = [Binding("r", "resend", "Resend", id="delivery.resend")]

    def __init__(self, delivery_id: int, webhook: WebhookInfo | None = None) -> None:
        super().__init__()
        self.delivery_id = delivery_id
        self.webhook = webhook  # for the breadcrumb; loaded when not given
        self.detail: DeliveryDetail | None = None
        self.resending = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="section-title")
        yield VerticalScroll(id="delivery-body")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#delivery-body").focus()

    def reload(self) -> None:
        if not self.is_attached:
            return
        try:
            d = deliveries.delivery(self.admin.store, self.delivery_id)
        except DomainError as exc:
            self.admin.report(exc)
            return
        self.detail = d
        if self.webhook is None or self.webhook.id != d.webhook_id:
            try:
                self.webhook = webhooks.get(
                    self.admin.store, self.admin.actor.account_id, d.webhook_id
                )
            except DomainError as exc:
                self.admin.report(exc)
                return
        self.query_one("#title", Static).update(
            Text(delivery_breadcrumb(self.webhook, d, self.app.size.width))
        )
        self.refresh_bindings()  # resend follows the webhook (managed, suspended)
        result = _result(d)
        if d.error and d.status_code is None:
            result = Text(d.error, style=colours.style("bad"))
        rows: list[tuple[str, Text | str]] = [
            ("Time", second(d.attempted_at, utc=True)),
            ("Event", d.event_type),
            ("Callback id", d.callback_id),
            ("URL", d.url),
            ("Result", result),
            ("Latency", f"{d.latency_ms} ms" if d.latency_ms is not None else "none"),
        ]
        if d.resend_of_id:
            rows.append(
                (
                    "Resend of",
                    f"delivery {d.resend_of_number}"
                    if d.resend_of_number
                    else "an attempt no longer in the log",
                )
            )
        if self.resending:
            rows.append(("Resend", Text("sending…", style=colours.style("secret", "bold"))))
        headers = Text()
        for name, value in d.request_headers:
            headers.append(f"{name}: ", style="bold")
            headers.append(f"{value}\n")
        headers.rstrip()
        response = d.response_excerpt or f"(no response: {d.error or 'nothing was received'})"
        body = self.query_one("#delivery-body", VerticalScroll)
        body.remove_children()
        body.mount_all(
            [
                Static(_grid(rows)),
                Static("Request headers", classes="part"),
                Static(headers if headers.plain else Text("(none)")),
                Static("Request body", classes="part"),
                Static(Text(_pretty_body(d.request_body))),
                Static("Response", classes="part"),
                Static(Text(response)),
            ]
        )

    def refusal(self, action: str) -> Refusal | None:
        """The store's checks for a resend: the permission, a managed webhook,
        the plan (from the webhook the page shows)."""
        if action != "resend":
            return None
        w = self.webhook
        return first(
            permission(self.admin, "resend deliveries"),
            read_only(managed_webhook_refusal(w.integration_name, w.managed, sending=True))
            if w is not None
            else None,
            suspended(w.suspended) if w is not None else None,
        )

    def action_resend(self) -> None:
        if self.detail is None or self.refused("resend"):
            return
        if self.resending:
            self.notify("This delivery is already being resent.", severity="warning")
            return
        admin = self.admin
        self.resending = True
        self.reload()

        def ended() -> None:
            self.resending = False
            if self.is_attached:
                self.reload()

        def sent(result) -> None:
            latency = f" · {result.latency_ms} ms" if result.latency_ms is not None else ""
            admin.notify(
                f"Resent as delivery {result.delivery_id}: {result.reason}{latency}",
                title="Resend",
                severity="information" if result.ok else "error",
                timeout=8,
            )
            ended()

        admin.save(
            deliveries.resend,
            admin.store,
            admin.actor,
            self.delivery_id,
            on_done=sent,
            on_error=lambda _exc: ended(),
            background=True,
        )

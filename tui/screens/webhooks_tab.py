"""The Webhooks tab of an integration: URL, events, signed, last delivery.

`n` create (with a real test before saving), `t` test the selected webhook,
`e` edit it (URL, key, events; a new URL asks for a new test),
`enter` its page (settings and delivery log), `d` delete after confirmation,
`s` the account's webhook settings (timeout, private networks).
Native integrations' webhooks are managed: listed, read-only.

Tests run in app workers: the interface never waits for a receiver, and a
test still finishes (and is logged) when the user moves elsewhere meanwhile.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from store import accounts, clock, deliveries, settings, webhooks
from store.errors import DomainError
from store.refusals import NATIVE_WEBHOOKS, managed_webhook_refusal, native_integration_refusal
from store.webhooks import WebhookInfo
from tui import colours
from tui.dialogs.confirm import ConfirmDialog
from tui.format import DIALOG_VALUE, ago, plural, shorten
from tui.keys import key_for
from tui.refusing import (
    NOTHING_SELECTED,
    Refusal,
    Refuses,
    first,
    permission,
    read_only,
    suspended,
)
from tui.screens.tabs import TabContent
from tui.widgets.filter_table import FilterTable, Row

EMPTY = "No webhooks yet: press {new} to create one."


URL_WIDTH = 25  # the table fits 80 columns; the webhook's page shows the whole URL


def short_url(url: str, width: int = URL_WIDTH) -> str:
    return url if len(url) <= width else url[: width - 1] + "…"


def events_cell(w: WebhookInfo) -> str:
    if not w.event_types:
        return "all"
    return f"{len(w.event_types)} of {len(webhooks.EVENT_TYPES)}"


def last_delivery(w: WebhookInfo, now, *, testing: bool = False) -> Text:
    """The Last delivery cell: result and when, coloured by outcome."""
    if testing:
        return _cell("testing…", colours.style("warn", "bold"))
    if w.last_attempt_at is None:
        return _cell("never", "dim")
    when = ago(w.last_attempt_at, now)
    return _cell(
        f"{w.last_result_label}, {when}", colours.style("good" if w.last_success else "bad")
    )


def health_cell(w: WebhookInfo) -> Text:
    """The Health cell: 'ok', '3 failing', 'paused', 'disabled' (its reason is
    the banner's: too long for a cell)."""
    if w.disabled:
        return _cell("disabled", colours.style("bad", "bold"))
    if w.paused:
        return _cell("paused", colours.style("warn"))
    if w.consecutive_failures:
        return _cell(w.health_label, colours.style("bad"))
    return _cell(w.health_label, colours.style("good"))


def disabled_banner(items: list[WebhookInfo], enable_key: str) -> Text:
    """The tab's banner while any webhook was disabled automatically (never silent)."""
    gone = [w for w in items if w.disabled]
    if len(gone) == 1:
        w = gone[0]
        head = f"⚠ {short_url(w.url)} was {w.health_label}."
    else:
        head = f"⚠ {len(gone)} webhooks were disabled automatically."
    return Text(
        f"{head} It queues nothing until enabled: open it and press {enable_key} "
        "(you are offered to replay what failed meanwhile).",
        style=colours.style("bad", "bold"),
    )


def _cell(text: str, style: str) -> Text:
    # One line, like the table's other cells: a wrapping Text would be measured narrow.
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def toggle_pause(admin, w: WebhookInfo, done) -> None:
    """Pause the webhook, or resume it (a change in a worker: ``App.save``), say
    so, then ``done()`` (also after a refusal, to show the webhook as it is)."""

    def paused(after: WebhookInfo) -> None:
        admin.notify(
            f"Webhook {after.url} "
            + ("paused: it queues no events until resumed." if after.paused else "resumed.")
        )
        done()

    admin.save(
        webhooks.set_paused,
        admin.store,
        admin.actor,
        w.id,
        not w.paused,
        version=w.version,
        on_done=paused,
        on_error=lambda exc: done(),
    )


def describe_test(w_url: str, result: deliveries.AttemptResult) -> str:
    latency = f" · {result.latency_ms} ms" if result.latency_ms is not None else ""
    return f"Test of {w_url}: {result.reason}{latency}"


def start_test(admin, webhook: WebhookInfo, done=None) -> None:
    """Send a test delivery to a saved webhook in an app worker (it outlives the
    screen that started it) and say how it went; ``done`` runs afterwards."""

    def sent(result: deliveries.AttemptResult) -> None:
        admin.notify(
            describe_test(webhook.url, result),
            title="Webhook test",
            severity="information" if result.ok else "error",
            timeout=8,
        )
        if done is not None:
            done()

    def failed(_exc: Exception) -> None:  # said by the App (save)
        if done is not None:
            done()

    admin.notify(f"Testing {webhook.url}…", title="Webhook test", timeout=3)
    # The test delivery records its attempt: a change, off the UI thread.
    admin.save(
        deliveries.send_test,
        admin.store,
        admin.actor,
        webhook.id,
        on_done=sent,
        on_error=failed,
        background=True,
    )


def confirm_delete(admin, webhook: WebhookInfo, deleted, *, leaving=None) -> None:
    """Ask, then delete the webhook with its delivery log; ``deleted`` runs once
    it is gone (the tab reloads, the webhook's page closes). ``leaving``: the
    screen that closes then (its loads meanwhile would find the webhook gone)."""

    def answered(yes: bool | None) -> None:
        if not yes:
            return
        if leaving is not None:
            leaving.leaving = True

        def saved(_result: object) -> None:
            admin.notify(f"Webhook {webhook.url} deleted.")
            deleted()

        def failed(_exc: Exception) -> None:
            if leaving is not None:  # still there: it reads again
                leaving.leaving = False
                leaving.reload()

        admin.save(
            webhooks.delete, admin.store, admin.actor, webhook.id, on_done=saved, on_error=failed
        )

    n = webhook.delivery_count
    logged = f" and its {plural(n, 'logged delivery', 'logged deliveries')}" if n else ""
    if n > webhooks.DELIVERY_COUNT_CAP:  # counted no further
        logged = f" and its more than {webhooks.DELIVERY_COUNT_CAP:,} logged deliveries"
    admin.push_screen(
        ConfirmDialog(
            "Delete this webhook?",
            f"{shorten(webhook.url, DIALOG_VALUE, middle=True)} will stop receiving events. "
            f"The webhook{logged} will be deleted.",
            yes="Delete",
        ),
        answered,
    )


def open_edit(admin, webhook: WebhookInfo, done) -> None:
    """The edit form of a saved webhook; ``done(saved)`` runs after it closes. A
    saved edit that left the webhook unverified (a new URL or key, not tested in
    the form) asks for a new Test at once."""
    from tui.dialogs.webhook_form import WebhookForm

    def saved(w: WebhookInfo | None) -> None:
        done(w)
        if w is None:
            return
        if w.verified:
            admin.notify(f"Webhook {w.url} saved (verified by its test).")
            return
        if not webhook.verified or (w.url == webhook.url and w.key_masked == webhook.key_masked):
            admin.notify(f"Webhook {w.url} saved.")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                start_test(admin, w, lambda: done(w))

        admin.push_screen(
            ConfirmDialog(
                "Test the changed webhook?",
                f"{shorten(w.url, DIALOG_VALUE, middle=True)} is not verified since its URL "
                "or key changed. Send a test delivery now?",
                yes="Test",
            ),
            answered,
        )

    admin.push_screen(WebhookForm(admin, webhook.integration_id, webhook), saved)


WARN_AT_MOST = 6  # webhooks named in the warning; the rest are counted
WARN_URL_WIDTH = 48


def private_off_warning(found: list[settings.PrivateUse]) -> str:
    """The confirmation's text: the webhooks that would stop, URLs shortened."""
    n = len(found)
    lines = [
        f"{n} active webhook{'s' if n != 1 else ''} of this account "
        f"{'need' if n != 1 else 'needs'} private networks; from the next delivery "
        f"{'they' if n != 1 else 'it'} will be refused:"
    ]
    for use in found[:WARN_AT_MOST]:
        url = use.url if len(use.url) <= WARN_URL_WIDTH else use.url[: WARN_URL_WIDTH - 1] + "…"
        lines.append(f"• {url} ({use.reason})")
    if n > WARN_AT_MOST:
        lines.append(f"… and {n - WARN_AT_MOST} more.")
    lines.append(
        "Host names are not looked up here: one that resolves to a private address "
        "is refused when it sends."
    )
    return "\n".join(lines)


def confirm_private_off(admin, proceed, on_yes=None) -> None:
    """Before *Allow webhooks to private networks* is turned off: if active webhooks
    use http or private destinations, name them and ask; ``proceed`` runs when
    none do, and on yes ``on_yes`` (default: ``proceed``). Nothing changes on no."""
    try:
        found = settings.webhooks_needing_private_networks(admin.store, admin.actor.account_id)
    except DomainError as exc:
        admin.report(exc)
        return
    if not found:
        proceed()
        return

    def answered(yes: bool | None) -> None:
        if yes:
            (on_yes or proceed)()

    admin.push_screen(
        ConfirmDialog(
            f"Turn off '{settings.ALLOW_PRIVATE_LABEL}'?",
            private_off_warning(found),
            yes="Turn off",
        ),
        answered,
    )


def open_settings(admin, done=None) -> None:
    """The account's webhook settings (timeout, private networks), for users with
    the permission (asked by the caller first); the same form as the Account view's."""
    from tui.screens.account import settings_form

    try:
        overview = accounts.overview(admin.store, admin.actor.account_id)
    except DomainError as exc:
        admin.report(exc)
        return

    def saved(ok: bool | None) -> None:
        if ok:
            admin.notify("Account settings saved.")
        if done is not None:
            done()

    admin.push_screen(settings_form(admin, overview), saved)


class WebhooksTab(Refuses, TabContent):
    DEFAULT_CSS = """
    WebhooksTab #webhooks-note.-managed { height: auto; padding: 1 1; color: $text; }
    WebhooksTab #webhooks-banner { height: auto; padding: 0 1; display: none; }
    WebhooksTab #webhooks-banner.-shown { display: block; }
    """
    BINDINGS = [
        Binding("n", "new", "New webhook", id="webhooks.new"),
        Binding("t", "test", "Test", id="webhooks.test"),
        Binding("e", "edit", "Edit", id="webhooks.edit"),
        Binding("P", "pause", "Pause", id="webhooks.pause"),
        Binding("E", "enable", "Enable", id="webhooks.enable"),
        Binding("d", "delete", "Delete", id="webhooks.delete"),
        Binding("s", "settings", "Webhook settings", id="webhooks.settings"),
    ]

    def __init__(self, integration_id: int) -> None:
        super().__init__()
        self.integration_id = integration_id
        self.items: list[WebhookInfo] = []
        self.native = False
        self.integration_name = ""
        self.suspended = ""  # the store's words when the plan suspends the integration
        self.testing: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Static("", id="webhooks-banner")
        yield Static("", id="webhooks-note", classes="usage")
        yield FilterTable(("URL", "Events", "Signed", "Health", "Last delivery"), id="webhook-list")

    def load(self) -> tuple:
        store, actor = self.admin.store, self.admin.actor
        return (
            self.integration_info(self.integration_id),
            webhooks.list_for_integration(store, actor.account_id, self.integration_id),
            settings.webhook_settings(store, actor.account_id),
        )

    def show(self, data: tuple) -> None:
        info, self.items, prefs = data
        select = self.select_after
        self.native = info.native
        self.integration_name = info.name
        self.suspended = info.suspended
        note = self.query_one("#webhooks-note", Static)
        if info.native:
            note.update(
                Text(
                    f"{info.name}'s webhooks are managed by the integration and read-only. "
                    "Your own webhooks belong to the Custom integration."
                )
            )
            note.set_classes("-managed")
        else:
            n = len(self.items)
            # No count when there is none: the table's empty state says so, once.
            count = f"{plural(n, 'webhook')} · " if n else ""
            private = "on" if prefs.allow_private else "off"
            s = key_for(self.app, self, "webhooks.settings")
            note.update(
                Text(f"{count}timeout {prefs.timeout_s} s · private networks {private} ({s})")
            )
        banner = self.query_one("#webhooks-banner", Static)
        any_disabled = any(w.disabled for w in self.items)
        if any_disabled:
            banner.update(disabled_banner(self.items, key_for(self.app, self, "webhooks.enable")))
        banner.set_class(any_disabled, "-shown")
        table = self.query_one(FilterTable)
        table.empty_text = EMPTY.format(new=key_for(self.app, self, "webhooks.new"))
        now = clock.now()
        table.set_rows(
            [
                Row(
                    str(w.id),
                    (
                        # What the other columns leave of the width (25 at 80).
                        short_url(w.url, max(URL_WIDTH, self.app.size.width - 55)),
                        events_cell(w),
                        w.signed_label,
                        health_cell(w),
                        last_delivery(w, now, testing=w.id in self.testing),
                    ),
                    search=" ".join(
                        (w.url, w.events_label, w.health_label, w.last_result_label)
                    ).lower(),
                    item=w,
                )
                for w in self.items
            ],
            select=select,
        )
        self.refresh_bindings()

    def selected(self) -> WebhookInfo | None:
        return self.query_one(FilterTable).selected_item

    def refusal(self, action: str) -> Refusal | None:
        """The store's checks, in its order: the permission, a native
        integration's managed webhooks (read-only), the plan, the row."""
        if action == "settings":
            return permission(self.admin, "change the webhook settings")
        if action in ("pause", "enable"):
            w = self.selected()
            if w is None or w.managed or self.native:
                return Refusal("", hidden=True)
            if (action == "enable") != w.disabled:
                return Refusal("", hidden=True)  # E while disabled; P otherwise
            return first(
                permission(
                    self.admin, "pause webhooks" if action == "pause" else "enable webhooks"
                ),
                suspended(self.suspended),
            )
        doing = {
            "new": "create webhooks",
            "test": "test webhooks",
            "edit": "change webhooks",
            "delete": "delete webhooks",
        }
        if action not in doing:
            return None
        native = read_only(
            native_integration_refusal(self.integration_name, self.native, NATIVE_WEBHOOKS)
        )
        if action == "new":
            return first(permission(self.admin, doing[action]), native, suspended(self.suspended))
        w = self.selected()
        managed = (
            read_only(
                managed_webhook_refusal(self.integration_name, w.managed, sending=action == "test")
            )
            if w is not None
            else native
        )
        return first(
            permission(self.admin, doing[action]),
            managed,
            suspended(self.suspended),
            NOTHING_SELECTED if w is None else None,
        )

    # -- actions ---------------------------------------------------------------------

    def action_new(self) -> None:
        if self.refused("new"):
            return
        from tui.dialogs.webhook_form import WebhookForm

        def created(w: WebhookInfo | None) -> None:
            if w is None:
                return
            verified = "verified by its test" if w.verified else "not verified"
            self.notify(f"Webhook {w.url} created ({verified}).")
            self.reload(select=str(w.id))
            self.focus_main()

        self.app.push_screen(WebhookForm(self.admin, self.integration_id), created)

    def action_test(self) -> None:
        w = self.selected()
        if w is None or self.refused("test"):
            return
        if w.id in self.testing:
            self.notify(f"A test of {w.url} is already running.", severity="warning")
            return
        self.testing.add(w.id)
        self.reload(select=str(w.id))

        def done() -> None:
            self.testing.discard(w.id)
            self.reload()

        start_test(self.admin, w, done)

    def action_edit(self) -> None:
        w = self.selected()
        if w is None or self.refused("edit"):
            return

        def done(saved: WebhookInfo | None) -> None:
            self.reload(select=str(w.id))
            self.focus_main()

        open_edit(self.admin, w, done)

    def action_pause(self) -> None:
        w = self.selected()
        if w is None or self.refused("pause"):
            return

        toggle_pause(self.admin, w, lambda: self.reload(select=str(w.id)))

    def action_enable(self) -> None:
        w = self.selected()
        if w is None or self.refused("enable"):
            return
        from tui.screens.webhook import enable_and_offer_replay

        enable_and_offer_replay(self.admin, w, lambda: self.reload(select=str(w.id)))

    def on_data_table_row_highlighted(self, event) -> None:
        self.refresh_bindings()  # P or E, as the row under the cursor is

    def action_delete(self) -> None:
        w = self.selected()
        if w is None or self.refused("delete"):
            return
        confirm_delete(self.admin, w, self.reload)

    def action_settings(self) -> None:
        if self.refused("settings"):
            return

        def done() -> None:
            self.reload()
            self.focus_main()

        open_settings(self.admin, done=done)

    @on(FilterTable.Opened, "#webhook-list")
    def _open(self, event: FilterTable.Opened) -> None:
        event.stop()
        from tui.screens.webhook import WebhookScreen

        self.app.push_screen(WebhookScreen(int(event.key)))

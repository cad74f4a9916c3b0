"""A webhook's page (its settings and delivery log, newest first) and a
delivery's page (the request as sent, the response as read, resend).

The log lists each event delivery once, by its state (pending, sending,
delivered, retrying with its attempt and the time of the next, exhausted),
and each Test; it reads the store again every ``POLL_S`` seconds while shown
(in a thread worker), so retries count up by themselves.

The log may be long (a busy webhook's year, a million attempts), so it is
read a page at a time from each half (the queue by id, the Tests by time, each
by keyset and through the search index): ``page_size`` rows of each, the next
page as the cursor comes within ``PRELOAD`` rows of the last row shown. The
two halves are merged by time, and only down to where both are known: below
the newer of the two halves' last rows read, a row of the other half could
still be missing, so the rows there wait for that half's next page. The poll reads the
newest page of each again: arrivals go in front, the rows of that page are
updated in place (a retry counts up), the pages read further down are kept.
`space` marks rows,
`R` replays the marked ones (or the one under the cursor), `F` replays every
failed delivery since a time. `P` pauses or resumes the webhook; a webhook the
dispatcher disabled shows a banner, and `E` enables it again (offering to
replay what failed meanwhile). A line says when no dispatcher is running while
deliveries wait.

The signing key is masked; `r` reveals it (audit-logged) until `r` again or
the page is left, and the footer says `r Hide key` meanwhile. A typed key also
shows its Standard Webhooks secret (``whsec_`` + base64 of its bytes: what a
receiver pastes into an official library), masked and revealed with it; `w`
copies that one. Tests and resends run in app workers.
"""

from __future__ import annotations

import json
from dataclasses import replace as dc_replace
from datetime import UTC
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Header, Static
from textual.worker import get_current_worker

from store import deliveries, delivery_states, logsearch, replay, webhooks
from store.deliveries import DeliveryDetail, DeliveryInfo
from store.delivery_states import DispatchStatus, QueuedDelivery
from store.errors import DomainError
from store.refusals import managed_webhook_refusal
from store.webhooks import WebhookInfo
from tui import colours
from tui.dialogs.form import FormDialog, FormField
from tui.format import minute, plural, second
from tui.keys import key_for
from tui.reading import started_now
from tui.refusing import Refusal, Refuses, first, for_now, permission, read_only, suspended
from tui.screens.base import BaseScreen
from tui.screens.webhooks_tab import confirm_delete, open_edit, start_test, toggle_pause
from tui.textual_compat import node_bindings
from tui.widgets.filter_table import FilterTable, Row, update_in_place
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


POLL_S = 2.0  # how often the page, while shown, reads the log again
PAGE = 50  # rows read at a time from each half of the log, at least (page_size)
PRELOAD = 15  # the next page is read when the cursor is this close to the last row shown
_STATE_ROLE = {
    "delivered": "good",
    "exhausted": "bad",
    "cancelled": "bad",
    "retrying": "warn",
    "sending": "info",
    "pending": "info",
}


def state_cell(q: QueuedDelivery) -> Text:
    """A delivery's state, with the next attempt's time while it is retrying."""
    label = q.state_label
    if q.state == "retrying" and q.next_attempt_at is not None:
        label += f", next at {q.next_attempt_at:%H:%M:%S}"  # the zone of the log's times
    role = _STATE_ROLE.get(q.state, "info")
    return Text(label, style=colours.style(role), no_wrap=True, overflow="ellipsis")


def webhook_state(w: WebhookInfo) -> str:
    """The Status line of a webhook's page (and the webhooks list's Health)."""
    if w.suspended:
        return "suspended by the plan: " + w.suspended
    if not w.active:
        return "paused: its integration is disabled"
    if w.disabled:
        return w.health_label  # the store's words: "disabled: 5 exhausted in a row"
    if w.paused:
        return "paused: queues no events until resumed"
    return "active" + (f" · {w.health_label}" if w.health_label != "ok" else "")


def banner_text(w: WebhookInfo, enable_key: str) -> Text:
    """The banner of a webhook the dispatcher disabled (never silent)."""
    return Text(
        f"⚠ {w.disabled_banner} ({enable_key} enables it)", style=colours.style("bad", "bold")
    )


class ReplaySinceForm:
    """Built on first use (the form module loads only when asked)."""

    @staticmethod
    def make(admin, webhook: WebhookInfo):
        from datetime import timedelta

        from store import audit, clock
        from tui.dialogs.form import FormDialog, FormField

        start = webhook.first_failure_at or (clock.now() - timedelta(hours=24))

        def submit(values: dict) -> replay.ReplayResult:
            since = audit.parse_time(values["since"], field="since")
            return replay.replay_since(
                admin.store, admin.actor, webhook.id, since, values["state"] or None
            )

        return FormDialog(
            "Replay failed deliveries",
            [
                FormField(
                    "since",
                    "Since (ISO 8601; UTC when no time zone is written)",
                    value=f"{start.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
                ),
                FormField(
                    "state",
                    "Which",
                    kind="select",
                    value="failed",
                    options=[
                        ("failed (retrying, exhausted or cancelled)", "failed"),
                        ("exhausted only", "exhausted"),
                    ],
                ),
            ],
            submit,
            confirm_label="Replay",
            intro="Each is sent again with its own callback id; one already waiting is "
            "left as it is.",
        )


class WebhookScreen(Refuses, BaseScreen):
    help_title = "Webhook"
    DEFAULT_CSS = """
    WebhookScreen #webhook-settings { height: auto; padding: 0 1; }
    WebhookScreen #log-title { height: 1; padding: 0 1; margin-top: 1; text-style: bold; }
    WebhookScreen #webhook-banner { height: auto; padding: 0 1; display: none; }
    WebhookScreen #webhook-banner.-shown { display: block; }
    WebhookScreen #dispatch-status { height: auto; padding: 0 1; display: none; }
    WebhookScreen #dispatch-status.-shown { display: block; }
    /* A long URL, shown whole, may fill the screen: the page scrolls, the log keeps rows. */
    WebhookScreen FilterTable { min-height: 6; }
    """
    BINDINGS = [
        Binding("t", "test", "Test", id="webhook.test"),
        Binding("e", "edit", "Edit", id="webhook.edit"),
        Binding("P", "pause", "Pause", id="webhook.pause"),
        Binding("E", "enable", "Enable", id="webhook.enable"),
        Binding("space", "mark", "Mark", id="webhook.mark"),
        Binding("R", "replay", "Replay", id="webhook.replay"),
        Binding("F", "replay_since", "Replay failed since", id="webhook.replay_since"),
        Binding("r", "reveal", "Reveal key", id="webhook.reveal"),
        Binding("c", "copy_key", "Copy key", id="webhook.copy_key"),
        Binding("w", "copy_secret", "Copy receiver secret", id="webhook.copy_secret"),
        Binding("x", "rotate", "Rotate key", id="webhook.rotate"),
        Binding("z", "end_overlap", "End old key", id="webhook.end_overlap"),
        Binding("v", "snippets", "Verify snippets", id="webhook.snippets"),
        Binding("d", "delete", "Delete", id="webhook.delete"),
    ]
    REVEAL_LABEL = "Reveal key"
    HIDE_LABEL = "Hide key"

    def __init__(self, webhook_id: int) -> None:
        super().__init__()
        self.webhook_id = webhook_id
        self.info: WebhookInfo | None = None
        self.entries: list[DeliveryInfo] = []  # Tests (attempts of no event)
        self.queue: list[QueuedDelivery] = []  # event deliveries, by state
        self.status: DispatchStatus | None = None
        self.queue_more = False  # the last page of the queue read was full
        self.tests_more = False  # and of the Tests
        self.loading_more = False
        self.generation = 0  # bumped by every new first page; older pages are dropped
        self._shown_rows: list[Row] = []  # what the table holds, in its order
        self.marked: set[str] = set()  # row keys
        self._revealed: str | None = None
        self.testing = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="section-title")
        yield Static("", id="webhook-banner")
        yield Static("", id="webhook-settings")
        yield Static("", id="dispatch-status")
        yield Static("Delivery log, newest first (enter opens one, space marks)", id="log-title")
        yield FilterTable(
            ("Time", "Event", "Result", "Latency", "Callback id"),
            id="delivery-list",
            search=self._search,  # the whole log, in SQL: it may hold 100,000 deliveries
        )
        yield Footer()

    def on_mount(self) -> None:
        # Read when the screen is shown (its resume: BaseScreen), in a worker.
        self.query_one(FilterTable).focus_table()
        self.set_interval(POLL_S, self._poll)

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
                    dc_replace(b, description=label) if b.id == "webhook.reveal" else b
                    for b in bindings
                ]
        self.refresh_bindings()
        self._show_settings()

    def refusal(self, action: str) -> Refusal | None:
        """The store's checks, in its order: the permission, a managed webhook
        (read-only), the plan. Keys for a key the webhook has not (no signing
        key; a receiver secret is a typed key's only) are not shown."""
        w = self.info
        if w is None:
            return None
        if action in ("pause", "enable", "replay", "replay_since", "mark"):
            return self._queue_refusal(action, w)
        if action not in (
            "test",
            "edit",
            "reveal",
            "copy_key",
            "copy_secret",
            "delete",
            "rotate",
            "end_overlap",
            "snippets",
        ):
            return None
        if action == "reveal" and self._revealed is not None:
            return None  # hiding it again needs nothing
        no_key = Refusal("", hidden=True)
        if action in ("reveal", "copy_key") and not w.signed:
            return no_key
        if action == "copy_secret" and not w.receiver_secret_masked:
            # Only a typed key has a receiver secret of its own (a generated key is one).
            return no_key
        if action in ("snippets", "rotate") and not w.signed:
            return no_key
        if action == "end_overlap" and not w.in_overlap:
            return no_key
        if action == "snippets":
            return None  # what the page shows already, as code
        if action in ("rotate", "end_overlap"):
            return first(
                permission(self.admin, "rotate signing keys"),
                read_only(managed_webhook_refusal(w.integration_name, w.managed)),
                suspended(w.suspended),
                for_now(webhooks.rotation_refusal(w)) if action == "rotate" else None,
            )
        doing = {
            "test": "test webhooks",
            "edit": "change webhooks",
            "reveal": "reveal signing keys",
            "copy_key": "copy signing keys",
            "copy_secret": "copy signing keys",
            "delete": "delete webhooks",
        }[action]
        if action not in ("test", "edit", "delete"):
            return permission(self.admin, doing)
        return first(
            permission(self.admin, doing),
            read_only(
                managed_webhook_refusal(w.integration_name, w.managed, sending=action == "test")
            ),
            suspended(w.suspended),
        )

    def _queue_refusal(self, action: str, w: WebhookInfo) -> Refusal | None:
        """Pause, enable and replay: managed webhooks have none; enable only
        while disabled; replays need the webhook sending (not paused, not
        disabled) and, for `R`, a delivery under the cursor or marked."""
        hidden = Refusal("", hidden=True)
        if w.managed:
            return hidden
        if action == "mark":
            return None
        if action == "enable" and not w.disabled:
            return hidden
        if action == "pause" and w.disabled:
            return hidden  # enabled first (E), then paused if need be
        doing = {
            "pause": "pause webhooks",
            "enable": "enable webhooks",
            "replay": "replay deliveries",
            "replay_since": "replay deliveries",
        }[action]
        stopped = None
        if action in ("replay", "replay_since"):
            if w.disabled:
                key = key_for(self.app, self, "webhook.enable")
                stopped = Refusal(f"Enable the webhook first ({key}), then replay.")
            elif w.paused:
                key = key_for(self.app, self, "webhook.pause")
                stopped = Refusal(f"Resume the webhook first ({key}), then replay.")
        return first(permission(self.admin, doing), suspended(w.suspended), stopped)

    def _label_binding(self, binding_id: str, label: str) -> None:
        by_key = node_bindings(self).key_to_bindings
        for key, bindings in list(by_key.items()):
            if any(b.id == binding_id and b.description != label for b in bindings):
                by_key[key] = [
                    dc_replace(b, description=label) if b.id == binding_id else b for b in bindings
                ]

    def page_size(self) -> int:
        """Rows read at a time from each half: two screens' worth, at least ``PAGE``."""
        return max(PAGE, 2 * self.app.size.height)

    def _load(self, text: str, pages: tuple[int, int]):
        """Everything the page shows (store reads, in a worker or at mount)."""
        store, account_id = self.admin.store, self.admin.actor.account_id
        info = webhooks.get(store, account_id, self.webhook_id)
        queue, tests = self._read_entries(text, pages)
        status = delivery_states.dispatch_status(store, account_id)
        return info, queue, tests, status, pages

    def _read_entries(
        self,
        text: str,
        pages: tuple[int, int],
        queue_before: int | None = None,
        tests_before: tuple[Any, int] | None = None,
    ) -> tuple[list[QueuedDelivery], list[DeliveryInfo]]:
        """What the filter narrows: a page of the queue and of the Tests matching
        ``text`` (``pages``: the rows of each; 0 reads none), older than the keys."""
        store, account_id = self.admin.store, self.admin.actor.account_id
        queue_page, tests_page = pages
        queue = (
            delivery_states.queue_for_webhook(
                store,
                account_id,
                self.webhook_id,
                limit=queue_page,
                text_filter=text,
                before_id=queue_before,
            )
            if queue_page
            else []
        )
        at, last = tests_before or (None, None)
        tests = (
            deliveries.deliveries(
                store,
                self.webhook_id,
                limit=tests_page,
                text_filter=text,
                tests_only=True,
                before_at=at,
                before_id=last,
            )
            if tests_page
            else []
        )
        return queue, tests

    _load_filter = ""  # the filter typed when the load started (read in its thread)
    _load_pages = (PAGE, PAGE)

    def reload(self, select: str | None = None) -> None:
        if self.is_attached:
            self._load_filter = self._filter_text()
            # As far down as was read (a return from a delivery finds its row again).
            page = self.page_size()
            self._load_pages = (
                min(5000, max(page, len(self.queue))),
                min(5000, max(page, len(self.entries))),
            )
        super().reload(select)

    def load(self):
        return self._load(self._load_filter, self._load_pages)

    def show(self, loaded) -> None:
        self._take(*loaded)
        self._show_all(self.select_after)

    def _take(self, info, queue, tests, status, pages) -> None:
        self.info, self.status = info, status
        self._first_pages(queue, tests, pages)

    def _first_pages(self, queue, tests, pages: tuple[int, int]) -> None:
        self.queue, self.entries = queue, tests
        self.queue_more = len(queue) >= pages[0]
        self.tests_more = len(tests) >= pages[1]
        self.loading_more = False
        self.generation += 1

    def _show_all(self, select: str | None = None) -> None:
        self._show_settings()
        if self.info is not None:  # the footer says what P does now
            self._label_binding("webhook.pause", "Resume" if self.info.paused else "Pause")
        self.refresh_bindings()  # `w` applies to a typed key only; P, E follow the state
        self._show_entries(select)

    _polling = False  # a poll is reading: the next one waits its turn

    def _poll(self) -> None:
        if self.is_current and not self._polling:
            self._polling = True
            page = self.page_size()
            self._poll_worker(self._filter_text(), (page, page))

    @work(thread=True, group="delivery-poll")
    def _poll_worker(self, text: str, pages: tuple[int, int]) -> None:
        try:
            loaded = self._load(text, pages)
        except DomainError:
            return  # quietly: the next poll tries again, and a key press reports it
        finally:
            self._polling = False
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._polled, text, loaded)

    @staticmethod
    def _in_front(held: list, found: list, key) -> list | None:
        """``held`` with ``found`` (its newest page, read again) in front: the
        arrivals before it, the rows of that page in their new versions, the
        pages read further down kept. None when they do not join (more than a
        page arrived, or rows went): the list starts again from ``found``."""
        if not held:
            return None if found else held
        newest = key(held[0])
        at = next((i for i, r in enumerate(found) if key(r) == newest), None)
        if at is None:
            return None
        same = found[at:]
        if [key(r) for r in held[: len(same)]] != [key(r) for r in same]:
            return None
        return found + held[len(same) :]

    def _polled(self, text: str, loaded) -> None:
        if not self.is_attached or text != self._filter_text():
            return
        info, queue, tests, status, pages = loaded
        fresh_queue = self._in_front(self.queue, queue, lambda q: q.id)
        fresh_tests = self._in_front(self.entries, tests, lambda d: d.id)
        warned = self.status is not None and self.status.warning == status.warning
        if (
            info == self.info
            and warned
            and fresh_queue == self.queue
            and fresh_tests == self.entries
        ):
            return  # nothing changed: nothing is redrawn
        self.info, self.status = info, status
        if fresh_queue is None or fresh_tests is None:
            self._first_pages(queue, tests, pages)  # start again from the newest pages
        else:
            self.queue, self.entries = fresh_queue, fresh_tests
        self._show_all()

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
        previous: Text | None = None
        if w.in_overlap and w.previous_key_until is not None:
            end = key_for(self.app, self, "webhook.end_overlap")
            previous = Text(
                f"{w.previous_key_masked}  still signs beside the new key until "
                f"{minute(w.previous_key_until, utc=True)} ({end} ends it now)"
            )
        if secret is not None:
            secret.append(
                f"  (paste this into a Standard Webhooks library; {copy_secret} copies)",
                style="dim",
            )
        state = webhook_state(w)
        if w.managed:
            state += " · managed by the integration, read-only"
        self.query_one("#webhook-settings", Static).update(
            _grid(
                [
                    ("URL", w.url),
                    ("Events", w.events_label),
                    ("Signing key", key),
                    *([("Previous key", previous)] if previous is not None else []),
                    *([("Receiver secret", secret)] if secret is not None else []),
                    ("Verified", "yes, by a test" if w.verified else "no"),
                    ("Health", self._health(w)),
                    ("Status", "testing…" if self.testing else state),
                    ("Created", f"{second(w.created_at, utc=True)} by {w.created_by}"),
                ]
            )
        )

        banner = self.query_one("#webhook-banner", Static)
        if w.disabled:
            banner.update(banner_text(w, key_for(self.app, self, "webhook.enable")))
        banner.set_class(w.disabled, "-shown")
        line = self.query_one("#dispatch-status", Static)
        warning = self.status.warning if self.status is not None else ""
        if warning:
            line.update(
                Text(
                    f"{warning} ({plural(self.status.waiting, 'delivery', 'deliveries')} waiting).",
                    style=colours.style("warn", "bold"),
                )
            )
        line.set_class(bool(warning), "-shown")

    @staticmethod
    def _health(w: WebhookInfo) -> str:
        """Its counters (the Status line and the banner say disabled or paused)."""
        parts = []
        if w.consecutive_failures:
            parts.append(plural(w.consecutive_failures, "failed attempt") + " in a row")
        if w.exhausted_in_row:
            parts.append(f"{w.exhausted_in_row} exhausted in a row")
        if not parts:
            parts.append("ok")
        if w.last_success_at is not None:
            parts.append(f"last success {second(w.last_success_at, utc=True)}")
        return " · ".join(parts)

    def _filter_text(self) -> str:
        return self.query_one(FilterTable).filter_text.strip()

    def _search(self, text: str) -> None:
        # A keystroke reads and redraws the rows only: the webhook's settings and
        # the dispatcher's status are the poll's and a reload's. One page of each half.
        text = text.strip()
        page = self.page_size()
        pages = (page, page)
        pending = started_now(
            self.admin, "delivery log search", lambda: self._read_entries(text, pages)
        )
        self._search_worker(text, pending, pages)

    @work(exclusive=True, group="delivery-search")
    async def _search_worker(self, text: str, pending: Any, pages: tuple[int, int]) -> None:
        try:
            found = await pending  # started by the keystroke (tui.reading.started_now)
        except DomainError as exc:
            self.admin.report(exc)
            return
        self._found(text, found, pages)

    def _found(self, text: str, found, pages: tuple[int, int]) -> None:
        if text == self._filter_text():  # else a newer keystroke's search is coming
            self._first_pages(*found, pages)
            self._show_entries()
            title = "Delivery log, newest first (enter opens one, space marks)"
            if text:
                title = f"Delivery log matching {text!r}, newest first (enter opens one)"
            if logsearch.short_note(text):  # one or two characters: the newest rows only
                title += f" · the newest {logsearch.RECENT:,} only"
            update_in_place(self.query_one("#log-title", Static), Text(title))

    def _time_cell(self, key: str, when) -> Text:
        mark = "✓ " if key in self.marked else ""
        return Text(mark + second(when), no_wrap=True, overflow="ellipsis")

    def _cuts(self) -> tuple[Any, Any]:
        """How far down each half is known: the time of its last row read while it
        has more (None: read to its end). The queue is read by id, which follows
        the event's time, so its last row's creation is its edge."""
        queue_cut = self.queue[-1].created_at if self.queue_more and self.queue else None
        tests_cut = self.entries[-1].attempted_at if self.tests_more and self.entries else None
        return queue_cut, tests_cut

    def _entry_rows(self) -> list[Row]:
        """Both halves read so far, newest first, down to where both are known."""
        rows: list[tuple[object, Row]] = []
        for q in self.queue:
            key = f"q{q.id}"
            when = q.last_attempt_at or q.created_at
            rows.append(
                (
                    when,
                    Row(
                        key,
                        (
                            self._time_cell(key, when),
                            q.event_type,
                            state_cell(q),
                            f"{q.last_latency_ms} ms" if q.last_latency_ms is not None else "",
                            q.callback_id[:12] + "…",
                        ),
                        search=f"{q.event_type} {q.callback_id} {q.state} {q.last_result}".lower(),
                        item=q,
                    ),
                )
            )
        for d in self.entries:
            key = str(d.id)
            rows.append(
                (
                    d.attempted_at,
                    Row(
                        key,
                        (
                            self._time_cell(key, d.attempted_at),
                            d.event_type,
                            _result(d),
                            f"{d.latency_ms} ms" if d.latency_ms is not None else "",
                            d.callback_id[:12] + "…",
                        ),
                        search=f"{d.event_type} {d.callback_id} {d.result_label}".lower(),
                        item=d,
                    ),
                )
            )
        rows.sort(key=lambda pair: pair[0], reverse=True)  # newest first, both kinds
        self.marked &= {r.key for _, r in rows}  # a mark goes with its row
        cuts = [c for c in self._cuts() if c is not None]
        if cuts:  # below the newer edge, a row of the other half may be unread yet
            cut = max(cuts)
            return [r for when, r in rows if when >= cut]
        return [r for _, r in rows]

    def _show_entries(self, select: str | None = None) -> None:
        table = self.query_one(FilterTable)
        table.empty_text = "No deliveries yet: t sends a test."
        self._shown_rows = self._entry_rows()
        table.set_rows(self._shown_rows, select=select)

    # -- the next page, as the cursor nears the last row shown ----------------------------

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self._shown_rows) - PRELOAD:
            self._load_more()

    def _load_more(self) -> None:
        if self.loading_more or not (self.queue_more or self.tests_more):
            return
        queue_cut, tests_cut = self._cuts()
        cut = max(c for c in (queue_cut, tests_cut) if c is not None)
        # The half whose edge is the newer one holds the others back: read it on.
        read_queue = queue_cut is not None and queue_cut >= cut
        read_tests = tests_cut is not None and tests_cut >= cut
        page = self.page_size()
        last = self.entries[-1] if read_tests else None
        self.loading_more = True
        self._more_worker(
            self._filter_text(),
            self.generation,
            (page if read_queue else 0, page if read_tests else 0),
            self.queue[-1].id if read_queue else None,
            (last.attempted_at, last.id) if last is not None else None,
        )

    @work(thread=True, exclusive=True, group="delivery-more")
    def _more_worker(
        self,
        text: str,
        generation: int,
        pages: tuple[int, int],
        queue_before: int | None,
        tests_before: tuple[Any, int] | None,
    ) -> None:
        try:
            found = self._read_entries(text, pages, queue_before, tests_before)
        except DomainError as exc:
            self.loading_more = False
            self.app.call_from_thread(self.admin.report, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._append, generation, pages, found)

    def _append(self, generation: int, pages: tuple[int, int], found) -> None:
        if generation != self.generation or not self.is_attached:
            return  # a new first page came meanwhile (a key, a poll): this one is stale
        self.loading_more = False
        queue, tests = found
        if pages[0]:
            self.queue.extend(queue)
            self.queue_more = len(queue) >= pages[0]
        if pages[1]:
            self.entries.extend(tests)
            self.tests_more = len(tests) >= pages[1]
        before = self._shown_rows
        rows = self._entry_rows()
        self._shown_rows = rows
        table = self.query_one(FilterTable)
        if [r.key for r in rows[: len(before)]] == [r.key for r in before]:
            table.add_rows(rows[len(before) :])  # below the rows shown: nothing refilled
        else:  # a row of the new page belongs higher up (retried later): all again
            table.set_rows(rows)
        if table.table.cursor_row >= len(rows) - PRELOAD:
            self._load_more()  # still near the end (the other half held these back)

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

    def action_mark(self) -> None:
        key = self.query_one(FilterTable).selected_key
        if key is None:
            return
        self.marked ^= {key}
        self._show_entries()
        table = self.query_one(FilterTable)
        table.table.action_cursor_down()  # as in a file manager: mark, then the next one

    def action_pause(self) -> None:
        w = self.info
        if w is None or self.refused("pause"):
            return

        toggle_pause(self.admin, w, self.reload)

    def action_enable(self) -> None:
        w = self.info
        if w is None or self.refused("enable"):
            return
        enable_and_offer_replay(self.admin, w, self.reload)

    def action_replay(self) -> None:
        w = self.info
        if w is None or self.refused("replay"):
            return
        keys = self.marked or (
            {self.query_one(FilterTable).selected_key} - {None}  # type: ignore[arg-type]
        )
        if not keys:
            self.notify("Nothing to replay: choose a delivery (space marks several).")
            return
        queue_ids = [int(k[1:]) for k in keys if k.startswith("q")]
        tests = [int(k) for k in keys if not k.startswith("q")]
        store, actor = self.admin.store, self.admin.actor

        def both() -> replay.ReplayResult:  # in the change's worker
            result = replay.replay(store, actor, w.id, queue_ids) if queue_ids else None
            more = replay.replay_attempts(store, actor, w.id, tests) if tests else None
            return replay.ReplayResult(
                (result.queued if result else 0) + (more.queued if more else 0),
                (result.waiting if result else 0) + (more.waiting if more else 0),
                more.not_events if more else 0,
            )

        def done(total: replay.ReplayResult) -> None:
            self.marked.clear()
            self.notify(total.label, title="Replay")
            self.reload()

        self.admin.save(both, on_done=done)

    def action_replay_since(self) -> None:
        w = self.info
        if w is None or self.refused("replay_since"):
            return

        def done(result: replay.ReplayResult | None) -> None:
            if result is not None:
                self.notify(result.label, title="Replay")
            self.reload()

        self.app.push_screen(ReplaySinceForm.make(self.admin, w), done)

    def action_edit(self) -> None:
        w = self.info
        if w is None or self.refused("edit"):
            return
        self._set_revealed(None)  # the form shows no key; the page shows the saved one
        open_edit(self.admin, w, lambda _saved: self.reload())

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
        confirm_delete(self.admin, w, self.app.pop_screen, leaving=self)

    def action_rotate(self) -> None:
        w = self.info
        if w is None or self.refused("rotate"):
            return
        admin = self.admin

        def submit(v: dict) -> WebhookInfo:
            hours = v["overlap"].strip()
            return webhooks.rotate_key(
                admin.store,
                admin.actor,
                w.id,
                new_key=v["new_key"] or None,
                # Digits become hours; anything else goes as typed, for the store's words.
                overlap_hours=int(hours) if hours.isdigit() else hours,
            )

        def rotated(info: WebhookInfo | None) -> None:
            import sys

            print("ROTATED", info, file=sys.stderr)
            if info is None:
                return
            self._set_revealed(None)
            self.reload()
            until = (
                f"the old key signs too until {minute(info.previous_key_until, utc=True)}"
                if info.previous_key_until is not None
                else "the old key stopped at once"
            )
            self.notify(f"Signing key rotated: {until}.", title="Rotate key")

        self.app.push_screen(
            FormDialog(
                "Rotate the signing key",
                [
                    FormField(
                        "new_key",
                        "New key",
                        kind="password",
                        placeholder="leave empty to generate a whsec_ key",
                        help="A typed key needs 24 bytes or more",
                    ),
                    FormField(
                        "overlap",
                        "Overlap (hours)",
                        value=str(webhooks.OVERLAP_DEFAULT_H),
                        help="The old key keeps signing beside the new one: 0 to 168 hours",
                    ),
                ],
                submit,
                confirm_label="Rotate",
                intro="Meanwhile every delivery carries both signatures, so receivers "
                "holding either key accept it; the legacy signature uses the new key.",
            ),
            rotated,
        )

    def action_end_overlap(self) -> None:
        w = self.info
        if w is None or self.refused("end_overlap"):
            return

        def done(_info) -> None:
            self.notify("The old signing key stopped: only the new key signs.", title="Rotate key")
            self.reload()

        self.admin.save(
            webhooks.end_overlap, self.admin.store, self.admin.actor, w.id, on_done=done
        )

    def action_snippets(self) -> None:
        w = self.info
        if w is None or self.refused("snippets"):
            return
        from store import snippets
        from tui.dialogs.snippets import SnippetsDialog

        if self._revealed is not None:
            secret = webhooks.receiver_secret(self._revealed)
        else:
            secret = w.receiver_secret_masked or w.key_masked
        self.app.push_screen(
            SnippetsDialog(
                snippets.for_webhook(w.url, secret), revealed=self._revealed is not None, url=w.url
            )
        )

    @on(FilterTable.Opened, "#delivery-list")
    def _open(self, event: FilterTable.Opened) -> None:
        event.stop()
        key = event.key
        if key.startswith("q"):
            q = next((q for q in self.queue if f"q{q.id}" == key), None)
            if q is None or q.last_attempt_id is None:
                self.notify("Not tried yet: nothing was sent, so there is no attempt to show.")
                return
            self.app.push_screen(DeliveryScreen(q.last_attempt_id, self.info))
            return
        self.app.push_screen(DeliveryScreen(int(key), self.info))


def enable_and_offer_replay(admin, w: WebhookInfo, done) -> None:
    """Enable a webhook the dispatcher disabled, then, when deliveries failed
    meanwhile, offer to replay them (a confirmation); ``done`` runs after."""
    admin.save(
        webhooks.enable,
        admin.store,
        admin.actor,
        w.id,
        on_done=lambda enabled: _offer_replay(admin, w, enabled, done),
        on_error=lambda exc: done(),
    )


def _offer_replay(admin, w: WebhookInfo, enabled: webhooks.Enabled, done) -> None:
    from tui.dialogs.confirm import ConfirmDialog

    admin.notify(f"Webhook {w.url} enabled: it queues events again.")
    done()
    if not enabled.failed or enabled.failed_since is None:
        return
    since = enabled.failed_since

    def replayed(result: replay.ReplayResult) -> None:
        admin.notify(result.label, title="Replay")
        done()

    def answered(yes: bool | None) -> None:
        if yes:
            admin.save(
                replay.replay_since,
                admin.store,
                admin.actor,
                w.id,
                since,
                on_done=replayed,
                on_error=lambda exc: done(),
            )
        else:
            done()

    admin.push_screen(
        ConfirmDialog(
            "Replay what failed meanwhile?",
            f"{plural(enabled.failed, 'delivery', 'deliveries')} failed since "
            f"{second(since, utc=True)} while the webhook was failing. Send "
            f"{'it' if enabled.failed == 1 else 'them'} again (same callback ids)?",
            yes="Replay",
            danger=False,
        ),
        answered,
    )


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
        # Read when the screen is shown (its resume: BaseScreen), in a worker.
        self.query_one("#delivery-body").focus()

    def loading_target(self) -> Widget | None:
        return self.query_one("#delivery-body")

    def load(self):
        d = deliveries.delivery(self.admin.store, self.delivery_id)
        webhook = self.webhook
        if webhook is None or webhook.id != d.webhook_id:
            webhook = webhooks.get(self.admin.store, self.admin.actor.account_id, d.webhook_id)
        return d, webhook

    def show(self, loaded) -> None:
        d, self.webhook = loaded
        self.detail = d
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

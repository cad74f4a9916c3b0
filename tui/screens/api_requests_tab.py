"""The API requests tab of an integration: the integration API's request log
for its tokens, newest first (time, token hint, method, path, status,
latency; never a body or a token). Read-only.

The log may be long (every request of every token, kept for the account's
retention), so the tab holds one page (``apiaccess.requests_for_integration``'s
limit) and `/` filters in SQL, in a thread worker, as the webhook page's
delivery log does. It loads when first shown, not with the integration's
screen: most visits to an integration never open it. While it is shown it
reads the log again every ``POLL_S`` seconds (in a thread worker; redrawn only
when a request arrived), so a system's calls appear as it makes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Static
from textual.worker import get_current_worker

from store import apiaccess, logsearch
from store.apiaccess import ApiRequestInfo
from store.errors import DomainError
from tui import colours
from tui.format import second, shorten
from tui.reading import started_now
from tui.screens.tabs import TabContent
from tui.widgets.filter_table import FilterTable, Row, update_in_place

COLUMNS = ("Time (UTC)", "Token", "Method", "Path", "Status", "Latency")
WIDE = 100  # from here the time shows its year and the path has more room
# Columns other than the path, with their padding, at 80 columns: what the
# path leaves to the others (it is shortened in its middle beyond that).
OTHER_COLUMNS = 54
PATH_MIN = 16
STATUS_ROLE = {2: "good", 3: "info", 4: "warn", 5: "bad"}  # by hundreds (tui.colours)
POLL_S = 5.0  # how often the tab, while shown, reads the log again
NOTE = "Newest first · time, token, method, path, status, latency"


def _time(at: datetime, wide: bool) -> str:
    return second(at) if wide else f"{at:%m-%d %H:%M:%S}"


def latency_text(ms: float) -> str:
    """``3.2 ms`` below 100 ms, whole milliseconds above."""
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:,.0f} ms"


def request_cells(r: ApiRequestInfo, *, wide: bool, path_width: int) -> tuple[object, ...]:
    """One request's row (every value from the log, shown literally)."""
    return (
        _time(r.at, wide),
        f"{r.token_name} ({r.token_hint})" if wide else r.token_hint,
        r.method,
        shorten(r.path, path_width, middle=True),
        Text(
            str(r.status),
            style=colours.style(STATUS_ROLE[r.status // 100])
            if r.status // 100 in STATUS_ROLE
            else "",
        ),
        Text(latency_text(r.latency_ms), justify="right"),
    )


class ApiRequestsTab(TabContent):
    DEFAULT_CSS = """
    ApiRequestsTab #requests-note { height: auto; padding: 0 1; }
    ApiRequestsTab #requests-note.-managed { padding: 1 1; }
    """

    def __init__(self, integration_id: int) -> None:
        super().__init__()
        self.integration_id = integration_id
        self.items: list[ApiRequestInfo] = []
        self.native = False
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static("", id="requests-note", classes="usage")
        yield FilterTable(
            COLUMNS,
            id="request-list",
            empty=self.empty_text(),
            search=self._search,  # the whole log, in SQL
        )

    def on_mount(self) -> None:
        self.set_interval(POLL_S, self._poll)

    _polling = False  # a poll is reading: the next one waits its turn

    def _poll(self) -> None:
        if self._polling or not (self.loaded and not self.native and self.on_active_tab):
            return
        if self.screen.is_current:
            self._polling = True
            self._poll_worker(self._filter_text())

    @work(thread=True, group="api-request-poll")
    def _poll_worker(self, text: str) -> None:
        try:
            found = apiaccess.requests_for_integration(
                self.admin.store, self.admin.actor.account_id, self.integration_id, text_filter=text
            )
        except DomainError:
            return  # quietly: the next poll tries again, and a key press reports it
        finally:
            self._polling = False
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._polled, text, found)

    def _polled(self, text: str, found: list[ApiRequestInfo]) -> None:
        if text == self._filter_text() and found != self.items:
            self.items = found
            self.query_one("#requests-note", Static).display = bool(found) or bool(text)
            self._show()

    def on_resize(self) -> None:
        if self.loaded and (self.app.size.width >= WIDE) != getattr(self, "_shown_wide", None):
            self._show()

    def load(self) -> tuple:
        store, actor = self.admin.store, self.admin.actor
        info = self.integration_info(self.integration_id)
        text = self._filter_text()
        items = (
            []
            if info.native
            else apiaccess.requests_for_integration(
                store, actor.account_id, self.integration_id, text_filter=text
            )
        )
        return info, items

    def show(self, data: tuple) -> None:
        info, self.items = data
        self.loaded = True
        self.native = info.native
        note = self.query_one("#requests-note", Static)
        table = self.query_one(FilterTable)
        table.display = not info.native
        if info.native:
            note.update(
                Text(
                    f"{info.name} connects with its own managed token: its calls are not "
                    "in this log. The log lists the requests made with the API tokens "
                    "of the Custom integration."
                )
            )
            note.set_classes("-managed")
            return
        note.update(Text(NOTE))
        note.display = bool(self.items) or bool(self._filter_text())
        self._show()

    def empty_text(self) -> Text:
        return Text(
            "No API requests yet. Systems call the integration API with an API token "
            "of this integration (the API tokens tab); 'integrations-admin serve' "
            'runs the API, and the README\'s section "Integration API" walks '
            "through a first call. Every request shows here, newest first."
        )

    def _show(self) -> None:
        width = self.app.size.width
        wide = self._shown_wide = width >= WIDE
        path_width = max(PATH_MIN, width - OTHER_COLUMNS - (24 if wide else 0))
        self.query_one(FilterTable).set_rows(
            [
                Row(str(r.id), request_cells(r, wide=wide, path_width=path_width), item=r)
                for r in self.items
            ]
        )

    # -- the filter, in SQL ----------------------------------------------------------

    def _filter_text(self) -> str:
        return self.query_one(FilterTable).filter_text.strip()

    def _search(self, text: str) -> None:
        text = text.strip()
        store, account_id, integration_id = (
            self.admin.store,
            self.admin.actor.account_id,
            self.integration_id,
        )
        pending = started_now(
            self.admin,
            "api requests search",
            lambda: apiaccess.requests_for_integration(
                store, account_id, integration_id, text_filter=text
            ),
        )
        self._search_worker(text, pending)

    @work(exclusive=True, group="api-request-search")
    async def _search_worker(self, text: str, pending: Any) -> None:
        try:
            found = await pending  # started by the keystroke (tui.reading.started_now)
        except DomainError as exc:
            self.admin.report(exc)
            return
        self._found(text, found)

    def _found(self, text: str, found: list[ApiRequestInfo]) -> None:
        if text == self._filter_text():  # else a newer keystroke's search is coming
            self.items = found
            self._show()
            # One line (the note's height): what the filter did comes first.
            note = NOTE
            if text:
                note = f"Matching {text!r}, newest first"
            if logsearch.short_note(text):  # one or two characters: the newest rows only
                note += f" · the filter looks at the newest {logsearch.RECENT:,} only"
            update_in_place(self.query_one("#requests-note", Static), Text(note))

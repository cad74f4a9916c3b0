"""The API requests tab of an integration: the integration API's request log
for its tokens, newest first (time, token hint, method, path, status,
latency; never a body or a token). Read-only.

The log may be long (every request of every token, kept for the account's
retention, a million rows and more), so the tab reads it a page at a time
(``page_size``: two screens, at least ``PAGE``), by keyset (the last row's
time and id), the next page as the cursor comes within ``PRELOAD`` rows of
the last one read; `/` filters in SQL, in a thread worker, as the webhook
page's delivery log does, and a keystroke reads one page only (a page of 200
took a filter keystroke some 10 ms more to build and draw: README,
"Performance"). It loads when first shown, not with the integration's screen:
most visits to an integration never open it. While it is shown it reads the
newest page again every ``POLL_S`` seconds (in a thread worker; redrawn only
when a request arrived, which goes in front of the rows read, the cursor kept
on its row), so a system's calls appear as it makes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Static
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
PAGE = 50  # requests read at a time, at least (page_size)
PRELOAD = 15  # the next page is read when the cursor is this close to the last row read
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
        self.more = False  # the last page read was full: there may be more
        self.loading_more = False
        self.generation = 0  # bumped by every new first page; older pages are dropped

    def page_size(self) -> int:
        """Rows read at a time: two screens' worth, at least ``PAGE``."""
        return max(PAGE, 2 * self.app.size.height)

    def _read_page(
        self,
        text: str,
        page: int,
        before_at: datetime | None = None,
        before_id: int | None = None,
    ) -> list[ApiRequestInfo]:
        """A page of the log matching ``text`` (store reads: in a thread worker)."""
        return apiaccess.requests_for_integration(
            self.admin.store,
            self.admin.actor.account_id,
            self.integration_id,
            text_filter=text,
            limit=page,
            before_at=before_at,
            before_id=before_id,
        )

    def _first_page(self, items: list[ApiRequestInfo], page: int) -> None:
        self.items = items
        self.more = len(items) >= page
        self.loading_more = False
        self.generation += 1

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
        page = self.page_size()
        try:
            found = self._read_page(text, page)
        except DomainError:
            return  # quietly: the next poll tries again, and a key press reports it
        finally:
            self._polling = False
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._polled, text, found, page)

    def _polled(self, text: str, found: list[ApiRequestInfo], page: int) -> None:
        if text != self._filter_text():
            return  # a search of the new text is on its way
        newest = self.items[0].id if self.items else None
        at = next((i for i, r in enumerate(found) if r.id == newest), None)
        if at == 0:
            return  # nothing arrived: nothing is redrawn
        if at is None:  # more than a page arrived (or the log was emptied): start again
            if found == self.items:
                return
            self._first_page(found, page)
        else:  # the arrivals in front of the rows read (a request never changes)
            self.items = found[:at] + self.items
        self.query_one("#requests-note", Static).display = bool(self.items) or bool(text)
        self._show()

    def on_resize(self) -> None:
        if self.loaded and (self.app.size.width >= WIDE) != getattr(self, "_shown_wide", None):
            self._show()

    def load(self) -> tuple:
        store, actor = self.admin.store, self.admin.actor
        info = self.integration_info(self.integration_id)
        text = self._filter_text()
        page = self.page_size()
        items = (
            []
            if info.native
            else apiaccess.requests_for_integration(
                store, actor.account_id, self.integration_id, text_filter=text, limit=page
            )
        )
        return info, items, page

    def show(self, data: tuple) -> None:
        info, items, page = data
        self._first_page(items, page)
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
        self._shown_wide = self.app.size.width >= WIDE
        self.query_one(FilterTable).set_rows(self._rows(self.items))

    def _rows(self, items: list[ApiRequestInfo]) -> list[Row]:
        width = self.app.size.width
        wide = self._shown_wide
        path_width = max(PATH_MIN, width - OTHER_COLUMNS - (24 if wide else 0))
        return [
            Row(str(r.id), request_cells(r, wide=wide, path_width=path_width), item=r)
            for r in items
        ]

    # -- the next page, as the cursor nears the last row read ---------------------------

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.items) - PRELOAD:
            self._load_more()

    def _load_more(self) -> None:
        if not self.more or self.loading_more or not self.items:
            return
        self.loading_more = True
        last = self.items[-1]
        self._more_worker(self._filter_text(), last.at, last.id, self.generation, self.page_size())

    @work(thread=True, exclusive=True, group="api-request-more")
    def _more_worker(
        self, text: str, before_at: datetime, before_id: int, generation: int, page: int
    ) -> None:
        try:
            found = self._read_page(text, page, before_at, before_id)
        except DomainError as exc:
            self.loading_more = False
            self.app.call_from_thread(self.admin.report, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._append, generation, before_id, found, page)

    def _append(
        self, generation: int, before_id: int, found: list[ApiRequestInfo], page: int
    ) -> None:
        if generation != self.generation or not self.items or self.items[-1].id != before_id:
            return  # a new first page came meanwhile (a key, a poll): this one is stale
        self.loading_more = False
        self.more = len(found) >= page
        self.items.extend(found)
        self.query_one(FilterTable).add_rows(self._rows(found))

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
        page = self.page_size()
        pending = started_now(
            self.admin,
            "api requests search",
            lambda: apiaccess.requests_for_integration(
                store, account_id, integration_id, text_filter=text, limit=page
            ),
        )
        self._search_worker(text, pending, page)

    @work(exclusive=True, group="api-request-search")
    async def _search_worker(self, text: str, pending: Any, page: int) -> None:
        try:
            found = await pending  # started by the keystroke (tui.reading.started_now)
        except DomainError as exc:
            self.admin.report(exc)
            return
        self._found(text, found, page)

    def _found(self, text: str, found: list[ApiRequestInfo], page: int) -> None:
        if text == self._filter_text():  # else a newer keystroke's search is coming
            self._first_page(found, page)
            self._show()
            # One line (the note's height): what the filter did comes first.
            note = NOTE
            if text:
                note = f"Matching {text!r}, newest first"
            if logsearch.short_note(text):  # one or two characters: the newest rows only
                note += f" · the filter looks at the newest {logsearch.RECENT:,} only"
            update_in_place(self.query_one("#requests-note", Static), Text(note))

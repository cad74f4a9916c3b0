"""The Audit log section: every change, newest first; who, when, what, on which object.

The log may hold hundreds of thousands of entries, so the screen never loads
them all: it shows one page (``PAGE`` rows) and fetches the next page by key
when the cursor comes near the end. `/` filters as you type, in SQL, in a
thread worker, so a slow filter never freezes the keyboard; a newer keystroke
makes older results obsolete. `enter` shows one entry whole.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Header, Static
from textual.worker import get_current_worker

from store import audit, logsearch
from store.audit import AuditRecord
from store.errors import DomainError
from tui.dialogs.base import Dialog
from tui.format import minute, second
from tui.reading import started_now
from tui.saving import run_in_daemon
from tui.screens.base import BaseScreen
from tui.widgets.filter_table import FilterTable, Row, RowTable, update_in_place
from tui.widgets.footer import Footer

PAGE = 200
DRAW_WAIT = 0.5  # seconds a filter's count waits for its rows to be drawn
COUNT_CAP = logsearch.COUNT_CAP  # counts stop there unless all are asked for (`#`)
PRELOAD = 40  # fetch the next page when the cursor is this close to the last loaded row
COLUMNS = ("When (UTC)", "Who", "What", "Object", "Detail")


def _object(r: AuditRecord) -> str:
    if r.object_name:
        return r.object_name
    return f"{r.object_type} {r.object_id}" if r.object_id is not None else r.object_type


def _row(r: AuditRecord) -> Row:
    detail = " ".join(r.detail.split())  # one line in the table; `enter` shows it whole
    return Row(str(r.id), (minute(r.at), r.actor, r.action, _object(r), detail), item=r)


class AuditTable(RowTable):
    """Rows are entries: home/end go to the first/last loaded entry (the last
    one fetches the next page), not to the first/last column."""

    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False, id="audit.first"),
        Binding("end", "scroll_bottom", "Last loaded", show=False, id="audit.last"),
    ]


class AuditEntryScreen(Dialog[None]):
    """One audit entry, whole."""

    DEFAULT_CSS = """
    AuditEntryScreen > .dialog { width: 76; max-height: 100%; padding: 0 1; }
    AuditEntryScreen .entry-title { text-style: bold; margin: 1 0; }
    AuditEntryScreen .entry-hint { color: $text-muted; margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape,enter", "close", "Close", id="audit_entry.close")]

    def __init__(self, record: AuditRecord) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        r = self.record
        body = Text()
        rows = [
            ("Entry", f"#{r.id}"),
            ("When", second(r.at, utc=True)),
            ("Who", r.actor),
            ("What", r.action),
            ("Object", r.object_type + (f" #{r.object_id}" if r.object_id is not None else "")),
            ("Name", r.object_name or "-"),
        ]
        for label, value in rows:
            body.append(f"{label:<8}", style="bold")
            body.append(f"{value}\n")
        body.append("Detail\n", style="bold")
        body.append(r.detail or "-")
        with VerticalScroll(classes="dialog"):
            yield Static(Text(f"Audit entry: {r.action}"), classes="entry-title")
            yield Static(body, id="entry-body")
            yield Static("escape or enter closes", classes="entry-hint")


class AuditScreen(BaseScreen):
    """The audit log, newest first, paged by key."""

    help_title = "Audit log"
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="audit.filter"),
        Binding("enter", "open", "Open entry", id="audit.open"),
        Binding("number_sign", "count_all", "Count all", id="audit.count"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.records: list[AuditRecord] = []
        self.more = False  # the last page fetched was full: there may be more
        self.total = 0
        self.matching: int | None = 0  # None: still being counted
        self.generation = 0  # bumped by every new first-page query; older results are dropped
        self.loading_more = False
        self.shown_generation = 0  # the generation whose first page is on screen
        self.count_all = False  # counts past COUNT_CAP asked for (`#`)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Audit log", id="audit-title", classes="section-title")
        # The filter box of every list; the search runs in SQL (``_filter``).
        yield FilterTable(
            COLUMNS,
            id="audit-list",
            empty="Nothing recorded yet.",
            search=self._typed,
            table_class=AuditTable,
            placeholder="Filter by user, action or object: type to narrow",
        )
        yield Footer()

    @property
    def table(self) -> DataTable:
        return self.query_one(FilterTable).table

    @property
    def filter_text(self) -> str:
        return self.query_one(FilterTable).filter_text.strip()

    def on_mount(self) -> None:
        self.query_one(FilterTable).focus_table()
        # The first page and the (capped) count in a worker: never on the UI thread.
        self._filter(self.filter_text)

    # -- loading -------------------------------------------------------------------

    @property
    def _cap(self) -> int | None:
        return None if self.count_all else COUNT_CAP

    def _query(
        self,
        text: str,
        before_id: int | None,
        *,
        count: bool = True,
        total: int | None = None,
    ) -> tuple[list[AuditRecord], int, int | None]:
        """A page, the total, and how many match (None: not counted, ``count``
        False). Counts stop past ``COUNT_CAP`` unless all were asked for;
        ``total``: the entries' total already known (not counted again)."""
        store, account_id = self.admin.store, self.admin.actor.account_id
        page = audit.entries(store, account_id, text=text, limit=PAGE, before_id=before_id)
        if before_id is not None:
            return page, self.total, self.matching
        if total is None:
            total = audit.count(store, account_id, cap=self._cap)
        if not text:
            matching: int | None = total
        elif len(page) < PAGE:
            matching = len(page)  # the whole match is on this page: no second query
        elif count:
            matching = audit.count(store, account_id, text=text, cap=self._cap)
        else:
            matching = None
        return page, total, matching

    def reload(self) -> None:
        """Back on this screen: show entries added meanwhile, keeping the selected one."""
        if not self.is_mounted:
            return
        selected = self.selected()
        self._filter(self.filter_text, keep=selected.id if selected else None)

    def _filter(self, text: str, keep: int | None = None, *, recount: bool = True) -> None:
        self.generation += 1
        total = None if recount else self.total
        text = text.strip()
        pending = started_now(
            self.admin, "audit filter", lambda: self._query(text, None, count=False, total=total)
        )
        self._filter_worker(text, self.generation, keep, pending)

    def _typed(self, text: str) -> None:
        """The filter typed: the entries' total is the one shown (a change by
        anyone reloads, and counts again); the first page's query alone runs."""
        self._filter(text, recount=self.shown_generation == 0)

    @work(exclusive=True, group="audit-filter")
    async def _filter_worker(
        self, text: str, generation: int, keep: int | None, pending: Any
    ) -> None:
        # The rows first (their query started with the keystroke:
        # tui.reading.started_now), then the count of the matches (capped: at
        # most COUNT_CAP + 1 of them are read). The count waits until the table
        # has drawn the rows (at most DRAW_WAIT): counting while the table was
        # refilled and drawn took the UI thread's turns (the GIL) and delayed
        # the rows by 4-6 ms a key (a median; more at the tail).
        try:
            page, total, matching = await pending
            self._show_first(generation, page, total, matching, keep)
            if matching is not None:
                return
            drawn = asyncio.get_running_loop().create_future()
            self.query_one(FilterTable).table.call_after_drawn(
                lambda: drawn.done() or drawn.set_result(None)
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(drawn, DRAW_WAIT)
            store, account_id, cap = self.admin.store, self.admin.actor.account_id, self._cap
            matching = await run_in_daemon(
                lambda: audit.count(store, account_id, text=text, cap=cap)
            )
            self._show_matching(generation, matching)
        except DomainError as exc:
            self.admin.report(exc)

    def _show_matching(self, generation: int, matching: int, total: int | None = None) -> None:
        if generation == self.generation:
            self.matching = matching
            if total is not None:
                self.total = total
            self._update_title()

    def _show_first(
        self,
        generation: int,
        page: list[AuditRecord],
        total: int,
        matching: int | None,
        keep: int | None = None,
    ) -> None:
        if generation != self.generation:
            return  # a newer filter is on its way
        self.shown_generation = generation
        self.records = list(page)
        self.more = len(page) == PAGE
        self.total, self.matching = total, matching
        self.loading_more = False
        # A new first page starts at its first row, unless an entry is kept.
        kept = next((r for r in page if r.id == keep), page[0] if page else None)
        self.query_one(FilterTable).set_rows(
            [_row(r) for r in page], select=str(kept.id) if kept else None
        )
        self._update_title()

    def _load_more(self) -> None:
        if not self.more or self.loading_more or not self.records:
            return
        self.loading_more = True
        self._more_worker(self.filter_text, self.records[-1].id, self.generation)

    @work(thread=True, exclusive=True, group="audit-more")
    def _more_worker(self, text: str, before_id: int, generation: int) -> None:
        try:
            page, _, _ = self._query(text, before_id)
        except DomainError as exc:
            self.app.call_from_thread(self.admin.report, exc)
            self.loading_more = False
            return
        self.app.call_from_thread(self._append, generation, before_id, page)

    def _append(self, generation: int, before_id: int, page: list[AuditRecord]) -> None:
        if generation != self.generation or not self.records or self.records[-1].id != before_id:
            return
        self.records.extend(page)
        self.more = len(page) == PAGE
        self.loading_more = False
        self.query_one(FilterTable).add_rows([_row(r) for r in page])
        self._update_title()

    def _amount(self, n: int) -> str:
        """A count as shown: past the cap, "10,000+" (until all are counted)."""
        if not self.count_all and n > COUNT_CAP:
            return f"{COUNT_CAP:,}+"
        return f"{n:,}"

    def _update_title(self) -> None:
        text = self.filter_text
        title = Text("Audit log · ")
        capped = not self.count_all and (self.total > COUNT_CAP or (self.matching or 0) > COUNT_CAP)
        of = f"{self._amount(self.total)} {'entry' if self.total == 1 else 'entries'}"
        if text:
            if self.matching is None:
                title.append(f"{PAGE:,}+ of {of} match (counting) ")
            elif self.matching:
                verb = "matches" if self.matching == 1 else "match"
                title.append(f"{self._amount(self.matching)} of {of} {verb} ")
            else:
                title.append(f"no entry of {self._amount(self.total)} matches ")
            title.append(repr(text), style="bold")
            note = logsearch.short_note(text)
            if note:
                title.append(f" · the newest {logsearch.RECENT:,} only")
        elif self.total:
            title.append(f"{of}, newest first")
        else:
            title.append("nothing recorded yet")
        if self.more:
            title.append(f" · {len(self.records):,} loaded")
        if capped:
            title.append(" · # counts all")
        update_in_place(self.query_one("#audit-title", Static), title)

    def action_count_all(self) -> None:
        """Count every entry, and every match, however many (in a worker)."""
        self.count_all = True
        self._count_worker(self.filter_text, self.generation)

    @work(thread=True, exclusive=True, group="audit-count")
    def _count_worker(self, text: str, generation: int) -> None:
        store, account_id = self.admin.store, self.admin.actor.account_id
        try:
            total = audit.count(store, account_id)
            matching = audit.count(store, account_id, text=text) if text else total
        except DomainError as exc:
            self.app.call_from_thread(self.admin.report, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_matching, generation, matching, total)

    # -- keys and events ---------------------------------------------------------------

    def selected(self) -> AuditRecord | None:
        return self.query_one(FilterTable).selected_item

    def action_filter(self) -> None:
        # audit.filter: the list's own `/` (list.filter), under this screen's id too.
        self.query_one(FilterTable).action_filter()

    def action_open(self) -> None:
        record = self.selected()
        if record is not None:
            self.app.push_screen(AuditEntryScreen(record))

    @on(FilterTable.Opened)
    def _opened(self, event: FilterTable.Opened) -> None:
        event.stop()
        self.action_open()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.records) - PRELOAD:
            self._load_more()

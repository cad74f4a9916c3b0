"""The Contracts section: what integrations sent through the integration API,
read-only. The list (state, playbook, creating integration; `/` filters in
SQL), a contract's page (each data field's value and where it came from: an
integration's blueprint field, or the data field's default) and one value
whole (`enter` on it: a value may be 10,000 characters).

Administrators change nothing here: contracts are created and changed by the
integrations that hold an API token (``integrations-admin serve``), so no
screen of this module has a key that writes. They change while you look, so
the list and the page read the store again every ``POLL_S`` seconds while
they are shown (in a thread worker; redrawn only when something changed).
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Header, Static
from textual.worker import get_current_worker

from store import contracts
from store.contracts import ContractDetail, ContractInfo, ContractValueInfo
from store.errors import DomainError
from tui import colours
from tui.dialogs.base import Dialog
from tui.format import minute, plural, second, shorten
from tui.screens.base import BaseScreen
from tui.widgets.filter_table import FilterTable, Row
from tui.widgets.footer import Footer

STATE_ROLE = {  # the colour of each state, by role (tui.colours)
    "published": "info",
    "signed": "good",
    "declined": "warn",
}
WIDE = 100  # from here the list shows when each contract was last changed
COLUMNS_NARROW = ("Contract", "State", "Playbook", "Integration")
COLUMNS_WIDE = ("Contract", "State", "Playbook", "Integration", "Updated (UTC)")
DEFAULT_LABEL = "default"  # the source of a value the data field's default gave
POLL_S = 5.0  # how often a shown list or page reads the store again


def state_text(state: str) -> Text:
    role = STATE_ROLE.get(state)
    return Text(state, style=colours.style(role) if role else "")


def how_contracts_arrive() -> Text:
    """The empty state: where contracts come from (none are made here)."""
    return Text.assemble(
        "No contracts yet.\n\n",
        "Contracts arrive through the integration API: a system holding an API token "
        "of the Custom integration creates one from a playbook (POST /v1/contracts), "
        "and its values flow through the playbook's mappings to the data fields.\n\n",
        "Start the API with ",
        ("integrations-admin serve", "bold"),
        "; the README's section ",
        ("Integration API", "bold"),
        " walks through a first contract. Contracts are read-only here.",
    )


def _one_line(value: str) -> str:
    """A value in a table cell: on one line (`enter` shows it as it is)."""
    return " ⏎ ".join(value.splitlines()) if "\n" in value or "\r" in value else value


class ContractsScreen(BaseScreen):
    """Every contract of the account, newest first; `enter` opens one."""

    help_title = "Contracts"
    # The list takes the focus itself (on_mount, show). Empty, it is hidden and
    # nothing has the focus: Textual's automatic focus would pick the hidden
    # filter box on a return, and swallow the section keys typed there.
    AUTO_FOCUS = ""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[ContractInfo] = []
        self.total = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Contracts", classes="section-title")
        yield Static("", id="usage", classes="usage")
        yield Static("", id="empty", classes="empty")
        yield FilterTable(
            COLUMNS_NARROW,
            id="contracts",
            search=self._search,  # in SQL: an account may hold many contracts
        )
        yield Footer()

    def on_mount(self) -> None:
        # Read when the screen is shown (its resume: BaseScreen), in a worker.
        self.query_one(FilterTable).focus_table()
        self.set_interval(POLL_S, self._poll)

    def on_resize(self) -> None:
        if self.items and (self.app.size.width >= WIDE) != getattr(self, "_shown_wide", None):
            self._show()

    _polling = False  # a poll is reading: the next one waits its turn

    def _poll(self) -> None:
        if self.is_current and not self._polling:
            self._polling = True
            self._poll_worker(self._filter_text())

    @work(thread=True, group="contract-poll")
    def _poll_worker(self, text: str) -> None:
        store, account_id = self.admin.store, self.admin.actor.account_id
        try:
            total = contracts.count_for_account(store, account_id)
            found = contracts.all_for_account(store, account_id, text_filter=text) if total else []
        except DomainError:
            return  # quietly: the next poll tries again, and a key press reports it
        finally:
            self._polling = False
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._polled, text, total, found)

    def _polled(self, text: str, total: int, found: list[ContractInfo]) -> None:
        if text != self._filter_text() or (total, found) == (self.total, self.items):
            return  # a newer search is coming, or nothing changed
        if bool(total) != bool(self.total):
            self.reload()  # the first contract arrived: the list replaces the empty state
            return
        self.total, self.items = total, found
        self._show_usage()
        self._show()

    def _show_usage(self) -> None:
        self.query_one("#usage", Static).update(
            Text(
                f"{plural(self.total, 'contract')}, newest first · read-only: "
                "made and changed through the API"
            )
        )

    _load_filter = ""  # the filter typed when the load started (read in its thread)

    def reload(self, select: str | None = None) -> None:
        self._load_filter = self._filter_text()
        super().reload(select)

    def load(self) -> tuple[int, list[ContractInfo]]:
        store, account_id = self.admin.store, self.admin.actor.account_id
        total = contracts.count_for_account(store, account_id)
        found = (
            contracts.all_for_account(store, account_id, text_filter=self._load_filter)
            if total
            else []
        )
        return total, found

    def show(self, data: tuple[int, list[ContractInfo]]) -> None:
        self.total, self.items = data
        empty = self.query_one("#empty", Static)
        table = self.query_one(FilterTable)
        usage = self.query_one("#usage", Static)
        empty.display = not self.total
        usage.display = bool(self.total)
        table.set_shown(bool(self.total))
        if not self.total:
            empty.update(how_contracts_arrive())
            return
        self._show_usage()
        self._show()

    def _show(self) -> None:
        wide = self._shown_wide = self.app.size.width >= WIDE
        table = self.query_one(FilterTable)
        table.set_columns(COLUMNS_WIDE if wide else COLUMNS_NARROW)
        table.set_rows(
            [
                Row(
                    str(c.id),
                    (
                        c.name,
                        state_text(c.state),
                        c.playbook_name,
                        c.integration_name or "(integration removed)",
                        *((minute(c.updated_at),) if wide else ()),
                    ),
                    item=c,
                )
                for c in self.items
            ]
        )

    # -- the filter, in SQL ----------------------------------------------------------

    def _filter_text(self) -> str:
        return self.query_one(FilterTable).filter_text.strip()

    def _search(self, text: str) -> None:
        self._search_worker(text.strip())

    @work(thread=True, exclusive=True, group="contract-search")
    def _search_worker(self, text: str) -> None:
        try:
            found = contracts.all_for_account(
                self.admin.store, self.admin.actor.account_id, text_filter=text
            )
        except DomainError as exc:
            self.app.call_from_thread(self.admin.report, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._found, text, found)

    def _found(self, text: str, found: list[ContractInfo]) -> None:
        if text == self._filter_text():  # else a newer keystroke's search is coming
            self.items = found
            self._show()

    @on(FilterTable.Opened)
    def open_contract(self, event: FilterTable.Opened) -> None:
        self.app.push_screen(ContractScreen(int(event.key)))


def _grid(rows: list[tuple[str, Text | str]]) -> Table:
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold", no_wrap=True, min_width=11)
    t.add_column()
    for label, value in rows:
        t.add_row(Text(label), value if isinstance(value, Text) else Text(value, overflow="fold"))
    return t


class ContractScreen(BaseScreen):
    """One contract: its state and origin, and each data field's value with its
    source. Read-only; `enter` on a value shows it whole."""

    help_title = "Contract"
    DEFAULT_CSS = """
    ContractScreen #contract-head { height: auto; padding: 0 1; }
    ContractScreen #values-title { height: 1; padding: 0 1; margin-top: 1; text-style: bold; }
    ContractScreen FilterTable { min-height: 5; }
    """

    def __init__(self, contract_id: int) -> None:
        super().__init__()
        self.contract_id = contract_id
        self.detail: ContractDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="section-title")
        yield Static("", id="contract-head")
        yield Static("Data fields (enter shows a value whole)", id="values-title")
        yield FilterTable(("Data field", "Value", "Source"), id="contract-values")
        yield Footer()

    def on_mount(self) -> None:
        # Read when the screen is shown (its resume: BaseScreen), in a worker.
        self.query_one(FilterTable).focus_table()
        self.set_interval(POLL_S, self._poll)

    def on_resize(self) -> None:
        if self.detail is not None:
            self._show()

    _polling = False  # a poll is reading: the next one waits its turn

    def _poll(self) -> None:
        if self.is_current and not self._polling:
            self._polling = True
            self._poll_worker()

    @work(thread=True, group="contract-poll")
    def _poll_worker(self) -> None:
        try:
            d = contracts.detail(self.admin.store, self.admin.actor.account_id, self.contract_id)
        except DomainError:
            return  # quietly: the next poll tries again
        finally:
            self._polling = False
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._polled, d)

    def _polled(self, d: ContractDetail) -> None:
        if d != self.detail:  # signed, or its values changed meanwhile
            self.detail = d
            self._show()

    def load(self) -> ContractDetail:
        return contracts.detail(self.admin.store, self.admin.actor.account_id, self.contract_id)

    def show(self, detail: ContractDetail) -> None:
        self.detail = detail
        self._show()

    def _source(self, v: ContractValueInfo, integration: str, wide: bool) -> Text:
        if v.is_default:
            return Text(DEFAULT_LABEL, style="dim")
        # Narrow, the contract's own integration goes (the page's head names it).
        prefix = f"{integration} / "
        if not wide and integration and v.source.startswith(prefix):
            return Text(v.source[len(prefix) :])
        return Text(v.source)

    def _show(self) -> None:
        d = self.detail
        if d is None:
            return
        c = d.contract
        self.query_one("#title", Static).update(Text(f"Contracts › {c.name}"))
        self.query_one("#contract-head", Static).update(
            _grid(
                [
                    ("State", state_text(c.state)),
                    ("Playbook", c.playbook_name + ("" if c.playbook_id else " (deleted)")),
                    ("Integration", c.integration_name or "(removed)"),
                    ("Created", f"{second(c.created_at, utc=True)} by {c.created_by}"),
                    ("Updated", second(c.updated_at, utc=True)),
                ]
            )
        )
        width = self.app.size.width
        wide = width >= WIDE
        names = max((len(v.name) for v in d.values), default=10)
        sources = [self._source(v, c.integration_name, wide) for v in d.values]
        source_width = max((s.cell_len for s in sources), default=7)
        # What the name and source columns leave (with the cells' padding) to the value.
        value_width = max(12, width - min(names, 30) - source_width - 10)
        table = self.query_one(FilterTable)
        table.empty_text = "This contract's playbook has no data fields."
        table.set_rows(
            [
                Row(
                    str(i),
                    (
                        shorten(v.name, 30),
                        shorten(_one_line(v.value), value_width),
                        source,
                    ),
                    search=f"{v.name} {v.value} {v.source}".lower(),
                    item=v,
                )
                for i, (v, source) in enumerate(zip(d.values, sources, strict=True))
            ]
        )

    @on(FilterTable.Opened)
    def open_value(self, event: FilterTable.Opened) -> None:
        value = self.query_one(FilterTable).selected_item
        if value is not None and self.detail is not None:
            self.app.push_screen(ContractValueScreen(self.detail.contract, value))


class ContractValueScreen(Dialog[None]):
    """One data field's value on a contract, whole, with its source."""

    DEFAULT_CSS = """
    ContractValueScreen > .dialog { width: 76; max-height: 100%; padding: 0 1; }
    ContractValueScreen .entry-title { text-style: bold; margin: 1 0; }
    ContractValueScreen .entry-hint { color: $text-muted; margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape,enter", "close", "Close", id="contract_value.close")]

    def __init__(self, contract: ContractInfo, value: ContractValueInfo) -> None:
        super().__init__()
        self.contract = contract
        self.value = value

    def compose(self) -> ComposeResult:
        v = self.value
        source = (
            "the data field's default value"
            if v.is_default
            else v.source + ("" if v.source_field_id else " (field deleted)")
        )
        body = _grid(
            [
                ("Contract", self.contract.name),
                ("Data field", v.name + ("" if v.data_field_id else " (deleted)")),
                ("Source", source),
                ("Updated", second(v.updated_at, utc=True)),
                ("Value", Text(v.value, overflow="fold") if v.value else Text("(empty)", "dim")),
            ]
        )
        with VerticalScroll(classes="dialog"):
            yield Static(Text(f"Value of {v.name}"), classes="entry-title dialog-title")
            yield Static(body, id="value-body")
            yield Static("escape or enter closes", classes="entry-hint")

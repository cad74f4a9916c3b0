"""A DataTable with a filter box: `/` focuses the box, the table narrows as you
type, `enter`/`down` go to the first match, `escape` clears and returns.

Rows are held as plain tuples and the table is refilled in one call, so a
keystroke costs one pass over the rows and no widget per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import NoScreen
from textual.message import Message
from textual.render import measure
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static, _data_table


@dataclass(frozen=True)
class Row:
    key: str
    cells: tuple[object, ...]
    search: str = ""  # lower-case text the filter matches; defaults to the cells


def literal(value: object) -> Text | object:
    """Cells are shown literally: a name like "[bold]x" must not become markup."""
    if isinstance(value, str):
        return Text(value, no_wrap=True, overflow="ellipsis")
    return value


def focus_now(widget: Widget) -> None:
    """Focus ``widget`` at once, and only if it has not the focus already.

    Textual's ``focus()`` repaints the widget and moves the focus a moment
    later: a list focused as its screen opens was drawn twice, once without
    the focus and once with it (a 300-row table costs ~10 ms a drawing), and
    each repeated ``focus()`` drew it again."""
    if widget.has_focus:
        return
    try:
        widget.screen.set_focus(widget)
    except NoScreen:
        widget.focus()


class FilterInput(Input):
    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", id="filter.clear"),
        Binding("down", "to_table", "To the list", show=False, id="filter.down"),
    ]

    def action_clear_filter(self) -> None:
        self.value = ""
        table = self.parent.query_one(DataTable) if self.parent else None
        self.display = False
        if table is not None:
            table.focus()

    def action_to_table(self) -> None:
        if self.parent is not None:
            self.parent.query_one(DataTable).focus()


def measure_cell(
    console: Console,
    renderable: RenderableType,
    default: int,
    *,
    container_width: int | None = None,
) -> int:
    """Textual's ``measure`` with a short cut for the cells these tables hold.

    A ``Text`` measures as its longest line (rich's ``Text.__rich_measure__``
    maximum, which is all ``measure`` keeps); working that out directly skips
    building console options and splitting the text into words for a minimum
    nobody reads: filling a table of 300 rows measures 1,200 cells.
    Anything else goes to Textual's ``measure``. tests/test_widgets.py checks
    that both give the same widths."""
    if type(renderable) is Text:
        return max(map(cell_len, renderable.plain.splitlines()), default=0)
    return measure(console, renderable, default, container_width=container_width)


class RowTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("k", "cursor_up", "Up", show=False, id="list.up"),
    ]

    _ordered: tuple[object, int, list] | None = None

    @property
    def ordered_columns(self) -> list:  # type: ignore[override]
        # DataTable rebuilds this list for every cell it measures or draws
        # (3,500 times to open a playbook with its Mappings tab); the columns of
        # these tables only change through add/remove/clear, which replace or
        # grow the locations dict that this cache is keyed on.
        locations, n = self._column_locations, len(self.columns)
        cached = self._ordered
        if cached is None or cached[0] is not locations or cached[1] != n:
            cached = (locations, n, super().ordered_columns)
            self._ordered = cached
        return cached[2]

    def _update_dimensions(self, new_rows) -> None:  # type: ignore[no-untyped-def]
        # DataTable measures every new cell here, through the module's ``measure``.
        _data_table.measure = measure_cell
        try:
            super()._update_dimensions(new_rows)
        finally:
            _data_table.measure = measure


class FilterTable(Vertical):
    """A filterable table of rows, selected by key."""

    DEFAULT_CSS = """
    FilterTable { height: 1fr; }
    FilterTable > FilterInput { display: none; height: 1; margin: 0 1; background: $boost; }
    FilterTable > RowTable { height: 1fr; }
    FilterTable > .empty-rows { color: $text-muted; padding: 0 1; display: none; }
    """
    BINDINGS = [Binding("slash", "filter", "Filter", id="list.filter")]

    class Opened(Message):
        """Enter on a row."""

        def __init__(self, table: FilterTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FilterTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[str],
        *,
        empty: str = "Nothing here yet.",
        id: str | None = None,
        search: Callable[[str], None] | None = None,
    ) -> None:
        """``search``: for lists too long to hold, called with the filter text
        on every change instead of narrowing the rows held; the owner finds
        the matches (in SQL, in a worker) and gives them to ``set_rows``."""
        super().__init__(id=id)
        self._columns = tuple(columns)
        self._rows: list[Row] = []
        self._shown: list[Row] = []
        self.empty_text = empty
        self._search = search

    def compose(self) -> ComposeResult:
        yield FilterInput(
            placeholder="/ Filter: type to narrow, enter to go to the list", compact=True
        )
        table = RowTable(cursor_type="row", zebra_stripes=True)
        table.add_columns(*self._columns)
        yield Static("", classes="empty-rows")
        yield table

    @property
    def table(self) -> DataTable:
        return self.query_one(RowTable)

    @property
    def filter_text(self) -> str:
        return self.query_one(FilterInput).value

    def set_rows(self, rows: Sequence[Row], *, select: str | None = None) -> None:
        """Replace the rows (keeps the filter and, if possible, the selection)."""
        current = select or self.selected_key
        self._rows = list(rows)
        self._apply(current)

    def _apply(self, select: str | None = None) -> None:
        needle = self.filter_text.strip().lower()
        if needle and self._search is None:
            self._shown = [
                r
                for r in self._rows
                if needle in (r.search or " ".join(str(c) for c in r.cells).lower())
            ]
        else:
            self._shown = self._rows
        table = self.table
        table.clear()
        table.add_rows(
            [tuple(literal(c) for c in r.cells) for r in self._shown],
        )
        table.show_cursor = bool(self._shown)
        empty = self.query_one(".empty-rows", Static)
        if not self._shown:
            empty.update(Text(f"No match for {needle!r}." if needle else self.empty_text))
        empty.display = not self._shown
        if select is not None:
            for i, r in enumerate(self._shown):
                if r.key == select:
                    table.move_cursor(row=i, animate=False)
                    break
        self.border_subtitle = f"{len(self._shown)} of {len(self._rows)}" if needle else ""

    @property
    def selected_key(self) -> str | None:
        if not self._shown:
            return None
        row = self.table.cursor_row
        if 0 <= row < len(self._shown):
            return self._shown[row].key
        return None

    @property
    def row_count(self) -> int:
        return len(self._shown)

    def focus_table(self) -> None:
        focus_now(self.table)

    def action_filter(self) -> None:
        box = self.query_one(FilterInput)
        box.display = True
        # set_focus now, not focus() (which waits a refresh): keys typed straight
        # after `/` must land in the box, not in the list.
        self.screen.set_focus(box)

    @on(Input.Changed, "FilterInput")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search is not None:
            self._search(event.value)
        else:
            self._apply()

    @on(Input.Submitted, "FilterInput")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()
        if self._shown:
            self.table.move_cursor(row=0)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = self.selected_key
        if key is not None:
            self.post_message(self.Opened(self, key))

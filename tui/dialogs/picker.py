"""A filterable picker: a table of choices in a dialog. `enter` picks the
selected row, `/` filters (the list narrows as you type), `escape` cancels.

Dismisses with the picked row's key, ``NONE`` for the "none" row when the
picker offers one, or None when cancelled. Rows are plain tuples filled in one
call (FilterTable), so a picker of hundreds of rows opens without lag.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.widgets.filter_table import FilterTable, Row

NONE = "__none__"


class PickerDialog(ModalScreen[str | None]):
    DEFAULT_CSS = """
    PickerDialog { align: center middle; }
    PickerDialog > Vertical {
        width: 76; max-width: 100%; height: 22; max-height: 100%;
        border: thick $primary 70%; background: $surface; padding: 0 1;
    }
    PickerDialog .picker-title {
        text-style: bold; margin-top: 1;
        width: 100%; text-wrap: nowrap; text-overflow: ellipsis;
    }
    PickerDialog .picker-help { color: $text-muted; }
    PickerDialog FilterTable { height: 1fr; }
    PickerDialog .picker-empty { color: $text-muted; padding: 1 0; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="picker.cancel")]

    def __init__(
        self,
        title: str,
        columns: Sequence[str],
        rows: Sequence[Row],
        *,
        help: str = "",
        none_label: str | None = None,
        select: str | None = None,
        empty: str = "Nothing to choose from.",
    ) -> None:
        super().__init__()
        self._title = title
        self._columns = tuple(columns)
        self._rows = list(rows)
        if none_label is not None:
            blank = ("",) * (len(self._columns) - 1)
            self._rows.insert(0, Row(NONE, (none_label, *blank), search=none_label.lower()))
        self._help = help or "enter picks · / filters · escape cancels"
        self._select = select
        self._empty = empty

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._title), classes="picker-title")
            yield Static(Text(self._help), classes="picker-help")
            if self._rows:
                yield FilterTable(self._columns, id="choices")
            else:
                yield Static(Text(self._empty), classes="picker-empty")

    def on_mount(self) -> None:
        # Room for the rows and the filter box, no more (a long list scrolls).
        self.query_one(Vertical).styles.height = min(len(self._rows) + 9, 22)
        tables = self.query(FilterTable)
        if tables:
            table = tables.first()
            table.set_rows(self._rows, select=self._select)
            table.focus_table()

    @on(FilterTable.Opened)
    def _picked(self, event: FilterTable.Opened) -> None:
        event.stop()
        self.dismiss(event.key)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""A filterable picker: a table of choices in a dialog. Typing filters at once
(the list narrows as you type), `up`/`down` move, `enter` picks the row under
the cursor, `escape` cancels.

The cursor starts on ``select`` when given (the current choice), else on the
best match for ``match`` (a name: the same name ignoring case, else the same
once spaces, underscores and hyphens are ignored too), else on the first real
choice: never on the "none" row unless it is the current choice, so `enter`
does the likely thing.

Dismisses with the picked row's key, ``NONE`` for the "none" row when the
picker offers one, or None when cancelled. Rows are plain tuples filled in one
call (FilterTable), so a picker of hundreds of rows opens without lag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, Static

from tui.dialogs.base import Dialog
from tui.widgets.filter_table import FilterTable, Row

NONE = "__none__"


def _loose(name: str) -> str:
    """A name for loose comparison: case, spaces, underscores and hyphens ignored."""
    return re.sub(r"[\s_\-]+", "", name.casefold())


def best_match(rows: Sequence[Row], name: str | None) -> str | None:
    """The key of the row whose first cell is ``name`` (ignoring case), else
    the same ignoring spaces/underscores/hyphens too, else the first row that
    is not the "none" row; None when there is no such row."""
    real = [r for r in rows if r.key != NONE]
    if not real:
        return None
    if name:
        first = [(r, str(r.cells[0]) if r.cells else "") for r in real]
        wanted = name.strip().casefold()
        for r, cell in first:
            if cell.strip().casefold() == wanted:
                return r.key
        loose = _loose(name)
        for r, cell in first:
            if loose and _loose(cell) == loose:
                return r.key
    return real[0].key


class PickerDialog(Dialog[str | None]):
    DEFAULT_CSS = """
    PickerDialog > .dialog { width: 76; height: 22; max-height: 100%; padding: 0 1; }
    PickerDialog .picker-title { margin-top: 1; }
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
        match: str | None = None,
        empty: str = "Nothing to choose from.",
    ) -> None:
        super().__init__()
        self._title = title
        self._columns = tuple(columns)
        self._rows = list(rows)
        if none_label is not None:
            blank = ("",) * (len(self._columns) - 1)
            self._rows.insert(0, Row(NONE, (none_label, *blank), search=none_label.lower()))
        self._help = help or "type to filter · up/down move · enter picks · escape cancels"
        self._select = select if select is not None else best_match(self._rows, match)
        self._empty = empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self._title), classes="picker-title dialog-title")
            yield Static(Text(self._help), classes="picker-help")
            if self._rows:
                yield FilterTable(self._columns, id="choices", typeahead=True)
            else:
                yield Static(Text(self._empty), classes="picker-empty")

    def on_mount(self) -> None:
        # Room for the rows and the filter box, no more (a long list scrolls).
        self.query_one(".dialog").styles.height = min(len(self._rows) + 10, 22)
        tables = self.query(FilterTable)
        if tables:
            table = tables.first()
            table.set_rows(self._rows, select=self._select)
            table.focus_table()

    @on(FilterTable.Opened)
    def _picked(self, event: FilterTable.Opened) -> None:
        event.stop()
        self.dismiss(event.key)

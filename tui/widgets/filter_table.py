"""A DataTable with a filter box: `/` focuses the box, the table narrows as you
type, `enter`/`down` go to the first match, `escape` clears and returns.
`home`/`end` (and `g`/`G` where the screen has no key of its own for them) go
to the first and last row. After a refill in which the selected row is gone
(deleted, revoked, disconnected), the cursor stays where it was: on the row
that took its place, or the last one.

A picker's table (``typeahead=True``) shows its box from the start and keeps
the focus there: typing filters at once, `up`/`down` move in the list and
`enter` picks the row under the cursor.

Rows are held as plain tuples and the table is refilled in one call, so a
keystroke costs one pass over the rows and no widget per row. A row carries the
value it shows (``Row.item``): ``selected_item`` is the one under the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.text import Text
from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import NoScreen
from textual.message import Message
from textual.render import measure
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from tui.refusing import Refusal, Refuses, for_now
from tui.textual_compat import QuickDataTable, binding_chain

NOTHING_TO_FILTER = "Nothing to filter: this list is empty."


@dataclass(frozen=True)
class Row:
    key: str
    cells: tuple[object, ...]
    search: str = ""  # lower-case text the filter matches; defaults to the cells
    item: Any = None  # the value the row shows (``FilterTable.selected_item``)


def literal(value: object) -> Text | object:
    """Cells are shown literally: a name like "[bold]x" must not become markup."""
    if isinstance(value, str):
        return Text(value, no_wrap=True, overflow="ellipsis")
    return value


def update_in_place(static: Static, content: Text) -> None:
    """``static.update(content)``, without laying out the screen again when the
    new content takes as many lines as the shown one.

    ``Static.update`` asks for a layout of the whole screen because the text may
    need another height: a log's title or note rewritten at each filter
    keystroke laid out the integration's page (its tabs and their lists) every
    time, when its line count almost never changes. Here the content is
    measured at the width it is shown in; a layout is asked for only when its
    height follows its content and changes, or when its width follows its
    content, or before it is shown (nothing measured yet)."""
    width = static.content_size.width
    styles = static.styles
    auto_width = styles.width is not None and styles.width.is_auto
    if not static.is_mounted or not static.display or width <= 0 or auto_width:
        static.update(content)
        return
    shown = static.content_size.height
    static.update(content, layout=False)
    height_follows = styles.height is None or styles.height.is_auto
    if (
        height_follows
        and static.get_content_height(static.container_size, static.app.size, width) != shown
    ):
        static.refresh(layout=True)


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
        Binding("up", "cursor_up", "Up", show=False, id="filter.up"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="filter.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="filter.page_down"),
    ]

    @property
    def typeahead(self) -> bool:
        return bool(getattr(self.parent, "typeahead", False))

    def _list(self) -> DataTable | None:
        return self.parent.query_one(DataTable) if self.parent is not None else None

    def on_key(self, event: events.Key) -> None:
        # In a picker the box has the focus from the start; a `/` typed out of
        # habit before anything else is not part of the filter (prevent_default:
        # Input's own key handler, which types it, does not run).
        if self.typeahead and event.key == "slash" and not self.value:
            event.stop()
            event.prevent_default()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter" and self.typeahead:
            return False  # a picker's escape cancels the picker (its footer says so)
        return super().check_action(action, parameters)

    def action_clear_filter(self) -> None:
        if self.typeahead:
            raise SkipAction()  # a picker's escape cancels the picker
        self.value = ""
        table = self._list()
        self.display = False
        if table is not None:
            table.focus()

    def action_to_table(self) -> None:
        table = self._list()
        if table is None:
            return
        if self.typeahead:
            table.action_cursor_down()
        else:
            table.focus()

    def action_cursor_up(self) -> None:
        table = self._list()
        if self.typeahead and table is not None:
            table.action_cursor_up()

    def action_page(self, step: int) -> None:
        table = self._list()
        if self.typeahead and table is not None:
            (table.action_page_down if step > 0 else table.action_page_up)()


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
    Anything else goes to Textual's ``measure``. tests/tui/test_widgets.py checks
    that both give the same widths."""
    if type(renderable) is Text:
        return max(map(cell_len, renderable.plain.splitlines()), default=0)
    return measure(console, renderable, default, container_width=container_width)


class RowTable(QuickDataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("home", "scroll_top", "First row", show=False, id="list.first"),
        Binding("end", "scroll_bottom", "Last row", show=False, id="list.last"),
        Binding("g", "letter_first", "First row", show=False, id="list.first_letter"),
        Binding("G", "letter_last", "Last row", show=False, id="list.last_letter"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `g`/`G` are a screen's own key where it has one (Users: `g` grants the
        # permission): then the key goes there, and home/end still move.
        if action in ("letter_first", "letter_last"):
            return not self._key_taken_above(f"list.{action.split('_')[1]}_letter")
        return super().check_action(action, parameters)

    def _key_taken_above(self, binding_id: str) -> bool:
        try:
            chain = binding_chain(self.screen)  # the keys in force (keymap applied)
        except NoScreen:
            return False
        mine = next((b for node, b in chain if node is self), None)
        if mine is None:
            return False
        keys = [k for k, bs in mine.key_to_bindings.items() if any(b.id == binding_id for b in bs)]
        return any(
            key in bindings.key_to_bindings
            for node, bindings in chain
            if node is not self
            for key in keys
        )

    def action_letter_first(self) -> None:
        self.action_scroll_top()

    def action_letter_last(self) -> None:
        self.action_scroll_bottom()

    # Cells measured by the short cut (QuickDataTable); widths stay Textual's.
    cell_measure = staticmethod(measure_cell)


class FilterTable(Refuses, Vertical):
    """A filterable table of rows, selected by key."""

    DEFAULT_CSS = """
    FilterTable { height: 1fr; }
    FilterTable > FilterInput { display: none; height: 1; margin: 0 1; background: $boost; }
    FilterTable > RowTable { height: 1fr; }
    FilterTable > .empty-rows { color: $text-muted; padding: 0 1; display: none; }
    /* A picker types in its box: its cursor shows as bright as a focused list's. */
    FilterTable.-typeahead > RowTable > .datatable--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
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
        empty: str | Text = "Nothing here yet.",
        id: str | None = None,
        search: Callable[[str], None] | None = None,
        typeahead: bool = False,
        table_class: type[RowTable] | None = None,
        placeholder: str = "/ Filter: type to narrow, enter to go to the list",
    ) -> None:
        """``search``: for lists too long to hold, called with the filter text
        on every change instead of narrowing the rows held; the owner finds
        the matches (in SQL, in a worker) and gives them to ``set_rows``, and
        the pages after the first to ``add_rows``.
        ``typeahead``: a picker's list (see the module's docstring).
        ``table_class``: a RowTable with keys of its own (the audit log's)."""
        super().__init__(id=id)
        self._columns = tuple(columns)
        self._rows: list[Row] = []
        self._shown: list[Row] = []
        self.empty_text: str | Text = empty
        self._search = search
        self.typeahead = typeahead
        self._applied_filter = ""
        self._table_class = table_class or RowTable
        self._placeholder = placeholder
        if typeahead:
            self.add_class("-typeahead")

    def compose(self) -> ComposeResult:
        box = FilterInput(
            placeholder="Type to narrow the list" if self.typeahead else self._placeholder,
            compact=True,
        )
        if self.typeahead:
            box.display = True
        yield box
        table = self._table_class(cursor_type="row", zebra_stripes=True)
        table.add_columns(*self._columns)
        yield Static("", classes="empty-rows")
        yield table

    def set_columns(self, columns: Sequence[str]) -> None:
        """Change the columns (a narrow screen shows fewer); give the rows again after."""
        columns = tuple(columns)
        if columns == self._columns:
            return
        self._columns = columns
        table = self.table
        table.clear(columns=True)
        table.add_columns(*columns)
        self._shown = []

    @property
    def table(self) -> RowTable:
        return self.query_one(RowTable)

    @property
    def filter_text(self) -> str:
        return self.query_one(FilterInput).value

    def set_rows(self, rows: Sequence[Row], *, select: str | None = None) -> None:
        """Replace the rows (keeps the filter and, if possible, the selection;
        when the selected row is gone, the cursor stays at its place)."""
        current = select or self.selected_key
        # Where the cursor was, unless the filter changed since (a search's
        # results arrive here: they start at their first row).
        same_filter = self.filter_text.strip().lower() == self._applied_filter
        place = self.table.cursor_row if self._shown and same_filter else 0
        empty = not self._rows
        self._rows = list(rows)
        self._apply(current, place)
        if empty != (not self._rows):
            self.refresh_bindings()  # `/` is dimmed on an empty list

    def add_rows(self, rows: Sequence[Row]) -> None:
        """Add rows after those held (the next page of a long list), keeping
        the cursor and the filter; nothing is refilled."""
        rows = list(rows)
        self._rows.extend(rows)
        if self._shown is not self._rows:  # narrowed here: only the new matches show
            rows = self._matching(rows, self._applied_filter)
            self._shown.extend(rows)
        if rows:
            self.table.add_rows([tuple(literal(c) for c in r.cells) for r in rows])
            self._show_empty(self._applied_filter)

    def _matching(self, rows: Sequence[Row], needle: str) -> list[Row]:
        return [
            r for r in rows if needle in (r.search or " ".join(str(c) for c in r.cells).lower())
        ]

    def _apply(self, select: str | None = None, place: int | None = None) -> None:
        needle = self.filter_text.strip().lower()
        self._applied_filter = needle
        if needle and self._search is None:
            self._shown = self._matching(self._rows, needle)
        else:
            self._shown = self._rows
        table = self.table
        table.clear()
        table.add_rows(
            [tuple(literal(c) for c in r.cells) for r in self._shown],
        )
        self._show_empty(needle)
        found = False
        if select is not None:
            for i, r in enumerate(self._shown):
                if r.key == select:
                    table.move_cursor(row=i, animate=False)
                    found = True
                    break
        if not found and place and self._shown:
            # The selected row went (deleted, revoked...): its neighbour takes its place.
            table.move_cursor(row=min(place, len(self._shown) - 1), animate=False)
        self.border_subtitle = f"{len(self._shown)} of {len(self._rows)}" if needle else ""

    def _show_empty(self, needle: str) -> None:
        """The cursor only on rows; the empty state when there are none."""
        self.table.show_cursor = bool(self._shown)
        empty = self.query_one(".empty-rows", Static)
        if not self._shown:
            empty_text = self.empty_text
            update_in_place(
                empty,
                Text(f"No match for {needle!r}.")
                if needle
                else empty_text
                if isinstance(empty_text, Text)
                else Text(empty_text),
            )
        empty.display = not self._shown

    @property
    def selected_row(self) -> Row | None:
        """The row under the cursor, if any."""
        if not self._shown:
            return None
        row = self.table.cursor_row
        if 0 <= row < len(self._shown):
            return self._shown[row]
        return None

    @property
    def selected_key(self) -> str | None:
        row = self.selected_row
        return row.key if row is not None else None

    @property
    def selected_item(self) -> Any:
        """The item of the row under the cursor (``Row.item``), or None."""
        row = self.selected_row
        return row.item if row is not None else None

    @property
    def row_count(self) -> int:
        return len(self._shown)

    def set_shown(self, shown: bool) -> None:
        """Show the list, or hide it (an empty list gives way to its screen's
        words). Hidden, it lost the focus: shown again, it takes it back, as it
        does when nothing on its screen has the focus."""
        was_hidden = not self.display
        self.display = shown
        if shown and (was_hidden or self.screen.focused is None):
            self.focus_table()

    def focus_table(self) -> None:
        """Focus the list (a picker's: its filter box, where typing goes)."""
        focus_now(self.query_one(FilterInput) if self.typeahead else self.table)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter" and self.typeahead:
            return False  # a picker filters as you type: no key for it
        return super().check_action(action, parameters)

    def refusal(self, action: str) -> Refusal | None:
        if action == "filter" and (not self.display or (not self._rows and not self.filter_text)):
            # Nothing to narrow: a box opened now would be hidden (or useless)
            # and would swallow the keys typed next. Dimmed, and said when pressed.
            return for_now(NOTHING_TO_FILTER)
        return None

    def refused(self, action: str) -> bool:
        # No store rule here (nothing to read again): say it, briefly.
        found = self.refusal(action)
        if found is not None:
            self.notify(found.words, timeout=3)
        return found is not None

    def action_filter(self) -> None:
        if self.refused("filter"):
            return
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
        if self.typeahead:
            key = self.selected_key
            if key is not None:
                self.post_message(self.Opened(self, key))
            return
        self.table.focus()
        if self._shown:
            self.table.move_cursor(row=0)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = self.selected_key
        if key is not None:
            self.post_message(self.Opened(self, key))

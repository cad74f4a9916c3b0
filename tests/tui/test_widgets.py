"""The footer is one widget that draws the screen's keys (tui/widgets/footer.py):
it follows the focused screen's keys, shows only whole keys, keeps the
palette's key on the right, runs a key when clicked and refuses a disabled
one. The lists' short cuts (tui/widgets/filter_table.py) give Textual's
widths and column order, whatever the columns went through."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.render import measure
from textual.widgets import DataTable, Static

from store import marketplace
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.screens.integration import IntegrationScreen
from tui.screens.marketplace import MarketplaceScreen
from tui.widgets.filter_table import FilterTable, Row, RowTable, measure_cell, update_in_place
from tui.widgets.footer import Footer

from ..ui import footer_line


async def test_footer_follows_the_screen_and_fits_whole_keys(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        line = footer_line(app)
        assert line.startswith(" / Filter  m Marketplace  i Integrations")
        assert line.rstrip().endswith("▏^p palette")
        assert len(line) == 80
        # A screen with more keys than fit: whole keys only, then the palette.
        await pilot.press("enter", "3")
        await pilot.pause()
        assert isinstance(app.screen, IntegrationScreen)
        footer = app.screen.query_one(Footer)
        shown = [k.display for k in footer._shown]
        keys, palette = footer.keys()
        assert palette is not None and shown[-1] == palette.display
        assert len(shown) - 1 < len(keys), "this screen should have more keys than fit"
        line = footer_line(app)
        assert " n New token " in line and " esc Back " in line
        for k in footer._shown[:-1]:  # each drawn key is whole where it says it is
            assert line[k.start : k.end] == f" {k.display} {k.description} "
        assert line[footer._shown[-1].start - 1] == "▏"


async def test_clicking_a_footer_key_runs_it(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        key = next(k for k in footer._shown if k.description == "Marketplace")
        await pilot.click(Footer, offset=(key.start + 1, 0))
        await pilot.pause()
        assert isinstance(app.screen, MarketplaceScreen)
        assert "Marketplace" in footer_line(app)


class _Disabled(App[None]):
    BINDINGS = [
        Binding("x", "never", "Never"),
        Binding("y", "count", "Count"),
    ]
    presses = 0
    bells = 0

    def compose(self) -> ComposeResult:
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "never" else True  # None: shown, disabled

    def action_count(self) -> None:
        self.presses += 1

    def bell(self) -> None:
        self.bells += 1


async def test_a_disabled_key_is_drawn_dim_and_rings_when_clicked():
    app = _Disabled()
    async with app.run_test(size=(60, 3)) as pilot:
        await pilot.pause()
        footer = app.query_one(Footer)
        never, count = (next(k for k in footer._shown if k.key == c) for c in "xy")
        assert not never.enabled and count.enabled
        strip = footer.render_line(0)
        dims = {seg.text: bool(seg.style and seg.style.dim) for seg in strip if seg.text.strip()}
        assert dims[" x "] and not dims[" y "]
        await pilot.click(Footer, offset=(never.start + 1, 0))
        await pilot.click(Footer, offset=(count.start + 1, 0))
        await pilot.pause()
        assert (app.bells, app.presses) == (1, 1)


@pytest.mark.parametrize(
    "cell",
    [
        Text("Customer name"),
        Text("日本語の名前", style="bold red"),
        Text("emoji 🎉 ok"),
        Text(""),
        Text("two\nlines, the second longer"),
        Text("tab\tand\rreturn"),
        "plain [b]markup[/b]",
        42,
    ],
)
def test_the_lists_measure_cells_as_textual_does(cell):
    console = App().console
    assert measure_cell(console, cell, 1) == measure(console, cell, 1)


async def test_a_list_sizes_its_columns_as_a_plain_datatable_does():
    rows = [
        (Text("Order reference"), Text("日本語"), "yes"),
        (Text("x"), Text("a much longer value here 🎉"), ""),
    ]

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="plain")
            yield RowTable(id="ours")

    app = Two()
    async with app.run_test(size=(100, 20)) as pilot:
        widths = []
        for table in app.query(DataTable):
            table.add_columns("Name", "Value", "Req")
            table.add_rows(rows)
        await pilot.pause()
        for table in app.query(DataTable):
            widths.append([c.get_render_width(table) for c in table.ordered_columns])
        assert widths[0] == widths[1]


async def test_a_list_orders_its_columns_as_a_plain_datatable_does():
    """RowTable keeps the ordered column list between cells; any change of
    columns must still show."""

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="plain")
            yield RowTable(id="ours")

    def labels(table: DataTable) -> list[str]:
        return [str(c.label) for c in table.ordered_columns]

    app = Two()
    async with app.run_test(size=(100, 20)) as pilot:
        plain, ours = app.query_one("#plain", DataTable), app.query_one("#ours", RowTable)
        for table in (plain, ours):
            table.add_columns("A", "B")
        assert labels(ours) == labels(plain) == ["A", "B"]
        for table in (plain, ours):
            table.add_column("C")
        assert labels(ours) == labels(plain) == ["A", "B", "C"]
        for table in (plain, ours):
            table.remove_column(next(iter(table.columns)))
        assert labels(ours) == labels(plain) == ["B", "C"]
        for table in (plain, ours):
            table.clear(columns=True)
            table.add_columns("X", "Y")
        assert labels(ours) == labels(plain) == ["X", "Y"]
        await pilot.pause()


class _Tooltips(App[None]):
    BINDINGS = [Binding("f", "noop", "From blueprint", tooltip="Create data fields from it")]

    def compose(self) -> ComposeResult:
        yield Footer()

    def action_noop(self) -> None:
        pass


async def test_the_key_under_the_mouse_shows_its_tooltip():
    app = _Tooltips()
    async with app.run_test(size=(60, 3)) as pilot:
        await pilot.pause()
        footer = app.query_one(Footer)
        key = next(k for k in footer._shown if k.key == "f")
        await pilot.hover(Footer, offset=(key.start + 1, 0))
        await pilot.pause()
        assert footer.tooltip == "Create data fields from it"
        palette = footer._shown[-1]
        await pilot.hover(Footer, offset=(palette.start + 1, 0))
        await pilot.pause()
        assert footer.tooltip != "Create data fields from it"


async def test_a_row_carries_its_item_through_filtering_and_refills():
    """``selected_item`` is the value of the row under the cursor: the screens
    need no lookup by key (and two items with the same text stay apart)."""

    @dataclass(frozen=True)
    class Thing:
        id: int
        name: str

    things = [Thing(1, "Alpha"), Thing(2, "Beta"), Thing(3, "Beta")]

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield FilterTable(("Name",))

    app = One()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FilterTable)
        assert table.selected_item is None  # no rows yet
        table.set_rows([Row(str(t.id), (t.name,), item=t) for t in things])
        assert table.selected_item is things[0]
        table.set_rows([Row(str(t.id), (t.name,), item=t) for t in things], select="3")
        assert table.selected_item is things[2]
        table.focus_table()
        await pilot.press("slash", "b", "e", "t", "enter")
        await pilot.pause()
        assert table.row_count == 2 and table.selected_item is things[1]
        await pilot.press("down")
        assert table.selected_item is things[2]
        table.set_rows([])
        assert table.selected_item is None


async def test_rows_added_after_keep_the_cursor_and_the_filter():
    """``add_rows`` (the next page of a long list): nothing is refilled, the
    cursor stays, and while the list is narrowed only the new matches show."""

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield FilterTable(("Name",))

    app = One()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows([Row("1", ("alpha",), item=1), Row("2", ("beta",), item=2)])
        table.table.move_cursor(row=1)
        table.add_rows([Row("3", ("alphabet",), item=3), Row("4", ("gamma",), item=4)])
        assert table.row_count == 4 and table.selected_item == 2
        table.focus_table()
        await pilot.press("slash", "a", "l")
        await pilot.pause()
        assert table.row_count == 2  # alpha, alphabet
        table.add_rows([Row("5", ("alps",), item=5), Row("6", ("delta",), item=6)])
        assert table.row_count == 3
        assert [table.table.get_row_at(i)[0].plain for i in range(3)] == [
            "alpha",
            "alphabet",
            "alps",
        ]
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 6


class _Notes(App):
    CSS = "#fixed { height: 1; } #auto { height: auto; }"

    def compose(self) -> ComposeResult:
        yield Static("one line", id="auto")
        yield Static("one line", id="fixed")
        yield Static("below", id="below")


async def test_a_rewritten_note_is_laid_out_only_when_its_height_changes():
    app = _Notes()
    async with app.run_test(size=(40, 10)) as pilot:
        auto, fixed, below = (app.query_one(f"#{n}", Static) for n in ("auto", "fixed", "below"))
        layouts: list[bool] = []
        for widget in (auto, fixed):
            refresh = widget.refresh

            def counting(*regions, _refresh=refresh, layout=False, **kw):  # type: ignore[no-untyped-def]
                layouts.append(layout)
                return _refresh(*regions, layout=layout, **kw)

            widget.refresh = counting  # type: ignore[method-assign]
        update_in_place(auto, Text("another line"))  # one line still: no layout
        update_in_place(fixed, Text("word " * 30))  # a fixed height: never a layout
        assert layouts and not any(layouts)
        await pilot.pause()
        assert "another line" in str(auto.render()) and below.region.y == 2
        update_in_place(auto, Text("word " * 20))  # three lines at 40 columns: laid out
        assert any(layouts)
        await pilot.pause()
        assert auto.size.height == 3 and below.region.y == 4  # what is below moved down

"""tui/textual_compat.py: each use of Textual's private API still does what the
program relies on. A Textual upgrade that changes one of them fails here, by
name, instead of somewhere in a screen."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static

from tui import textual_compat as compat
from tui.widgets.filter_table import FilterInput, measure_cell


class _Keys(Widget, can_focus=True):
    # Ids without a dot: not the program's (the README lists those, tests/tui/test_keys.py).
    BINDINGS = [
        Binding("x", "noop", "Do x", id="compat_x"),
        Binding("y", "noop", "Do y", id="compat_y"),
    ]

    def action_noop(self) -> None:
        pass


class _App(App[None]):
    BINDINGS = [Binding("z", "noop", "Do z", id="compat_z")]

    def compose(self) -> ComposeResult:
        yield Static("under the dialog", id="text")
        yield _Keys(id="keys")

    def action_noop(self) -> None:
        pass


class CompatDialog(ModalScreen[None]):
    DEFAULT_CSS = "CompatDialog > Static { margin-top: 3; }"

    def compose(self) -> ComposeResult:
        yield Static("in the dialog")


async def test_is_exiting_follows_exit():
    app = _App()
    async with app.run_test():
        assert compat.is_exiting(app) is False
        app.exit()
        assert compat.is_exiting(app) is True


async def test_updates_held_follows_delay_update():
    app = _App()
    async with app.run_test() as pilot:
        assert compat.updates_held(app) is False
        app.delay_update(0.05)
        assert compat.updates_held(app) is True
        await pilot.pause(0.1)
        assert compat.updates_held(app) is False


async def test_hold_frames_holds_until_released_or_its_time():
    from ..ui import wait_until

    app = _App()
    async with app.run_test() as pilot:
        release = compat.hold_frames(app, 30)
        assert compat.updates_held(app) is True
        release()
        release()  # once: a second call ends nothing more
        assert compat.updates_held(app) is False
        compat.hold_frames(app, 0.05)  # never released: its timer ends it
        assert compat.updates_held(app) is True
        await wait_until(pilot, lambda: not compat.updates_held(app))


async def test_on_new_worker_sees_run_worker_and_work_decorated_workers():
    from textual import work

    seen: list[str] = []

    class _Working(_App):
        @work(thread=True, name="decorated")
        def decorated(self) -> None:
            pass

    app = _Working()
    async with app.run_test() as pilot:
        compat.on_new_worker(app, lambda w: seen.append(w.name))
        app.run_worker(lambda: None, thread=True, name="plain")
        app.decorated()
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert seen == ["plain", "decorated"]


async def test_crash_of_is_the_exception_that_ended_the_app():
    class _Crashing(_App):
        def on_mount(self) -> None:
            raise RuntimeError("boom")

    app = _Crashing()
    assert compat.crash_of(app) is None
    raised = None
    try:
        async with app.run_test():
            pass
    except RuntimeError as exc:
        raised = exc
    crash = compat.crash_of(app)
    assert isinstance(crash, RuntimeError) and str(crash) == "boom"
    assert raised is crash  # the one Pilot re-raises


async def test_clear_local_clipboard_empties_what_ctrl_v_pastes():
    app = _App()
    async with app.run_test():
        app.copy_to_clipboard("a secret")
        assert app.clipboard == "a secret"
        compat.clear_local_clipboard(app)
        assert app.clipboard == ""


async def test_notifications_are_those_on_screen():
    app = _App()
    async with app.run_test(notifications=True) as pilot:
        assert compat.notifications(app) == []
        app.notify("first")
        app.notify("second", severity="warning")
        await pilot.pause()
        assert [n.message for n in compat.notifications(app)] == ["first", "second"]
        app.clear_notifications()
        assert compat.notifications(app) == []


async def test_render_screen_draws_a_dialog_over_its_background():
    app = _App()
    async with app.run_test(size=(40, 6)) as pilot:
        await app.push_screen(CompatDialog())
        text = ""
        # Under load the first frames may not hold both layers yet: wait for them.
        for _ in range(500):  # up to 10 s
            await pilot.pause(0.02)
            console = Console(width=40, height=6, file=io.StringIO(), record=True)
            console.print(compat.render_screen(app))
            text = console.export_text()
            if "in the dialog" in text and "under the dialog" in text:
                break
        assert "in the dialog" in text and "under the dialog" in text


async def test_keymap_is_the_one_set():
    app = _App()
    async with app.run_test():
        assert dict(compat.keymap(app)) == {}
        app.set_keymap({"compat_x": "q"})
        assert compat.keymap(app)["compat_x"] == "q"


async def test_bindings_of_a_class_and_of_a_node_and_the_chain_in_force():
    assert [b.id for b in compat.bindings_of(_Keys)] == ["compat_x", "compat_y"]
    app = _App()
    async with app.run_test() as pilot:
        app.set_keymap({"compat_x": "q"})
        keys = app.query_one(_Keys)
        keys.focus()
        await pilot.pause()
        # A node's own bindings: as declared, in their order (the keymap is
        # applied to them when the chain in force is built).
        assert [(b.id, b.key) for b in compat.bindings_of(keys)] == [
            ("compat_x", "x"),
            ("compat_y", "y"),
        ]
        own = compat.node_bindings(keys)
        assert isinstance(own, BindingsMap) and "x" in own.key_to_bindings
        chain = compat.binding_chain(app.screen)
        assert chain[0][0] is keys  # from the focused widget outwards
        assert "q" in chain[0][1].key_to_bindings and "x" not in chain[0][1].key_to_bindings
        assert all(isinstance(b, BindingsMap) for _, b in chain)
        assert any(node is app and "z" in b.key_to_bindings for node, b in chain)


async def test_action_target_resolves_as_run_action_does():
    app = _App()
    async with app.run_test():
        keys = app.query_one(_Keys)
        # No namespace: the node given; "app." and "screen.": those nodes.
        assert compat.action_target(app, "noop", keys) == (keys, "noop")
        assert compat.action_target(app, "app.noop", keys) == (app, "noop")
        assert compat.action_target(app, "screen.noop(1)", keys) == (app.screen, "noop")


async def test_watchers_of_a_removed_widget_are_dropped():
    class Watcher(Widget):
        def on_mount(self) -> None:
            self.watch(self.app, "sub_title", lambda _value: None)

    app = _App()
    async with app.run_test() as pilot:
        before = len(compat.watchers_of(app))
        watcher = Watcher()
        await app.mount(watcher)
        await pilot.pause()
        assert [n for n, _ in compat.watchers_of(app)].count(watcher) == 1
        await watcher.remove()
        await pilot.pause()
        compat.drop_closed_watchers(app)
        assert watcher not in [n for n, _ in compat.watchers_of(app)]
        assert len(compat.watchers_of(app)) == before


def test_underline_is_textuals_tab_rule():
    underline = compat.Underline()
    assert isinstance(underline, Widget)
    underline.highlight_start, underline.highlight_end = 2, 5
    assert (underline.highlight_start, underline.highlight_end) == (2, 5)
    assert compat.Underline.__module__ == "textual.widgets._tabs"


async def test_quick_data_table_measures_new_cells_with_its_own_function():
    measured: list[object] = []

    def count(console, renderable, default, *, container_width=None) -> int:
        measured.append(renderable)
        return 7

    class Counting(compat.QuickDataTable):
        cell_measure = staticmethod(count)

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            yield Counting()

    app = Two()
    async with app.run_test() as pilot:
        table = app.query_one(Counting)
        table.add_columns("A", "B")
        table.add_rows([(Text("x"), Text("y"))])
        await pilot.pause()
        assert measured, "DataTable no longer measures new cells through its module's measure"
        assert [c.get_render_width(table) for c in table.ordered_columns] == [9, 9]
        # Put back: a plain DataTable measures as Textual does.
        from textual.render import measure
        from textual.widgets import _data_table

        assert _data_table.measure is measure


async def test_quick_data_table_follows_column_changes():
    """The ordered-columns cache is keyed on DataTable's column locations dict."""
    app = App[None]()
    async with app.run_test():
        table = compat.QuickDataTable()
        await app.mount(table)
        assert isinstance(table._column_locations, object)  # the key of the cache
        table.add_columns("A", "B")
        assert [str(c.label) for c in table.ordered_columns] == ["A", "B"]
        table.clear(columns=True)
        table.add_columns("C")
        assert [str(c.label) for c in table.ordered_columns] == ["C"]
        assert isinstance(table, DataTable)


async def test_a_key_handler_that_prevents_default_stops_inputs_own():
    """FilterInput's `/` in a picker: a subclass's ``on_key`` with
    ``prevent_default`` keeps Input's own key handler from typing it."""

    class Picker(Widget):
        typeahead = True

        def compose(self) -> ComposeResult:
            yield FilterInput()

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Picker()

    app = One()
    async with app.run_test() as pilot:
        box = app.query_one(FilterInput)
        box.focus()
        await pilot.pause()
        await pilot.press("slash", "a", "slash")
        assert box.value == "a/"


def test_no_private_name_of_another_object_outside_this_module():
    """Only tui/textual_compat.py reaches into another object's ``_`` names or
    Textual's private modules (the program's own ``self._x`` are its own)."""
    import re
    from pathlib import Path

    root = Path(compat.__file__).parent
    # os._exit is public (documented): the one exception.
    other = re.compile(r"\b(?!self\b)(?!os\._exit\b)[A-Za-z_]\w*(?:\(\))?\._[a-z]\w*")
    private_module = re.compile(r"textual(\.\w+)*\._\w+|from textual\.\w+ import [^#\n]*\b_\w+")
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "textual_compat.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if other.search(code) or private_module.search(code):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert found == []


async def test_quick_data_table_redraws_rows_drawn_before_their_columns_widened():
    """Refilled with a wider value, a table may be drawn once before its idle
    handler measures the new cells; DataTable then widens the column but keeps
    serving the lines it drew (its line cache is keyed on the row's position,
    not its content): "99 SEK" stayed "99 S…" on a contract page refreshed by
    its poll. QuickDataTable clears its caches when a column widened."""
    from textual.geometry import Region

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield compat.QuickDataTable()

    app = One()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(compat.QuickDataTable)
        table.add_columns("Value", "Source")
        table.add_rows([(Text("1", no_wrap=True, overflow="ellipsis"), Text("x"))])
        await pilot.pause()
        table.clear()
        table.add_rows([(Text("99 SEK", no_wrap=True, overflow="ellipsis"), Text("x"))])
        # Drawn now, before the idle handler measures the new row.
        table.render_lines(Region(0, 0, table.size.width, table.size.height))
        await pilot.pause()
        await pilot.pause()
        line = table.render_line(1).text
        assert "99 SEK" in line, line


def _live_styles_caches() -> int:
    import gc

    from textual._styles_cache import StylesCache

    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, StylesCache))


async def test_unpin_render_caches_frees_the_render_caches_of_removed_widgets():
    """Textualize/textual#6665: ``StylesCache.get_inner_outer`` is an lru_cache on
    a method, so it keeps every drawn widget's StylesCache (and the lines it
    drew) after the widget is gone. Unpinned, widgets drawn and removed leave
    none behind, and the method answers as Textual's does."""
    from textual._styles_cache import StylesCache
    from textual.color import Color
    from textual.containers import Vertical
    from textual.widgets import Label

    class Cards(Screen[None]):
        def compose(self) -> ComposeResult:
            with Vertical():
                yield from (Label(f"card {i}") for i in range(40))

    async def draw_and_remove(app, pilot) -> int:
        # A screen of 40 widgets shown and closed, as a page is.
        await app.push_screen(Cards())
        await pilot.pause()
        await app.screen.wait_for_refresh()
        await app.pop_screen()
        await pilot.pause()
        await app.screen.wait_for_refresh()
        return _live_styles_caches()

    app = _App()
    try:
        async with app.run_test(size=(40, 50)) as pilot:
            compat.repin_render_caches()  # Textual as it is: the leak is still there
            StylesCache.get_inner_outer.cache_clear()
            before = _live_styles_caches()
            assert await draw_and_remove(app, pilot) >= before + 40
            compat.unpin_render_caches()
            compat.unpin_render_caches()  # twice changes nothing
            assert await draw_and_remove(app, pilot) <= before + 1
            assert await draw_and_remove(app, pilot) <= before + 1
            base, background = Color(10, 20, 30), Color(200, 100, 50, 0.5)
            compat.repin_render_caches()
            expected = StylesCache().get_inner_outer(base, background)
            compat.unpin_render_caches()
            assert StylesCache().get_inner_outer(base, background) == expected
    finally:
        compat.unpin_render_caches()  # as every IntegrationsAdmin leaves it


class _Field(App[None]):
    def compose(self) -> ComposeResult:
        from textual.widgets import Input

        yield Input("Customer master", id="field", select_on_focus=False)


async def test_keys_that_arrive_together_reach_an_input_in_their_order():
    """keys_in_order (textual#6605): keys parsed from one read are posted to the
    App at once, as the driver does; the Input applies its bound keys (here
    backspace, end, left, home) in turn with the printable ones."""
    from textual import events
    from textual.widgets import Input

    compat.keys_in_order()
    app = _Field()
    async with app.run_test() as pilot:
        field = app.query_one("#field", Input)
        field.focus()
        await pilot.pause()
        burst = ["end", "left", "left", "backspace", "X", "home", "Y"]
        burst += ["end", "backspace", "backspace", "O", "m", "e", "g", "a"]
        for key in burst:
            char = key if len(key) == 1 else ("\x7f" if key == "backspace" else None)
            app.post_message(events.Key(key, char))  # all queued before any is handled
        for _ in range(10):
            await pilot.pause()
        assert field.value == "YCustomer masXOmega"


# -- a Text cell drawn without Styled(Padding(...)) -----------------------------------

_ALPHABET = "abc XYZ 日本 é\u200b-_.[]/\x1b\t"


def _cells(seed: int, n: int) -> list[Text]:
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 40)))
        t = Text(
            s,
            no_wrap=rng.random() < 0.8,
            overflow=rng.choice(["ellipsis", "crop", "fold", None]),
            justify=rng.choice([None, "left", "right", "center", "full", "default"]),
            style=rng.choice(["", "bold", "green on blue", "italic #ff8800"]),
        )
        if s and rng.random() < 0.5:
            a = rng.randint(0, len(s))
            t.stylize(rng.choice(["red", "underline", "reverse"]), a, a + rng.randint(1, 6))
        out.append(t)
    return out


_ASCII = "abcXYZ 019-_.:/[]'\"@"


def _plain_cells(seed: int, n: int) -> list[Text]:
    """Cells shaped as the program's (``literal``: printable text, no_wrap,
    ellipsis; a status in its colour; a right-aligned figure), most of which
    ``textual_compat._plain_line`` draws, and near misses that it must leave
    to Rich (a span, centred, a character two cells wide or none, a tab or a
    control character, wrapping allowed, a style Rich cannot parse)."""
    import random

    rng = random.Random(seed)
    edges = [
        Text("", style="bold", no_wrap=True),
        Text("", justify="right", no_wrap=True),
        Text("   ", justify="right", style="bold", no_wrap=True),
        Text("ab  ", justify="left", style="dim", no_wrap=True),
        Text("x" * 50, style="green", justify="right", overflow="ellipsis", no_wrap=True),
        Text("\u2026" * 30, justify="left", overflow="crop", no_wrap=True),
    ]
    out = edges[:n]
    for _ in range(n - len(out)):
        s = "".join(rng.choice(_ASCII) for _ in range(rng.choice([0, 1, 2, 5, 16, 17, 18, 45])))
        overflow = rng.choice(["ellipsis", "ellipsis", "crop", "fold", None])
        t = Text(s, no_wrap=True, overflow=overflow)
        if rng.random() < 0.3:
            t.style = rng.choice(["bold", "green on blue", "italic #ff8800", "dim"])
        if rng.random() < 0.3:
            t.justify = rng.choice(["left", "right", "default"])
        if rng.random() < 0.2:
            t.plain = rng.choice(["\u2026", "\u00e9", "  "]) + s + rng.choice(["\u2192", " ", ""])
        miss = rng.randrange(10)
        if miss == 0 and s:
            t.stylize("red", 0, 1)
        elif miss == 1:
            t.justify = rng.choice(["center", "full"])
        elif miss == 2:
            t.plain = s + rng.choice(["\t", "\x1b", "\u65e5", "e\u0301", "\u200b"])
        elif miss == 3:
            t.no_wrap = rng.choice([False, None])
        elif miss == 4:
            t.style = "not-a-colour"
        out.append(t)
    return out


class _Table(App[None]):
    def __init__(self, cells: list[Text], columns: int, **table: object) -> None:
        super().__init__()
        self.cells, self.columns, self.table_args = cells, columns, table

    def compose(self) -> ComposeResult:
        table = compat.QuickDataTable(**self.table_args)  # type: ignore[arg-type]
        table.add_columns(*(f"c{i}" for i in range(self.columns)))
        rows = [self.cells[i : i + self.columns] for i in range(0, len(self.cells), self.columns)]
        table.add_rows([r for r in rows if len(r) == self.columns])
        yield table


async def test_text_cells_are_drawn_segment_for_segment_as_textual_draws_them():
    """``QuickDataTable._render_cell`` against Textual's own, on 400 generated
    cells (wide, invisible and control characters, tabs, spans, every justify
    and overflow, wrapping allowed or not) at widths from 1 to 40, with and
    without the cursor and the hover, in zebra and fixed rows and columns."""
    from rich.style import Style

    drawn_plain = 0
    for seed, table_args in (
        (1, {"zebra_stripes": True, "cursor_type": "row"}),
        (2, {"cursor_type": "cell", "fixed_rows": 1, "fixed_columns": 1}),
        (3, {"show_cursor": False, "cell_padding": 0}),
        (4, {"cell_padding": 2}),
        (-5, {"zebra_stripes": True, "cursor_type": "row"}),
        (-6, {"cell_padding": 0}),
    ):
        make = _plain_cells if seed < 0 else _cells
        app = _Table(make(abs(seed), 100), 5, **table_args)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            table = app.query_one(compat.QuickDataTable)
            base = table.rich_style
            compared = 0
            for row in range(table.row_count):
                for column in range(5):
                    for width in (1, 2, 5, 17, 40):
                        for cursor, hover in ((False, False), (True, False), (False, True)):
                            for style in (base, base + Style(bgcolor="grey11")):
                                table._cell_render_cache.clear()
                                ours = table._render_cell(row, column, style, width, cursor, hover)
                                table._cell_render_cache.clear()
                                textual = DataTable._render_cell(
                                    table, row, column, style, width, cursor, hover
                                )
                                assert ours == textual, (row, column, width, table.get_row_at(row))
                                compared += 1
                                cell = table.get_row_at(row)[column]
                                inner = width - 2 * table.cell_padding
                                plain = compat._plain_line(cell, inner, app.console)
                                if inner >= 1 and plain is not None:
                                    drawn_plain += 1
            assert compared == 20 * 5 * 5 * 3 * 2
    assert drawn_plain, "no cell took the plain short cut"


async def test_a_table_draws_the_same_lines_either_way():
    """Whole lines, through the table's own drawing (cursor, zebra, column
    widths): the short cut on and off give the same strips."""
    app = _Table(_cells(7, 200), 4, zebra_stripes=True, cursor_type="row")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(compat.QuickDataTable)
        table.move_cursor(row=3)
        await pilot.pause()

        def lines() -> list:
            table._cell_render_cache.clear()
            table._row_render_cache.clear()
            table._line_cache.clear()
            return [table.render_line(y) for y in range(table.size.height)]

        ours = lines()
        table._render_cell = lambda *a, **k: DataTable._render_cell(table, *a, **k)  # type: ignore[method-assign]
        assert lines() == ours


@pytest.mark.parametrize(
    "table_args",
    [
        {"zebra_stripes": True, "cursor_type": "row"},
        {"cursor_type": "cell"},
        {"cursor_type": "column", "zebra_stripes": True},
        {"cursor_type": "none"},
        {"cursor_type": "row", "show_cursor": False, "cell_padding": 0},
        {"cursor_type": "cell", "fixed_rows": 2, "fixed_columns": 1},  # Textual's path
        {"cursor_type": "row", "show_header": False, "cell_padding": 3},
    ],
)
@pytest.mark.parametrize("width", [70, 300])
async def test_whole_drawings_are_textuals(table_args, width):
    """``QuickDataTable.render_lines`` (its styles kept for the pass, its own
    ``render_line``, ``_get_row_style``, ``_render_line_in_row`` and cells)
    against DataTable's own methods, strip for strip, focused and not, with the
    cursor and the hover on a row, scrolled and not; in a screen narrower than
    the table and in one wider (the filler right of the last column)."""
    from textual.coordinate import Coordinate
    from textual.geometry import Region

    cells = _plain_cells(8, 240) + _cells(9, 60)
    app = _Table(cells, 5, **table_args)
    async with app.run_test(size=(width, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(compat.QuickDataTable)
        table.move_cursor(row=4, column=2)
        await pilot.pause()

        def drawing() -> list:
            table._cell_render_cache.clear()
            table._row_render_cache.clear()
            table._line_cache.clear()
            table._styles_cache.clear()
            size = table.size
            return table.render_lines(Region(0, 0, size.width, size.height))

        textuals = {
            name: getattr(DataTable, name)
            for name in (
                "render_lines",
                "render_line",
                "_get_row_style",
                "_render_line_in_row",
                "_render_cell",
            )
        }
        for focused, hover, scroll in ((True, None, 0), (False, (6, 1), 0), (True, (5, 0), 7)):
            if focused:
                table.focus()
            else:
                app.set_focus(None)
            table._show_hover_cursor = hover is not None
            table.hover_coordinate = Coordinate(*hover) if hover else Coordinate(-1, -1)
            table.scroll_to(y=scroll, animate=False, immediate=True)
            await pilot.pause()
            ours = drawing()
            for name, method in textuals.items():
                setattr(table, name, method.__get__(table))
            try:
                assert drawing() == ours, (focused, hover, scroll)
            finally:
                for name in textuals:
                    delattr(table, name)


class _Filled(App[None]):
    """Two tables side by side: rows added the program's way and Textual's way."""

    def __init__(self, columns: int, **table: object) -> None:
        super().__init__()
        self.columns, self.table_args = columns, table
        self.highlighted: dict[str, list[int]] = {"ours": [], "textual": []}

    def compose(self) -> ComposeResult:
        for name in ("ours", "textual"):
            table = compat.QuickDataTable(id=name, **self.table_args)  # type: ignore[arg-type]
            table.cell_measure = measure_cell  # as the program's lists (RowTable)
            table.add_columns(*(f"c{i}" for i in range(self.columns)))
            yield table

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.highlighted[event.data_table.id or ""].append(event.cursor_row)


def _state(table: DataTable) -> tuple:
    rows = [table.rows[table._row_locations.get_key(i)] for i in range(table.row_count)]
    return (
        [table.get_row_at(i) for i in range(table.row_count)],
        [(r.height, r.label, r.auto_height) for r in rows],
        [c.content_width for c in table.ordered_columns],
        table._update_count,
        table.cursor_coordinate,
        table.virtual_size,
        len(table._new_rows),
    )


async def test_rows_added_in_one_pass_are_the_rows_textual_adds():
    """``QuickDataTable.add_rows`` (one pass) and Textual's (an ``add_row`` each):
    the same data, rows, column widths once measured (``_measure_plain_rows``
    for Text cells, Textual's own for the others), update count, cursor,
    virtual size and highlight messages, on an empty table and when a page is
    added to a filled one, for Text, plain and markup strings, numbers and
    missing cells."""
    import random

    rng = random.Random(5)
    texts = _cells(11, 300)

    def page(n: int, mixed: bool) -> list[tuple]:
        out = []
        for _ in range(n):
            row: list[object] = []
            for _ in range(rng.randint(2, 4)):  # short rows: missing cells are None
                choice = rng.random() if mixed else 0.0
                if choice < 0.7:
                    row.append(rng.choice(texts))
                elif choice < 0.8:
                    row.append(rng.choice(["plain", "[bold]markup[/]", "日本語", ""]))
                elif choice < 0.9:
                    row.append(rng.choice([3, 2.5, 10**9]))
                else:
                    row.append(None)
            out.append(tuple(row))
        return out

    for mixed, table_args in (
        (False, {"cursor_type": "row", "zebra_stripes": True}),
        (True, {"cursor_type": "cell"}),
        (True, {"show_cursor": False}),
    ):
        app = _Filled(4, **table_args)
        async with app.run_test(size=(160, 40)) as pilot:
            ours = app.query_one("#ours", compat.QuickDataTable)
            textual = app.query_one("#textual", compat.QuickDataTable)
            for rows in (page(120, mixed), page(37, mixed), []):
                keys = ours.add_rows(rows)
                assert len(keys) == len(rows) == len(set(keys))
                DataTable.add_rows(textual, rows)
                await pilot.pause()
                await pilot.pause()
                assert _state(ours) == _state(textual)
            assert app.highlighted["ours"] == app.highlighted["textual"]
            ours.clear()
            textual.clear()
            again = page(5, mixed)
            ours.add_rows(again)
            DataTable.add_rows(textual, again)
            await pilot.pause()
            assert _state(ours) == _state(textual) and ours.row_count == 5
            assert app.highlighted["ours"] == app.highlighted["textual"]
    with pytest.raises(ValueError):  # more cells than columns: Textual's refusal
        app = _Filled(2)
        async with app.run_test(size=(80, 24)):
            app.query_one("#ours", compat.QuickDataTable).add_rows([("a", "b", "c")])


class _Styled(Widget):
    DEFAULT_CSS = "_Styled { height: 3; background: $primary; }"


class _Section(Screen):
    def compose(self) -> ComposeResult:
        yield _Styled()


class _Sections(App):
    MODES = {
        "one": _Section,
        "two": lambda: compat.built_with_current_css(_Section()),
        "three": _Section,
    }
    DEFAULT_MODE = "one"


def _count_parses(monkeypatch) -> list[int]:
    """Each CSS source Textual's parser reads from now on."""
    from textual.css import stylesheet

    parsed: list[int] = []
    parse = stylesheet.parse

    def counting(*args, **kwargs):
        parsed.append(1)
        return parse(*args, **kwargs)

    monkeypatch.setattr(stylesheet, "parse", counting)
    return parsed


async def test_keep_parsed_css_parses_no_source_again_and_styles_the_same(monkeypatch):
    app = _Sections()
    async with app.run_test() as pilot:
        before = app.screen.query_one(_Styled).styles.background
        rules_before = len(app.stylesheet.rules)
        compat.keep_parsed_css(app)
        app.stylesheet.reparse()  # the first: every source parsed, into the kept cache
        counted = _count_parses(monkeypatch)
        app.refresh_css()  # Textual's own: a reparse, everything from scratch
        await pilot.pause()
        assert counted == []  # nothing parsed again (Textual's reparse parses every source)
        assert len(app.stylesheet.rules) == rules_before
        assert app.screen.query_one(_Styled).styles.background == before
        # Other variables (a theme) are parsed for themselves, and followed.
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        assert counted  # parsed for the new variables
        assert app.screen.query_one(_Styled).styles.background != before


async def test_the_program_parses_each_css_source_once_per_theme(store, owner, monkeypatch):
    """From the App's start to its first screen and a section, to another theme
    and back: no source parsed twice for the same theme (Textual's refresh_css
    emptied the cache as it set the variables: at the start the widgets' CSS
    was parsed three times over)."""
    from textual.css import stylesheet

    from tui.app import IntegrationsAdmin

    app = IntegrationsAdmin(store, owner)
    seen: list[tuple] = []
    parse = stylesheet.parse

    def noting(scope, css, read_from, *args, **kwargs):
        # (A class's CSS given a lower tie-breaker by a subclass is other rules.)
        seen.append((app.theme, css, read_from, kwargs.get("tie_breaker")))
        return parse(scope, css, read_from, *args, **kwargs)

    monkeypatch.setattr(stylesheet, "parse", noting)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("a")  # a section's first screen: refresh_css, twice
        await pilot.pause()
        at_start = len(seen)
        theme = app.theme
        app.theme = "nord" if theme != "nord" else "textual-light"
        await pilot.pause()
        assert len(seen) > at_start  # the other theme's variables: parsed for them
        back = len(seen)
        app.theme = theme
        await pilot.pause()
        assert len(seen) - back < at_start / 2  # most of the first theme's rules kept
    assert at_start and len(set(seen)) == len(seen)


async def test_a_section_built_with_current_css_is_not_restyled_whole(monkeypatch):
    app = _Sections()
    async with app.run_test() as pilot:
        refreshes: list[int] = []
        refresh = App.refresh_css
        monkeypatch.setattr(
            App, "refresh_css", lambda self, **kw: refreshes.append(1) or refresh(self, **kw)
        )
        app.switch_mode("three")  # Textual's own: a new section restyles everything, twice
        await pilot.pause()
        assert len(refreshes) == 2
        refreshes.clear()
        app.switch_mode("two")
        await pilot.pause()
        assert refreshes == []
        assert app.screen.query_one(_Styled).styles.height.value == 3  # styled as it mounted
        before_theme = app.screen.query_one(_Styled).styles.background
        app.switch_mode("one")
        await pilot.pause()
        # A section made before a theme change is restyled when it comes back.
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        refreshes.clear()
        app.switch_mode("two")
        await pilot.pause()
        assert refreshes  # it missed the theme: restyled
        one = app.get_screen_stack("one")[0] if hasattr(app, "get_screen_stack") else None
        shown = app.screen.query_one(_Styled).styles.background
        assert shown != before_theme
        if one is not None:
            assert shown == one.query_one(_Styled).styles.background


async def test_the_first_screen_marked_styled_is_not_restyled_when_it_comes_back(monkeypatch):
    refreshes: list[int] = []
    refresh = App.refresh_css
    monkeypatch.setattr(
        App, "refresh_css", lambda self, **kw: refreshes.append(1) or refresh(self, **kw)
    )
    for marked in (False, True):
        app = _Sections()
        async with app.run_test() as pilot:
            await pilot.pause()
            if marked:
                compat.first_screen_styled(app)
            app.switch_mode("two")
            await pilot.pause()
            refreshes.clear()
            app.switch_mode("one")
            await pilot.pause()
            # Textual's own start leaves it unmarked: restyled on the way back.
            assert len(refreshes) == (0 if marked else 1)
            assert app.screen.query_one(_Styled).styles.height.value == 3


def _tick_after_an_idle(monkeypatch) -> float:
    """On a clock of its own (no real time, so no load can change it): a 100 ms
    timer ticks at 0.1 and pauses; resumed at 0.55 after an idle, it ticks at
    once and pauses; resumed straight after, when does it tick next?"""
    import asyncio

    from textual import _time, timer

    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += max(0.0, seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(_time, "get_time", lambda: clock[0])
    monkeypatch.setattr(_time, "sleep", sleep)
    monkeypatch.setattr(timer, "sleep", sleep)

    class Target:
        pass

    async def scenario() -> list[float]:
        target = Target()
        t = timer.Timer(target, 0.1, pause=True)
        ticks: list[float] = []

        async def tick(**_kw) -> None:
            t.pause()
            ticks.append(round(clock[0], 3))

        t._tick = tick  # type: ignore[method-assign]
        task = asyncio.create_task(t._run())
        t.resume()
        for _ in range(20):
            await asyncio.sleep(0)
        clock[0] = 0.55  # idle meanwhile: points 0.3, 0.4, 0.5 of its grid missed
        t.resume()
        for _ in range(20):
            await asyncio.sleep(0)
        t.resume()  # (the frame after a key's echo)
        for _ in range(20):
            await asyncio.sleep(0)
        task.cancel()
        return ticks

    ticks = asyncio.run(scenario())
    assert ticks[:2] == [0.1, 0.55], ticks
    return ticks[2]


def test_a_timer_after_an_idle_ticks_at_the_next_point_of_its_grid(monkeypatch):
    """The frame after a key's echo: with Textual's timer the tick after the one
    that ended an idle came a point of the grid too late (0.7 where 0.6 is the
    next); now at the next point, and the rest as Textual's."""
    compat.upstream_frame_timing()
    try:
        assert _tick_after_an_idle(monkeypatch) == 0.7
    finally:
        compat.next_frame_on_time()
    assert _tick_after_an_idle(monkeypatch) == 0.6

"""Every use of Textual's private API, in one place, behind small functions.

The program reaches into Textual where its public API has no way to do what is
needed (each function says why). A Textual upgrade that changes one of these
internals breaks here and in tests/tui/test_textual_compat.py, which checks each of
them, and nowhere else. Nothing else in tui/ touches a Textual name that starts
with ``_``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rich.cells import get_character_cell_size as _cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.css.stylesheet import Stylesheet
from textual.widgets import DataTable, _data_table

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.app import App
    from textual.binding import Binding, BindingsMap
    from textual.dom import DOMNode
    from textual.notifications import Notification
    from textual.screen import Screen
    from textual.widgets._tabs import Underline as Underline


def __getattr__(name: str) -> Any:
    # Underline: the rule under the tab titles (TabbedContent's, which has no public
    # name). Imported when asked, not with this module (it is on the first paint's path).
    if name == "Underline":
        from textual.widgets._tabs import Underline

        return Underline
    raise AttributeError(name)


# -- the app ---------------------------------------------------------------------


def is_exiting(app: App) -> bool:
    """Whether ``app.exit()`` was called (the app is being taken down); Textual
    has no public flag for it."""
    return bool(app._exit)


def mode_built(app: App, mode: str) -> bool:
    """Whether a mode's (a section's) screen exists: it was shown before. Textual
    says which modes exist (``MODES``), not which were built."""
    return mode in app._screen_stacks


def updates_held(app: App) -> bool:
    """Whether the app holds back screen updates now (``batch_update`` or
    ``delay_update`` in force): a section switch must not (it showed nothing for
    50 ms)."""
    return bool(app._batch_count)


def hold_frames(app: App, seconds: float) -> Callable[[], None]:
    """Hold the screen's updates back for at most ``seconds`` (Textual's
    ``batch_update``, ended by a timer); the function returned ends the hold
    sooner. Either ends it once: what changed meanwhile is drawn in the next
    frame, together."""
    app._begin_batch()
    held = True

    def release() -> None:
        nonlocal held
        if held:
            held = False
            app._end_batch()

    app.set_timer(seconds, release, name="hold_frames")
    return release


def clear_local_clipboard(app: App) -> None:
    """Empty Textual's in-app clipboard (what ``ctrl+v`` pastes in an input):
    ``copy_to_clipboard`` also writes to the terminal, which is not wanted to
    forget a secret."""
    app._clipboard = ""


def notifications(app: App) -> list[Notification]:
    """The notifications on screen now."""
    return list(app._notifications)


def render_screen(app: App) -> RenderableType:
    """The whole screen as the terminal shows it (with the screens under a
    modal), for a text dump of the screen."""
    return app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)


def action_target(
    app: App,
    action: str,
    default_namespace: DOMNode,
    namespaces: Mapping[str, DOMNode] | None = None,
) -> tuple[DOMNode, str]:
    """The node an action string runs on (``app.``, ``screen.``, ... or
    ``default_namespace``) and the action's name, as ``run_action`` resolves
    them (Textual's ``_parse_action``): to ask that node why it refuses the
    action before Textual silently drops a disabled one."""
    target, name, _params = app._parse_action(action, default_namespace, namespaces)
    return target, name


def keymap(app: App) -> Mapping[str, str]:
    """The keymap in force (binding id -> keys), as ``set_keymap`` keeps it."""
    return app._keymap


def on_new_worker(app: App, callback: Callable[[Any], None]) -> None:
    """Call ``callback(worker)`` for every worker started on ``app`` (``run_worker``
    and ``@work`` of any node): the diagnostic log counts them. Textual has no
    hook for it; every new worker passes through the app's manager's
    ``add_worker``, wrapped here on this app's manager only."""
    manager = app.workers
    add = manager.add_worker

    def add_worker(worker: Any, start: bool = True, exclusive: bool = True) -> None:
        add(worker, start=start, exclusive=exclusive)
        callback(worker)

    manager.add_worker = add_worker  # type: ignore[method-assign]


def crash_of(app: App) -> BaseException | None:
    """The unhandled exception that ended ``app``, if one did (Textual keeps the
    first one for Pilot to re-raise, and prints it on exit)."""
    return app._exception


# -- bindings --------------------------------------------------------------------


def bindings_of(node: DOMNode | type[DOMNode]) -> Iterable[Binding]:
    """The bindings a node (or a class, with its bases') declares, in their
    order, as declared (the keymap is applied in ``binding_chain``)."""
    bindings = node._merged_bindings if isinstance(node, type) else node._bindings
    for _key, binding in bindings or ():
        yield binding


def node_bindings(node: DOMNode) -> BindingsMap:
    """A node's own bindings map, as declared (to give a binding another
    description, keeping its id and key). Its lists may be shared with the
    class's: replace a list, never edit one in place."""
    return node._bindings


def binding_chain(screen: Screen) -> list[tuple[DOMNode, BindingsMap]]:
    """The bindings in force on ``screen``, from the focused widget outwards,
    keymap applied: (node, its bindings)."""
    return screen._binding_chain


def keys_in_order() -> None:
    """Typing that arrives in one read (fast typing, a paste-like burst, an SSH
    connection that delivers a hiccup's keys together) reaches an Input in
    order. Textual's Input inserts a printable key in its ``_on_key`` but runs
    its bound keys (backspace, delete, the arrows, home, end...) only once the
    Key event has bubbled up to the App, through each ancestor's message queue
    (App._on_key: textual#6605). Keys that arrive together were applied out of
    order: "⌫⌫Omega" in the edit form left "Ome". The Input now runs its own
    (non-priority) binding for a key in ``_on_key``, in turn, as the App would
    have: the focused widget's bindings come first in the chain anyway. A
    binding that skips itself (SkipAction) leaves the key to the usual path.
    Installed once, for every Input (the forms', the filters', the palette's)."""
    from textual.widgets import Input

    if getattr(Input, "_keys_in_order", False):
        return
    key_as_printable = Input._on_key

    async def _on_key(self: Input, event: Any) -> None:
        if not event.is_printable:
            for binding in self._bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority and await self.app.run_action(binding.action, self):
                    event.stop()
                    event.prevent_default()
                    self._restart_blink()
                    return
        await key_as_printable(self, event)

    Input._on_key = _on_key  # type: ignore[method-assign]
    Input._keys_in_order = True  # type: ignore[attr-defined]


# -- watchers --------------------------------------------------------------------


def watchers_of(obj: object) -> list[tuple[DOMNode, Callable[..., Any]]]:
    """Every (watching node, callback) registered on ``obj`` by ``watch``."""
    return [w for ws in getattr(obj, "__watchers", {}).values() for w in ws]


def drop_closed_watchers(obj: object) -> None:
    """Forget the watchers of ``obj`` that belong to removed widgets.

    A workaround for Textualize/textual#6666 (open): a widget that watches a
    longer-lived object (``self.watch(self.app, "sub_title", ...)``, as every
    Header does, or ``data_bind``, as every Footer key does) stays in that
    object's private watcher list after it is removed, until the watched value
    changes, which for a title or a footer's ``compact`` is never. Each screen
    opened and closed then leaked its header and footer keys (about ten
    thousand objects), which made every later garbage collection slower.
    Textual itself drops them only when the watched value changes."""
    for watchers in getattr(obj, "__watchers", {}).values():
        watchers[:] = [(n, cb) for n, cb in watchers if not (n._closing or n._closed)]


# -- the stylesheet --------------------------------------------------------------


def keep_parsed_css(app: App) -> None:
    """Parse each CSS source once per set of variables, not at every ``reparse``.

    Textual's ``Stylesheet.reparse`` (every ``refresh_css``: each section's first
    screen runs it twice, in ``_init_mode`` and ``switch_mode``; a theme change
    once) parses every source again in a fresh ``Stylesheet`` whose parse cache
    starts empty: 15-25 ms of the 120 ms the audit log's first opening showed
    nothing. Here the fresh stylesheet starts from the rules already parsed for
    the same variables (a source's rules depend only on its text, where it was
    read from and the variables), so only new sources are parsed. The app's own
    stylesheet parses into the same cache, which ``set_variables`` no longer
    empties (``refresh_css`` sets the variables, even the same ones: at the start
    the widgets' CSS was then parsed a third time, 4 sources twice and 11 once
    where 11 were new, 7-9 ms of the first paint). Idempotent."""
    if type(app.stylesheet) is Stylesheet:
        app.stylesheet.__class__ = _ParsedOnce


def built_with_current_css(screen: Screen) -> Screen:
    """Mark a section's screen, made just now, as styled with the CSS in force.

    Textual's ``switch_mode`` refreshes the whole CSS for a section's first
    screen (its ``_css_update_count`` starts at -1, meant for a screen that missed
    a theme change): every source parsed again and every node of every open
    screen styled again, twice, ``_init_mode`` then ``switch_mode``. A screen
    made now misses nothing: its widgets are styled as they mount, as for a
    pushed screen (``push_screen`` refreshes nothing). A theme changed later
    still reaches it (its count then differs again). Not the first screen: at
    the start Textual's CSS is completed by that refresh (its theme's rules)."""
    from textual._context import active_app

    app = active_app.get()
    if any(app._screen_stacks.values()):
        screen._css_update_count = app._css_update_count
    return screen


def first_screen_styled(app: App) -> None:
    """Mark the first screen, drawn now, as styled with the CSS in force: Textual's
    start styles it without noting it (it is not mounted yet when its refresh
    runs), so coming back to it from another section restyled every node again."""
    if app.screen_stack:
        app.screen._css_update_count = app._css_update_count


def _css_variables_key(variables: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(variables.items()))


class _ParsedOnce(Stylesheet):
    """One parse cache per set of variables (a theme), used by this stylesheet's
    own parses and by the fresh stylesheets that ``reparse`` makes; plain dicts,
    not Textual's LRU of 64 (the program has more sources than that)."""

    def _kept(self) -> dict:
        caches = self.__dict__.setdefault("_by_variables", {})
        return caches.setdefault(_css_variables_key(self._variables), {})

    def set_variables(self, variables: dict[str, str]) -> None:
        # Textual's empties the parse cache: here that is only the kept cache of
        # some variables, still right for them; ``parse`` takes the one of the
        # new variables.
        self._parse_cache = {}  # type: ignore[assignment]
        super().set_variables(variables)

    def parse(self) -> None:
        self._parse_cache = self._kept()  # type: ignore[assignment]
        super().parse()

    def reparse(self) -> None:
        fresh = Stylesheet(variables=self._variables)
        fresh._parse_cache = self._kept()  # type: ignore[assignment]
        for read_from, (css, is_defaults, tie_breaker, scope) in self.source.items():
            fresh.add_source(
                css,
                read_from=read_from,
                is_default_css=is_defaults,
                tie_breaker=tie_breaker,
                scope=scope,
            )
        try:
            fresh.parse()
        except Exception:
            self._invalid_css.update(fresh._invalid_css)
            raise
        self._rules = fresh.rules
        self._rules_map = None
        self.source = fresh.source
        self._require_parse = False


# -- frames ----------------------------------------------------------------------

_UPSTREAM_TIMER_RUN: Callable[..., Any] | None = None


def next_frame_on_time() -> None:
    """A timer that missed ticks (paused while idle) ticks next at the next point
    of its grid, not one interval later.

    Textual's ``Timer._run`` skips missed ticks with ``count = int((now - start)
    / interval + 1)`` and then waits for ``start + (count + 1) * interval``: one
    point past the next. The screen's update timer (60 a second) is paused when
    nothing changes, so a key typed after a pause is drawn at once (its echo),
    and the frame after it, the one with the key's data, waited 1 to 2 frames
    (17-33 ms) instead of at most one: tests/tui/test_textual_compat.py shows a
    100 ms timer resumed 10 ms after such a tick firing 135-140 ms later.
    Here the same loop waits for the next point. Idempotent;
    ``upstream_frame_timing`` undoes it (the test compares the two)."""
    global _UPSTREAM_TIMER_RUN
    from textual import _time
    from textual.timer import EventTargetGone, Timer

    if _UPSTREAM_TIMER_RUN is not None:
        return
    _UPSTREAM_TIMER_RUN = Timer._run

    async def _run(self: Timer) -> None:
        # Textual's Timer._run (8.2), with the skip aimed at the next point.
        count = 0
        _repeat = self._repeat
        _interval = self._interval
        self._active  # noqa: B018 (made in this thread, as Textual's does)
        await self._active.wait()
        start = _time.get_time()
        while _repeat is None or count <= _repeat:
            next_timer = start + ((count + 1) * _interval)
            now = _time.get_time()
            if self._skip and next_timer < now:
                count = int((now - start) / _interval)  # Textual's: + 1
                continue
            await _time.sleep(max(0, next_timer - _time.get_time()))
            count += 1
            await self._active.wait()
            if self._reset:
                start = _time.get_time()
                count = 0
                self._reset = False
                continue
            try:
                await self._tick(next_timer=next_timer, count=count)
            except EventTargetGone:
                break

    Timer._run = _run  # type: ignore[method-assign]


def upstream_frame_timing() -> None:
    """Textual's own ``Timer._run`` again (for the test that compares them)."""
    global _UPSTREAM_TIMER_RUN
    from textual.timer import Timer

    if _UPSTREAM_TIMER_RUN is not None:
        Timer._run = _UPSTREAM_TIMER_RUN  # type: ignore[method-assign]
        _UPSTREAM_TIMER_RUN = None


# -- render caches ---------------------------------------------------------------

_UPSTREAM_INNER_OUTER: Callable[..., Any] | None = None


def unpin_render_caches() -> None:
    """Stop Textual keeping the render caches of removed widgets alive.

    A workaround for Textualize/textual#6665 (open): ``StylesCache.get_inner_outer``
    is a method under ``functools.lru_cache(1024)``, so the cache's key holds the
    widget's ``StylesCache`` itself (``self``), and with it every line (Strip) the
    widget drew, until 1,024 newer (widget, colours) pairs push it out. A playbook
    page with hundreds of widgets, opened and closed, stayed in memory that way:
    1.3-2 MB per opening. The method does not use ``self``: here the same values
    come from a cache keyed on the two colours alone (a handful of entries), and
    what the upstream cache holds is dropped. Idempotent; ``repin_render_caches``
    undoes it (for the test and the benchmark that measure Textual as it is)."""
    global _UPSTREAM_INNER_OUTER
    from textual._styles_cache import StylesCache

    if _UPSTREAM_INNER_OUTER is not None:
        return
    upstream = StylesCache.get_inner_outer
    _UPSTREAM_INNER_OUTER = upstream
    colours_only = lru_cache(1024)(upstream.__wrapped__)

    def get_inner_outer(self: object, base_background: Any, background: Any) -> Any:
        return colours_only(None, base_background, background)

    get_inner_outer.cache_clear = colours_only.cache_clear  # type: ignore[attr-defined]
    get_inner_outer.cache_info = colours_only.cache_info  # type: ignore[attr-defined]
    StylesCache.get_inner_outer = get_inner_outer  # type: ignore[method-assign]
    upstream.cache_clear()


def repin_render_caches() -> None:
    """Textual's own ``get_inner_outer`` back (undoes ``unpin_render_caches``)."""
    global _UPSTREAM_INNER_OUTER
    from textual._styles_cache import StylesCache

    if _UPSTREAM_INNER_OUTER is None:
        return
    StylesCache.get_inner_outer = _UPSTREAM_INNER_OUTER  # type: ignore[method-assign]
    _UPSTREAM_INNER_OUTER = None


# -- DataTable -------------------------------------------------------------------


_NULL_STYLE = Style.null()  # what Rich's Padding pads with (``get_style("none")``)
_EMPTY_TEXT = _data_table._EMPTY_TEXT  # what a missing cell is drawn as


class QuickDataTable(DataTable):
    """A DataTable with two short cuts into its internals, for lists of hundreds
    of rows (tests/tui/test_widgets.py checks that widths and column order stay
    Textual's own):

    - ``ordered_columns`` is kept between cells: DataTable rebuilds this list for
      every cell it measures or draws (3,500 times to open a playbook with its
      Mappings tab); the columns only change through add/remove/clear, which
      replace or grow the locations dict that this cache is keyed on;
    - new cells are measured by ``cell_measure`` (when set) instead of the
      module's ``measure``, which DataTable calls for every new cell;

    - a body cell holding a one-line ``Text`` in a row one line high (every
      list of this program) is drawn by ``_render_text_cell``: the segments
      Textual's ``_render_cell`` makes through ``Styled(Padding(cell))`` and
      two ``render_lines`` (its lock, options and generic dispatch), made
      directly from the same Rich pieces (``Text.wrap``, ``Text.render``,
      ``Segment.split_and_crop_lines``, ``Segment.apply_style``): 2 to 3 times
      faster for each cell, and a filter keystroke draws some 100 new cells.
      tests/tui/test_textual_compat.py compares the two, segment for segment,
      on generated cells and on every cell of a table drawn both ways; and
      a cell of printable one-cell characters with one style or none, no
      spans, justified left, right or not at all (``literal``, a status in its
      colour, a right-aligned figure) skips Rich's wrap and render
      (``_plain_line``);
    - the styles a line looks up (the table's, the zebra rows', the cursor's)
      are kept while one ``render_lines`` runs, and a line of a table without
      row labels or fixed columns is put together without the per-line header
      style and per-cell coordinates of Textual's ``_render_line_in_row``:
      20 rows of the audit log drew in 12.4 ms, now 6.5 (headless, medians);
      the tests compare whole drawings with Textual's, strip for strip;

    and one repair: when measuring new rows widens a column, the lines drawn
    are forgotten (``_clear_caches``). DataTable measures new rows when idle
    and keys its line cache on the line's position, not on its content: a
    table refilled with a wider value and drawn before its idle handler ran
    kept showing the value cut to the old width (a contract page's refresh)."""

    cell_measure: Callable[..., int] | None = None
    _ordered: tuple[object, int, list] | None = None
    # Styles looked up while one ``render_lines`` runs (None outside it), see there.
    _pass_styles: dict[object, Any] | None = None
    _after_drawn: list[Callable[[], object]] = []  # replaced, never changed in place

    def render_lines(self, crop: Any) -> list:  # type: ignore[override]
        """Textual's, with the styles its lines look up kept for this one pass:
        each line otherwise computes the table's style and one or two component
        styles again (``DOMNode.rich_style`` walks every ancestor), some 60 walks
        for 20 rows. Nothing can restyle the table while it draws (no await)."""
        self._pass_styles = {}
        try:
            return super().render_lines(crop)
        finally:
            self._pass_styles = None
            callbacks = self._after_drawn
            if callbacks:
                self._after_drawn = []
                for callback in callbacks:
                    # After the frame this drawing is part of (the compositor's
                    # pass runs to its end first: this goes through the queue).
                    self.call_next(callback)

    def call_after_drawn(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` (on the UI thread) once the table has next been drawn,
        after the frame that draws it. Unlike ``call_after_refresh``, which may
        run after a frame that did not include a change the table has yet to
        report to its screen."""
        self._after_drawn = [*self._after_drawn, callback]

    def _pass_style(self, key: str) -> Style:
        """The table's own style (``key`` "") or a component's, looked up once
        per drawing pass."""
        memo = self._pass_styles
        if memo is not None and key in memo:
            return memo[key]
        style = self.rich_style if not key else self.get_component_styles(key).rich_style
        if memo is not None:
            memo[key] = style
        return style

    def render_line(self, y: int) -> Any:
        if self.fixed_rows:
            return super().render_line(y)
        # Textual's for a table without fixed rows (their heights are then 0).
        scroll_x, scroll_y = self.scroll_offset
        fixed_rows_height = self.get_row_height(self._header_row_key) if self.show_header else 0
        if y >= fixed_rows_height:
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + self.size.width, self._pass_style(""))

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        if row_index == -1:
            return self._pass_style("datatable--header")
        if row_index < self.fixed_rows:
            return self._pass_style("datatable--fixed")
        if self.zebra_stripes:
            return self._pass_style(
                "datatable--odd-row" if row_index % 2 else "datatable--even-row"
            )
        return base_style

    def _render_line_in_row(  # type: ignore[override]
        self,
        row_key: Any,
        line_no: int,
        base_style: Style,
        cursor_location: Any,
        hover_location: Any,
    ) -> Any:
        """Textual's for a table without row labels shown or fixed columns (every
        table of this program; the others are Textual's): the same cache, cells
        and filler, without the header style Textual computes for every line
        (used only by labels and fixed columns) and the coordinates it builds
        for each cell to compare with the cursor's."""
        if (self._labelled_row_exists and self.show_row_labels) or self.fixed_columns:
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        cursor_type = self.cursor_type
        cache_key = (
            row_key,
            line_no,
            base_style,
            cursor_location,
            hover_location,
            cursor_type,
            self.show_cursor,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cache = self._row_render_cache
        if cache_key in cache:
            return cache[cache_key]
        row_index = self._row_locations.get(row_key) if row_key in self._row_locations else -1
        row_style = self._get_row_style(row_index, base_style)
        # DataTable._should_highlight, for each cell of this row.
        cursor_row, cursor_column = cursor_location
        hover_row, hover_column = hover_location
        if cursor_type in ("row", "cell"):
            cursor_on_row, hover_on_row = cursor_row == row_index, hover_row == row_index
        else:
            cursor_on_row = hover_on_row = cursor_type == "column"
        render_cell = self._render_cell
        scrollable_row = []
        table_width = 0
        for column_index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            table_width += width
            if cursor_type == "row":
                cursor, hover = cursor_on_row, hover_on_row
            else:
                cursor = cursor_on_row and cursor_column == column_index
                hover = hover_on_row and hover_column == column_index
            scrollable_row.append(
                render_cell(row_index, column_index, row_style, width, cursor=cursor, hover=hover)[
                    line_no
                ]
            )
        # The filler to the table's right edge, styled as Textual styles it.
        remaining_space = max(0, self.size.width - table_width - self._row_label_column_width)
        if cursor_type == "row":
            extend_style, _ = self._get_styles_to_render_cell(
                row_index == -1,
                False,
                False,
                hover_on_row,
                cursor_on_row,
                self.show_cursor,
                self._show_hover_cursor,
                False,
                False,
            )
            extend_style = row_style + extend_style
        elif row_style.bgcolor is not None:
            from textual.color import Color

            faded = Color.from_rich_color(row_style.bgcolor).blend(
                self.background_colors[1], factor=0.25
            )
            extend_style = Style.from_color(color=row_style.color, bgcolor=faded.rich_color)
        else:
            extend_style = Style.from_color(row_style.color, row_style.bgcolor)
        extend_style += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        scrollable_row.append([Segment(" " * remaining_space, extend_style)])
        row_pair: tuple[list, list] = ([], scrollable_row)
        cache[cache_key] = row_pair
        return row_pair

    @property
    def ordered_columns(self) -> list:  # type: ignore[override]
        locations, n = self._column_locations, len(self.columns)
        cached = self._ordered
        if cached is None or cached[0] is not locations or cached[1] != n:
            cached = (locations, n, super().ordered_columns)
            self._ordered = cached
        return cached[2]

    def _measure_plain_rows(self, new_rows: Iterable[Any]) -> list[Any]:
        """Widen the columns for the new rows of height 1 without a label whose
        cells are all ``Text`` or empty, as Textual's ``_update_dimensions``
        does (``cell_measure`` of each cell), without building and caching each
        row's renderables on the way; the other rows are left to Textual's
        (returned)."""
        assert self.cell_measure is not None
        measure_cell = self.cell_measure
        console = self.app.console
        columns = self.ordered_columns
        widths = [c.content_width for c in columns]
        rest = []
        for row_key in new_rows:
            if self._row_locations.get(row_key) is None:
                continue  # removed before the idle handler ran (as Textual skips it)
            row = self.rows.get(row_key)
            data = self._data.get(row_key)
            if row is None or data is None or row.label is not None or row.height != 1:
                rest.append(row_key)
                continue
            cells = [data.get(c.key) for c in columns]
            if not all(cell is None or type(cell) is Text for cell in cells):
                rest.append(row_key)
                continue
            for i, cell in enumerate(cells):
                width = measure_cell(console, _EMPTY_TEXT if cell is None else cell, 1)
                if width > widths[i]:
                    widths[i] = width
        for column, width in zip(columns, widths, strict=True):
            column.content_width = width
        return rest

    def _render_cell(  # type: ignore[override]
        self,
        row_index: int,
        column_index: int,
        base_style: Any,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        if row_index < 0 or column_index < 0 or width - 2 * self.cell_padding < 1:
            # The header, row labels, a cell too narrow for its padding: Textual's.
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        # Textual's cache and its key (DataTable._render_cell).
        cell_cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cache = self._cell_render_cache
        if cell_cache_key in cache:
            return cache[cell_cache_key]
        row = self.rows.get(row_key) if row_key is not None else None
        lines = None
        if row is not None and row.height == 1 and not row.auto_height:
            _, cells = self._get_row_renderables(row_index)
            cell = cells[column_index] if column_index < len(cells) else None
            if type(cell) is Text:
                lines = self._render_text_cell(
                    cell, row_index, column_index, base_style, width, cursor, hover
                )
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cache[cell_cache_key] = lines
        return lines

    def _render_text_cell(
        self,
        cell: Text,
        row_index: int,
        column_index: int,
        base_style: Any,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]] | None:
        """What Textual's ``_render_cell`` makes of a ``Text`` in a row of height
        1 (``Styled(Padding(cell, (0, cell_padding)))`` rendered with no_wrap),
        or None for a cell of more than one line (Textual's own path then)."""
        console = self.app.console
        padding = self.cell_padding
        inner = width - 2 * padding
        null = _NULL_STYLE
        segments = _plain_line(cell, inner, console)
        if segments is None:
            lines = cell.wrap(
                console,
                inner,
                justify=cell.justify or "default",
                overflow=cell.overflow or "fold",
                tab_size=(console.tab_size if cell.tab_size is None else cell.tab_size) or 8,
                # The row's height says no_wrap, unless the Text itself says otherwise.
                no_wrap=True if cell.no_wrap is None else cell.no_wrap,
            )
            if len(lines) != 1:
                return None
            rendered = Text("\n").join(lines).render(console, end="\n")
            segments = next(
                iter(
                    Segment.split_and_crop_lines(
                        rendered, inner, include_new_lines=False, pad=True, style=null
                    )
                )
            )
        if padding:
            pad = Segment(" " * padding, null)
            segments = [pad, *segments, pad]
        is_fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        memo = self._pass_styles
        key = (is_fixed, hover, cursor)
        if memo is not None and key in memo:
            component_style, post_style = memo[key]  # type: ignore[misc]
        else:
            component_style, post_style = self._get_styles_to_render_cell(
                False,
                False,
                is_fixed,
                hover,
                cursor,
                self.show_cursor,
                self._show_hover_cursor,
                self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css",
            )
            if memo is not None:
                memo[key] = (component_style, post_style)  # type: ignore[assignment]
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        return [list(Segment.apply_style(segments, pre_style + component_style, post_style))]

    def add_rows(self, rows: Iterable[Iterable[Any]]) -> list[Any]:  # type: ignore[override]
        """Textual's ``add_rows`` (one ``add_row`` per row) in one pass: the same
        rows, keys, data and messages, with the cursor checked, the update count
        moved and the idle check asked once for the batch instead of for each
        row (a page of 200 rows took 12 ms, a third of it that)."""
        rows = [tuple(r) for r in rows]
        width = len(self.ordered_columns)
        if type(self).add_row is not DataTable.add_row or any(len(r) > width for r in rows):
            return super().add_rows(rows)  # a subclass's own add_row, or Textual's refusal
        if not rows:
            return []
        from itertools import zip_longest

        from textual.widgets._data_table import Row, RowKey

        columns = self.ordered_columns
        was_empty = self.row_count == 0
        index = self.row_count
        keys = []
        locations, data, table_rows = self._row_locations, self._data, self.rows
        new_rows = self._new_rows
        for cells in rows:
            key = RowKey(None)
            locations[key] = index
            data[key] = {column.key: cell for column, cell in zip_longest(columns, cells)}
            table_rows[key] = Row(key, 1, None, False)
            new_rows.add(key)
            keys.append(key)
            index += 1
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and len(self.columns) > 0 and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # as add_row does when its row is the first
        self._update_count += len(rows)
        self.check_idle()
        return keys

    def _update_dimensions(self, new_rows) -> None:  # type: ignore[no-untyped-def]
        before = [c.content_width for c in self.columns.values()]
        if self.cell_measure is None:
            super()._update_dimensions(new_rows)
        else:
            with _measured_by(self.cell_measure):
                super()._update_dimensions(self._measure_plain_rows(new_rows))
        if [c.content_width for c in self.columns.values()] != before:
            # Lines drawn before a column widened are not drawn again otherwise.
            self._clear_caches()
            self.refresh()


def _plain_line(cell: Text, inner: int, console: Any) -> list[Segment] | None:
    """The one line Rich makes of ``cell`` cut or padded to ``inner`` cells
    (``Text.wrap`` with no_wrap and its justify, ``join``, ``render``,
    ``split_and_crop_lines`` padding with the null style), made directly for
    what nearly every cell of this program is (``literal``, a status in its
    colour, a right-aligned figure): printable characters one cell wide each,
    one style or none, no spans, justified to the left, the right or not at
    all; None for any other (Rich's own path then).
    tests/tui/test_textual_compat.py compares the two."""
    plain = cell.plain
    justify = cell.justify
    overflow = cell.overflow
    if (
        cell.spans
        or cell.no_wrap is False
        or justify not in (None, "default", "left", "right")
        or overflow not in (None, "fold", "crop", "ellipsis")
        or not plain.isprintable()
        or not (plain.isascii() or all(_cell_size(c) == 1 for c in plain))
    ):
        return None
    if justify == "right":
        plain = plain.rstrip()  # Rich's Lines.justify("right") strips first
    if len(plain) > inner:
        plain = plain[: inner - 1] + "\u2026" if overflow == "ellipsis" else plain[:inner]
    fill = inner - len(plain)
    if fill and justify == "left":
        plain, fill = plain + " " * fill, 0
    elif fill and justify == "right":
        plain, fill = " " * fill + plain, 0
    if cell.style:
        try:
            style = console.get_style(cell.style)
        except Exception:  # a style Rich cannot parse: its own path says so
            return None
        # The joined line carries the style as a span: no segment when empty.
        line = [Segment(plain, style)] if plain else []
    else:
        line = [Segment(plain)]
    if fill:
        line.append(Segment(" " * fill, _NULL_STYLE))
    return line


@contextmanager
def _measured_by(measure: Callable[..., int]) -> Iterator[None]:
    # DataTable measures every new cell through its module's ``measure``.
    textual_measure = _data_table.measure
    _data_table.measure = measure
    try:
        yield
    finally:
        _data_table.measure = textual_measure

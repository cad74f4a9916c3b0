"""Tabbed panes with a light tab bar: the titles drawn by one widget.

Textual's TabbedContent builds a focusable tab bar of about ten widgets (a
scroll container, a row, one widget per title, an animated underline) and
restyles them as tabs change: in a bare app it makes opening a screen of three
tabs about 35 ms slower than a ContentSwitcher alone (tests/benchmarks: the
largest playbook). Here the titles are one widget, the rule under them is
Textual's ``Underline``, and the panes live in a ContentSwitcher.

It looks like TabbedContent (the active title bright, the others dim, a rule
highlighted under the active one), keeps its calls (``active``, ``get_pane``,
a ``TabActivated`` message), and a title can be clicked. Keys are the
screens' own: ``1``..``9``, ``[`` and ``]`` (tui/screens/tabs.py); the bar
takes no focus.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import ContentSwitcher

from tui.textual_compat import Underline


class TabPane(Vertical):
    """The content of one tab; ``title`` shows in the tab bar."""

    DEFAULT_CSS = "TabPane { height: 1fr; padding: 0; }"

    def __init__(self, title: str, *children: Widget, id: str) -> None:
        super().__init__(*children, id=id)
        self.title = title


@dataclass(frozen=True)
class _Title:
    pane_id: str
    start: int  # columns [start, end) of the bar
    end: int


class TabBar(Widget, can_focus=False):
    """The titles, on one line, each with a column of padding either side."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"tab-bar--tab", "tab-bar--active", "tab-bar--hover"}
    DEFAULT_CSS = """
    TabBar {
        height: 1;
        width: 1fr;
        & > .tab-bar--tab { color: $foreground 50%; }
        & > .tab-bar--active { color: $foreground; }
        & > .tab-bar--hover { color: $foreground; }
    }
    """

    def __init__(self, titles: list[tuple[str, str]]) -> None:
        super().__init__()
        self.titles = titles  # (pane id, title)
        self._hover: str | None = None
        self.spans: list[_Title] = []
        x = 0
        for pane_id, title in titles:
            width = cell_len(title) + 2
            self.spans.append(_Title(pane_id, x, x + width))
            x += width

    def span(self, pane_id: str) -> _Title | None:
        return next((s for s in self.spans if s.pane_id == pane_id), None)

    def render(self) -> Text:
        tab = self.get_component_rich_style("tab-bar--tab")
        active = self.get_component_rich_style("tab-bar--active")
        hover = self.get_component_rich_style("tab-bar--hover")
        shown = self.query_ancestor(TabbedPanes).active
        line = Text(no_wrap=True, overflow="crop", end="")
        for pane_id, title in self.titles:
            style = active if pane_id == shown else hover if pane_id == self._hover else tab
            line.append(f" {title} ", style)
        return line

    def _at(self, x: int) -> str | None:
        return next((s.pane_id for s in self.spans if s.start <= x < s.end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        pane_id = self._at(event.x)
        if pane_id != self._hover:
            self._hover = pane_id
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        pane_id = self._at(event.x)
        if pane_id is not None:
            self.post_message(TabbedPanes.TitleClicked(pane_id))


class TabbedPanes(Vertical):
    """Panes (``TabPane``, yielded inside ``with TabbedPanes():``) with a tab bar."""

    DEFAULT_CSS = """
    TabbedPanes { height: 1fr; }
    TabbedPanes > ContentSwitcher { height: 1fr; }
    """

    class TabActivated(Message):
        """Another tab became the active one (by a key, a click or the code)."""

        def __init__(self, tabbed: TabbedPanes, pane: TabPane) -> None:
            super().__init__()
            self.tabbed = tabbed
            self.pane = pane

        @property
        def control(self) -> TabbedPanes:
            return self.tabbed

    class TitleClicked(Message):
        def __init__(self, pane_id: str) -> None:
            super().__init__()
            self.pane_id = pane_id

    def __init__(self, *, initial: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self._initial = initial
        self._panes: list[TabPane] = []

    def compose_add_child(self, widget: Widget) -> None:
        if isinstance(widget, TabPane):
            self._panes.append(widget)
        else:
            super().compose_add_child(widget)

    def compose(self) -> ComposeResult:
        initial = self._initial or (self._panes[0].id if self._panes else "") or ""
        yield TabBar([(p.id or "", p.title) for p in self._panes])
        yield Underline()
        yield ContentSwitcher(*self._panes, initial=initial or None)

    def on_mount(self) -> None:
        self._underline(self.active)

    @property
    def panes(self) -> list[TabPane]:
        return list(self.query_one(ContentSwitcher).query_children(TabPane))

    def get_pane(self, pane_id: str) -> TabPane:
        pane = self.query_one(ContentSwitcher).get_child_by_id(pane_id)
        assert isinstance(pane, TabPane)
        return pane

    @property
    def active(self) -> str:
        return self.query_one(ContentSwitcher).current or ""

    @active.setter
    def active(self, pane_id: str) -> None:
        if pane_id == self.active:
            return
        pane = self.get_pane(pane_id)  # raises for an unknown pane
        self.query_one(ContentSwitcher).current = pane_id
        self.query_one(TabBar).refresh()
        self._underline(pane_id)
        self.post_message(self.TabActivated(self, pane))

    def _underline(self, pane_id: str) -> None:
        span = self.query_one(TabBar).span(pane_id)
        underline = self.query_one(Underline)
        underline.show_highlight = span is not None
        if span is not None:
            # Under the title, not its padding (as TabbedContent does).
            underline.highlight_start, underline.highlight_end = span.start + 1, span.end - 1

    def on_tabbed_panes_title_clicked(self, event: TitleClicked) -> None:
        event.stop()
        self.active = event.pane_id

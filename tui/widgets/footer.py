"""The footer: the keys of the screen on one line, drawn by one widget.

Textual's Footer is a row of widgets, one per key, that it removes and mounts
again after every "bindings changed" notice; each new key widget is then
styled, laid out and drawn. Opening the largest playbook and its Mappings tab
styled about 200 key widgets, a fifth of the time the page took. This footer
is a single widget that reads the screen's keys when it draws: a notice only
repaints it, and nothing is mounted or styled.

It looks like Textual's (each key in bold on its colour, then what it does; the
command palette's key on the right, behind a thin rule), shows only whole keys
when they do not all fit (every key is on the help screen, ``?``), runs a key
when it is clicked (a bell if the key is disabled there), and shows the key's
tooltip under the mouse.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

_DIM = Style(dim=True)


@dataclass(frozen=True)
class FooterKey:
    """One key as drawn: columns ``start`` to ``end`` (exclusive) of the line."""

    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str
    start: int = 0
    end: int = 0


class Footer(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "footer-key--key",
        "footer-key--description",
        "footer-key--hover",
        "footer--rule",
    }
    DEFAULT_CSS = """
    Footer {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .footer-key--hover { background: $block-hover-background; }
        & > .footer--rule { color: $foreground 20%; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: list[FooterKey] = []  # what the last render drew, for the mouse
        self._hover: int | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        # As Textual's Footer: while the terminal has lost focus nothing has the
        # focus, and the footer would briefly show only the screen's keys.
        if screen.app.app_focus and screen is self.screen:
            self.refresh()

    # -- what to draw --------------------------------------------------------------

    def keys(self) -> tuple[list[FooterKey], FooterKey | None]:
        """The keys to show, one per action, in the order they are declared (a
        remapped key stays in its place); and the command palette's key, if it
        has one (whatever it is mapped to)."""
        from tui.keys import ordered_bindings

        seen: set[str] = set()
        keys: list[FooterKey] = []
        palette = None
        for _node, binding, enabled, tooltip in ordered_bindings(self.screen):
            if binding.action in ("command_palette", "app.command_palette"):
                if palette is None and self.app.ENABLE_COMMAND_PALETTE:
                    palette = FooterKey(
                        binding.key,
                        self.app.get_key_display(binding),
                        binding.description,
                        enabled,
                        tooltip or binding.tooltip or binding.description,
                    )
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            keys.append(
                FooterKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    enabled,
                    tooltip or binding.tooltip,
                )
            )
        return keys, palette

    def render(self) -> Text:
        keys, palette = self.keys()
        key_style = self.get_component_rich_style("footer-key--key")
        text_style = self.get_component_rich_style("footer-key--description")
        hover_style = self.get_component_rich_style("footer-key--hover", partial=True)
        width = self.size.width
        # The palette's key is drawn compact (no padding round the key) after a rule.
        right = cell_len(f"▏{palette.display} {palette.description} ") if palette else 0
        line = Text(no_wrap=True, overflow="crop", end="")
        shown: list[FooterKey] = []

        def draw(k: FooterKey, parts: list[tuple[str, Style]]) -> None:
            start = line.cell_len
            extra = Style() if k.enabled else _DIM
            if len(shown) == self._hover:
                extra += hover_style
            for part, style in parts:
                line.append(part, style + extra)
            shown.append(replace(k, start=start, end=line.cell_len))

        for k in keys:
            parts = (
                [(f" {k.display} ", key_style), (f"{k.description} ", text_style)]
                if k.description
                else [(k.display, key_style)]
            )
            if line.cell_len + sum(cell_len(p) for p, _ in parts) > width - right:
                break  # only whole keys: the rest are on the help screen
            draw(k, parts)
        if palette is not None and right <= width:
            line.append(" " * (width - right - line.cell_len))
            line.append("▏", self.get_component_rich_style("footer--rule"))
            draw(palette, [(palette.display, key_style), (f" {palette.description} ", text_style)])
        self._shown = shown
        return line

    # -- the mouse --------------------------------------------------------------------

    def _at(self, x: int) -> int | None:
        return next((i for i, k in enumerate(self._shown) if k.start <= x < k.end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        i = self._at(event.x)
        if i != self._hover:
            self._hover = i
            self.tooltip = (self._shown[i].tooltip or None) if i is not None else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        i = self._at(event.x)
        if i is None:
            return
        k = self._shown[i]
        if k.enabled:
            self.app.simulate_key(k.key)
        else:
            self.app.bell()

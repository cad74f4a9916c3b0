"""Presenter mode: the keys being pressed, shown in the bottom-right corner, so a
recording shows viewers what was typed.

The overlay lives in a layer of its own (docked there, it takes no room from
the screen's widgets), is invisible itself and shows only its small label:
nothing else on screen moves or changes. It sits on the line above the
footer; over a dialog whose controls (buttons, inputs...) reach that line, on
the last line, or else the first: it never covers a dialog's buttons.
Keys fade after a few idle seconds.
Text typed into an input shows as one chunk (``Order data``), as bullets in an
input for a signing key, token or password; other keys as key caps
(``ctrl+s``, ``enter``, ``2``). While presenting, such an input is itself
masked (``password``), on every screen and dialog, so neither typing nor
``ctrl+g`` shows a key in clear; it is unmasked again when presenting stops.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.containers import Container
from textual.geometry import Region
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Input, Static

KEEP_S = 4.0  # how long the last keys stay after the last press
MAX_WIDTH = 46  # columns: older keys drop off the left end

# How keys are named on screen (the rest: Textual's key names).
NAMES = {
    "escape": "esc",
    "space": "space",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "question_mark": "?",
    "slash": "/",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "full_stop": ".",
    "minus": "-",
    "underscore": "_",
    "colon": ":",
    "comma": ",",
    "apostrophe": "'",
    "backspace": "⌫",
}


@dataclass
class _Chunk:
    text: str
    typed: bool  # text typed into an input (merged) rather than a key


SECRET_HINTS = ("key", "token", "secret", "password")


def _secret(widget: object) -> bool:
    """An input that holds a secret: a password input, or one named for a key or token."""
    name = (getattr(widget, "id", None) or "").lower()
    return bool(getattr(widget, "password", False)) or any(h in name for h in SECRET_HINTS)


_MASKED = "_presenter_masked"  # set on inputs that presenter mode masked


def mask_secret_inputs(root: App | Screen) -> None:
    """Mask every secret input under ``root`` (presenter mode is on)."""
    for widget in root.query(Input):
        if _secret(widget) and not widget.password:
            widget.password = True
            setattr(widget, _MASKED, True)


def unmask_secret_inputs(root: App | Screen) -> None:
    """Undo ``mask_secret_inputs`` (presenter mode is off)."""
    for widget in root.query(Input):
        if getattr(widget, _MASKED, False):
            widget.password = False
            setattr(widget, _MASKED, False)


def key_label(key: str) -> str:
    return NAMES.get(key, key)


class KeyCaster(Container):
    """The overlay of one screen: a hidden full-width strip whose label shows."""

    DEFAULT_CSS = """
    KeyCaster {
        dock: bottom;
        width: 1fr;
        height: 1;
        margin-bottom: 1;
        align-horizontal: right;
        visibility: hidden;
        display: none;
    }
    KeyCaster.-shown { display: block; }
    KeyCaster > Static {
        width: auto;
        max-width: 48;
        height: 1;
        visibility: visible;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, presenter: Presenter) -> None:
        super().__init__(id="keycaster")
        self.presenter = presenter

    def compose(self) -> ComposeResult:
        yield Static("", id="keycaster-keys")

    def on_mount(self) -> None:
        # Above everything the screen has: tooltips' layer when there is one.
        layers = self.screen.layers
        self.styles.layer = "_tooltips" if "_tooltips" in layers else layers[-1]
        self.show(self.presenter.render_keys())

    def show(self, keys: Text | None) -> None:
        if keys is None:
            self.remove_class("-shown")
            return
        self.query_one(Static).update(keys)
        self.add_class("-shown")
        self.call_after_refresh(self.place)

    # The widgets a person presses or types in: the overlay must leave them visible.
    CONTROLS = "Button, Input, Checkbox, Select, SelectionList, DataTable, RadioSet, Switch"

    def place(self) -> None:
        """Where the overlay goes on its screen (see the module's docstring)."""
        if not self.is_attached:
            return
        screen = self.screen
        dock, margin = "bottom", 1  # above the footer line
        if isinstance(screen, ModalScreen):
            # Over a dialog: the first line of these that none of its controls is on.
            width, height = screen.size
            controls = [w.region for w in screen.query(self.CONTROLS) if w.display]
            for where, space, row in (
                ("bottom", 1, height - 2),
                ("bottom", 0, height - 1),
                ("top", 0, 0),
            ):
                strip = Region(0, row, width, 1)
                if not any(strip.overlaps(r) for r in controls):
                    dock, margin = where, space
                    break
        if self.styles.dock != dock or self.styles.margin.bottom != margin:
            self.styles.dock = dock
            self.styles.margin = (0, 0, margin, 0)


class Presenter:
    """Presenter mode of an app: records key presses, shows them on the current screen."""

    def __init__(self, app: App, *, keep_s: float = KEEP_S) -> None:
        self.app = app
        self.keep_s = keep_s
        self.chunks: list[_Chunk] = []
        self.on = False
        self._fade: Timer | None = None

    # -- switching ---------------------------------------------------------------

    def start(self) -> None:
        if self.on:
            return
        self.on = True
        self.app.screen_change_signal.subscribe(self.app, self._screen_changed)
        for screen in self.app.screen_stack:
            mask_secret_inputs(screen)
        self._sync(self.app.screen)

    def stop(self) -> None:
        if not self.on:
            return
        self.on = False
        self.chunks.clear()
        self.app.screen_change_signal.unsubscribe(self.app)
        for screen in self.app.screen_stack:
            unmask_secret_inputs(screen)
            for caster in screen.query(KeyCaster):
                caster.remove()

    def toggle(self) -> bool:
        (self.stop if self.on else self.start)()
        return self.on

    # -- keys --------------------------------------------------------------------

    def record(self, event: events.Key) -> None:
        """A key the app received (called before the app handles it)."""
        if not self.on:
            return
        focused = self.app.focused
        # Into a text input (TextArea by name: importing it would slow start-up).
        typing = isinstance(focused, Input) or any(
            c.__name__ == "TextArea" for c in type(focused).__mro__
        )
        char = event.character
        if typing and char is not None and char.isprintable() and len(char) == 1:
            if _secret(focused):
                char = "•"  # a recording must never show a key or token being typed
            if self.chunks and self.chunks[-1].typed:
                self.chunks[-1].text += char
            else:
                self.chunks.append(_Chunk(char, True))
        else:
            self.chunks.append(_Chunk(key_label(event.key), False))
        del self.chunks[:-12]
        self._sync(self.app.screen)
        if self._fade is not None:
            self._fade.stop()
        self._fade = self.app.set_timer(self.keep_s, self._clear)

    def _clear(self) -> None:
        self.chunks.clear()
        self._sync(self.app.screen)

    def render_keys(self) -> Text | None:
        """The label: the last keys, newest on the right, within MAX_WIDTH."""
        if not self.chunks:
            return None
        parts: list[Text] = []
        width = 0
        for chunk in reversed(self.chunks):
            text = (
                Text(chunk.text, style="italic")
                if chunk.typed
                else Text(f" {chunk.text} ", style="bold reverse")
            )
            if width + text.cell_len + 1 > MAX_WIDTH:
                if not parts:  # one long typed chunk: keep its end
                    text = Text("…" + chunk.text[-(MAX_WIDTH - 2) :], style="italic")
                    parts.append(text)
                break
            parts.append(text)
            width += text.cell_len + 1
        return Text(" ").join(reversed(parts))

    # -- screens -----------------------------------------------------------------

    def _screen_changed(self, screen: Screen) -> None:
        if self.on:
            self._sync(screen)
            # A screen just pushed has not composed its widgets yet: mask them
            # once it has, before anything is typed into them.
            screen.call_after_refresh(self._mask_later, screen)

    def _mask_later(self, screen: Screen) -> None:
        if self.on:
            mask_secret_inputs(screen)

    def _sync(self, screen: Screen) -> None:
        """Make sure ``screen`` has the overlay, showing the current keys, and
        that its secret inputs are masked."""
        mask_secret_inputs(screen)
        found = screen.query(KeyCaster)
        if found:
            found.first().show(self.render_keys())
        else:
            screen.mount(KeyCaster(self))

"""A yes/no confirmation that names what it is about."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from tui.dialogs.base import Dialog
from tui.keys import key_for


class ConfirmDialog(Dialog[bool]):
    DEFAULT_CSS = """
    ConfirmDialog > .dialog { width: 64; border: thick $error 70%; padding: 1 2; }
    ConfirmDialog .title { margin-bottom: 1; }
    ConfirmDialog .dialog-buttons { margin-top: 1; }
    """
    cancel_value = False
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "Cancel", id="confirm.cancel"),
    ]

    def __init__(self, title: str, message: str, *, yes: str = "Yes", danger: bool = True) -> None:
        super().__init__()
        self._title = title
        self._message = message
        self._yes = yes
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self._title), classes="title dialog-title")
            yield Static(Text(self._message))
            with Horizontal(classes="dialog-buttons"):
                no, yes = (
                    key_for(self.app, self, "confirm.no"),
                    key_for(self.app, self, "confirm.yes"),
                )
                yield Button(f"No ({no})", id="no")
                yield Button(
                    f"{self._yes} ({yes})", id="yes", variant="error" if self._danger else "primary"
                )

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

"""A yes/no confirmation that names what it is about."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui.keys import key_for


class ConfirmDialog(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 64; max-width: 100%; height: auto; border: thick $error 70%;
        background: $surface; padding: 1 2;
    }
    ConfirmDialog .title {
        text-style: bold; margin-bottom: 1;
        width: 100%; text-wrap: nowrap; text-overflow: ellipsis;
    }
    ConfirmDialog Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    ConfirmDialog Button { margin-left: 2; }
    """
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
        with Vertical():
            yield Label(Text(self._title), classes="title")
            yield Static(Text(self._message))
            with Horizontal():
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

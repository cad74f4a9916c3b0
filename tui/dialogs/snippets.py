"""A webhook's verification snippets (``store.snippets``): Python, Node.js, Go
and shell, one at a time; `1`-`4` or `left`/`right` choose, `c` copies the one
shown (OSC 52, and the local clipboard where there is one).

The secret in them is the one the page shows: masked unless the key was
revealed there (the snippets read ``WEBHOOK_SECRET`` from the environment
first, so a masked snippet still runs once that is set)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from store.snippets import Snippet
from tui.dialogs.base import Dialog
from tui.keys import key_for


class SnippetsDialog(Dialog[None]):
    DEFAULT_CSS = """
    SnippetsDialog > .dialog { width: 100; max-width: 100%; height: 90%; padding: 0 1; }
    SnippetsDialog #snippet-tabs { height: 1; margin-top: 1; }
    SnippetsDialog #snippet-note { color: $text-muted; height: auto; }
    SnippetsDialog #snippet-scroll { height: 1fr; margin-top: 1; }
    """
    BINDINGS = [
        Binding("1", "show(0)", "Python", show=False, id="snippets.python"),
        Binding("2", "show(1)", "Node.js", show=False, id="snippets.node"),
        Binding("3", "show(2)", "Go", show=False, id="snippets.go"),
        Binding("4", "show(3)", "Shell", show=False, id="snippets.shell"),
        Binding("right", "step(1)", "Next language", id="snippets.next"),
        Binding("left", "step(-1)", "Previous", show=False, id="snippets.previous"),
        Binding("c", "copy", "Copy", id="snippets.copy"),
        Binding("escape", "close", "Close", id="snippets.close"),
    ]

    def __init__(self, snippets: list[Snippet], *, revealed: bool, url: str) -> None:
        super().__init__()
        self.snippets = snippets
        self.revealed = revealed
        self.url = url
        self.index = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Verify deliveries of {self.url}"), classes="dialog-title")
            yield Static("", id="snippet-tabs")
            yield Static("", id="snippet-note")
            with VerticalScroll(id="snippet-scroll"):
                yield Static("", id="snippet-code")

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        s = self.snippets[self.index]
        tabs = Text()
        for i, each in enumerate(self.snippets):
            tabs.append(
                f" {i + 1} {each.language} ", style="reverse bold" if i == self.index else ""
            )
        self.query_one("#snippet-tabs", Static).update(tabs)
        copy = key_for(self.app, self, "snippets.copy")
        secret = (
            "the receiver secret is written in"
            if self.revealed
            else "the secret is masked (reveal the key on the page to write it in), "
            "so set WEBHOOK_SECRET"
        )
        self.query_one("#snippet-note", Static).update(
            Text(f"Save as {s.file_name}, run: {s.run} · {secret} · {copy} copies")
        )
        # Literal text (never markup): the code holds [ ] and a URL typed by someone.
        self.query_one("#snippet-code", Static).update(Text(s.code, no_wrap=True))
        self.query_one("#snippet-scroll", VerticalScroll).scroll_home(animate=False)

    def action_show(self, index: int) -> None:
        self.index = index % len(self.snippets)
        self._show()

    def action_step(self, delta: int) -> None:
        self.action_show(self.index + delta)

    def action_copy(self) -> None:
        from tui import clipboard

        clipboard.copy(self.app, self.snippets[self.index].code)

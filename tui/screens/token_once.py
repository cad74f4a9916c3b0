"""The one-time token screen: the only place a generated token is ever shown.

`c` copies it (OSC 52, and the local clipboard where there is one);
`enter`/`escape` close it. Closing drops every reference this program holds
to the token (the screen's attribute, the text widget, Textual's in-app
clipboard), so nothing can show it again: the store kept only a hash.

Nothing else leaves it: while it is open (or a dialog above it) the app's own
keys are switched off, whatever keys the user mapped them to (sections, help,
the command palette, whose *Screenshot* command would write the token to a
file); any other key says how to leave. Quitting (q, ctrl+q) asks first: the
token would be lost for good (``IntegrationsAdmin.action_quit``).
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Header, Static

from store.tokens import TokenInfo
from tui.format import minute
from tui.keys import key_for
from tui.textual_compat import clear_local_clipboard, notifications
from tui.widgets.footer import Footer


def _expiry(info: TokenInfo) -> str:
    if info.expires_at is None:
        return "never expires"
    return f"expires on {minute(info.expires_at, utc=True)}"


class TokenOnceScreen(Screen[None]):
    # Read by the app: no app binding runs while this screen is in the stack,
    # except quit, which asks this first.
    seals_app = True
    quit_warning = "The token will never be shown again. Quit anyway?"

    DEFAULT_CSS = """
    TokenOnceScreen { align-horizontal: center; }
    TokenOnceScreen > Vertical { width: 76; max-width: 100%; height: auto; padding: 1 1; }
    TokenOnceScreen .once-title { text-style: bold; }
    TokenOnceScreen #token {
        width: auto; min-width: 46; height: 3; margin: 1 0; padding: 0 2;
        border: heavy $success; text-style: bold; color: $text;
    }
    TokenOnceScreen .warning { color: $text-warning; text-style: bold; }
    TokenOnceScreen .note { color: $text-muted; margin-top: 1; }
    TokenOnceScreen Horizontal { height: auto; margin-top: 1; }
    TokenOnceScreen Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("c", "copy", "Copy", id="token_once.copy"),
        Binding("enter", "done", "Done", id="token_once.done"),
        Binding("escape", "done", "Done", show=False, id="token_once.close"),
    ]

    def __init__(self, info: TokenInfo, token: str, *, integration_name: str) -> None:
        super().__init__()
        self.info = info
        self.integration_name = integration_name
        self._token: str | None = token
        self._palette_was: bool | None = None

    @property
    def shown(self) -> bool:
        """Whether the token is still held (False once the screen was closed)."""
        return self._token is not None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            Text(f"Integrations › {self.integration_name} › API tokens › New token"),
            classes="section-title",
        )
        with Vertical():
            yield Static(
                Text(f"Your new API token {self.info.name!r} ({_expiry(self.info)}):"),
                classes="once-title",
            )
            yield Static(Text(self._token or ""), id="token")
            yield Static(
                Text("This is the only time the token is shown. It will not be shown again."),
                classes="warning",
            )
            yield Static(
                Text.assemble(
                    "Press ",
                    (key_for(self.app, self, "token_once.copy"), "bold reverse"),
                    " to copy it now and keep it in your secrets manager or the "
                    "integration's configuration. integrations-admin keeps only a hash: "
                    "if the token is lost, revoke it and generate a new one.",
                ),
                classes="note",
            )
            with Horizontal():
                # For the mouse only: keys go to the screen, so `enter` always means Done.
                for label, bid, variant in (
                    (f"Copy ({key_for(self.app, self, 'token_once.copy')})", "copy", "primary"),
                    (f"Done ({key_for(self.app, self, 'token_once.done')})", "done", "default"),
                ):
                    button = Button(label, id=bid, variant=variant)
                    button.can_focus = False
                    yield button
        yield Footer()

    def on_mount(self) -> None:
        self._palette_was = self.app.use_command_palette
        self.app.use_command_palette = False

    def on_unmount(self) -> None:
        self._forget()

    def _forget(self) -> None:
        """Drop every reference to the token held by the program."""
        token, self._token = self._token, None
        if token is not None and self.app.clipboard == token:
            # Textual's in-app clipboard (used by ctrl+v in inputs) would show it again.
            clear_local_clipboard(self.app)
        for shown in self.query("#token"):
            shown.update("")  # type: ignore[attr-defined]
        if self._palette_was is not None:
            self.app.use_command_palette = self._palette_was
            self._palette_was = None

    def action_copy(self) -> None:
        if self._token is None:
            return
        from tui import clipboard

        clipboard.copy(self.app, self._token)

    def action_done(self) -> None:
        self._forget()
        if self.app.screen is self:
            self.dismiss(None)

    def on_key(self, event: events.Key) -> None:
        """A key of no binding here (a section key, the palette's, help's: the app
        has switched them off) says how to leave instead of doing nothing."""
        if event.key in self.active_bindings:
            return  # this screen's own keys, and quit (which asks)
        event.stop()
        event.prevent_default()
        self.action_stay()

    def action_stay(self) -> None:
        copy = key_for(self.app, self, "token_once.copy")
        done = key_for(self.app, self, "token_once.done")
        message = (
            f"Copy the token ({copy}) and close this screen ({done}) first: it is shown only once."
        )
        # One on screen at a time: a pile of them would cover the token.
        if not any(n.message == message for n in notifications(self.app)):
            self.notify(message, severity="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "copy":
            self.action_copy()
        else:
            self.action_done()

"""What every screen shares: header, footer, `escape` to go back."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen

if TYPE_CHECKING:
    from tui.app import IntegrationsAdmin


class BaseScreen(Screen):
    BINDINGS = [Binding("escape", "back", "Back", id="screen.back")]

    @property
    def admin(self) -> IntegrationsAdmin:
        return cast("IntegrationsAdmin", self.app)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            # Nothing to go back to at the top of a section: hide the key.
            return len(self.app.screen_stack) > 1
        return True

    def on_screen_resume(self) -> None:
        """Screens refresh what they show from the store when they come back."""
        # A resume can arrive while the screen is still composing or is being
        # torn down (switching modes, quitting): nothing to refresh then.
        with suppress(NoMatches):
            self.reload()

    def reload(self) -> None:  # overridden by screens that show store data
        pass

"""What every screen shares: header, footer, `escape` to go back."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen

from tui.textual_compat import drop_closed_watchers

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

    _resumed_once = False

    def on_screen_resume(self) -> None:
        """Screens refresh what they show from the store when they come back."""
        # The database away (its banner), or a change saving: on every screen shown.
        self.admin.show_status()
        # The header follows the plan (changed by the operator meanwhile?): one small
        # query per screen shown, on a section switch as on a return.
        with suppress(NoMatches):
            self.admin.refresh_title()
        if not self._resumed_once:
            # The first resume is the screen's arrival: on_mount has just loaded
            # it, and loading twice doubles the cost of opening every screen.
            self._resumed_once = True
            return
        # A screen comes back when the one above it closed: forget that one's
        # watchers of the app (its header's), or it is never freed.
        drop_closed_watchers(self.app)
        if not self.is_current:
            # Closed again before its resume arrived (a dialog's answer deleted
            # what it showed and closed it): nothing to show, nothing to reload.
            return
        # A resume can arrive while the screen is still composing or is being
        # torn down (switching modes, quitting): nothing to refresh then.
        with suppress(NoMatches):
            self.reload()

    def reload(self) -> None:  # overridden by screens that show store data
        pass

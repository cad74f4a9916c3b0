"""What every screen shares: header, footer, `escape` to go back."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen

from tui.screens.loading import Loads
from tui.textual_compat import drop_closed_watchers

if TYPE_CHECKING:
    from tui.app import IntegrationsAdmin


class BaseScreen(Loads, Screen):
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
    _load_wanted = False

    def on_screen_resume(self) -> None:
        """Screens refresh what they show from the store when they come back
        (``reload``: in a worker, see tui/screens/loading.py)."""
        # The database away (its banner), or a change saving: on every screen shown.
        self.admin.show_status()
        first = not self._resumed_once
        self._resumed_once = True
        if not first:
            # A screen comes back when the one above it closed: forget that one's
            # watchers of the app (its header's), or it is never freed.
            drop_closed_watchers(self.app)
            self.admin.collect_closed_screens()
        if not self.loads_data():
            # A screen that loads in its own way (on_mount started it): the header
            # follows the plan here, and the first resume is the arrival. The
            # first open of a section brings a second resume at once (Textual's
            # _init_mode and switch_mode each post one): nothing to read again.
            if self._arriving:
                return
            with suppress(NoMatches):
                self.admin.refresh_title()
            if first:
                self._arriving = True
                self.call_later(self._arrived_now)
                return
            if self.is_current:
                with suppress(NoMatches):
                    self.reload()
            return
        if not self.is_current:
            # Closed again before its resume arrived (a dialog's answer deleted
            # what it showed and closed it): nothing to show, nothing to reload.
            return
        # The first open of a section brings two resumes (Textual's _init_mode and
        # switch_mode each post one): one load for both, once they are handled.
        if not self._load_wanted:
            self._load_wanted = True
            self.admin.load_started(self)
            self.call_later(self._load_if_wanted)

    _arriving = False

    def _arrived_now(self) -> None:
        self._arriving = False

    def _load_if_wanted(self) -> None:
        self.admin.load_ended(self)
        if not self._load_wanted:
            return
        self._load_wanted = False
        if not self.is_current:
            return
        # A resume can arrive while the screen is still composing or is being
        # torn down (switching modes, quitting): nothing to refresh then.
        with suppress(NoMatches):
            self.reload()

    def load_also(self) -> object:
        # The header follows the plan (changed by the operator meanwhile?): one
        # small query in the screen's own load, on a section switch as on a return.
        return self.admin.read_title()

    def show_also(self, data: object) -> None:
        self.admin.show_title(data)

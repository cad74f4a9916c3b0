"""Textual's Footer, rebuilt once per change instead of once per notice.

Textual's Footer rebuilds its keys (a dozen widgets, each styled) after every
"bindings changed" notice, and opening a screen sends several (mount, focus,
tabs...): opening the largest playbook rebuilt it seven times, a third of the
time the page took. This Footer rebuilds once for all the notices that
arrive before the next refresh, with the bindings as they are then.

It also drops the key widgets it removed from its own watcher list: Textual
keeps them there until the footer's ``compact`` changes, which it never does
(tui/watchers.py), so every rebuild used to leak a dozen widgets.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter

from tui.watchers import drop_closed_watchers


class Footer(TextualFooter):
    _rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        await self.recompose()
        drop_closed_watchers(self)

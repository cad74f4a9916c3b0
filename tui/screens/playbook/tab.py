"""What every tab of the playbook page shares: it shows part of the page's
``PlaybookDetail`` (loaded once per refresh by the page, in a worker:
``PlaybookScreen.load_own``; a tab reads nothing itself) and is built the first
time its tab is shown (``PlaybookScreen.build_tab``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.playbooks import PlaybookDetail
from tui.screens.tabs import TabContent

if TYPE_CHECKING:
    from tui.screens.playbook.page import PlaybookScreen


class PlaybookTab(TabContent):
    """A tab that shows part of the page's PlaybookDetail."""

    def __init__(self, page: PlaybookScreen) -> None:
        super().__init__()
        self.page = page
        self.shown: PlaybookDetail | None = None

    def reload(self, select: str | None = None) -> None:
        # The page holds the data: refreshing a tab is refreshing the page.
        self.page.reload(select)

    def present(self, detail: PlaybookDetail, select: str | None = None) -> None:
        """Fill the tab, unless it already shows exactly this: refilling hundreds
        of rows is the one visible cost, so it is skipped when the store
        returned the same value."""
        if select is None and detail == self.shown:
            return
        self.shown = detail
        self.show(detail, select)

    def show(self, detail: PlaybookDetail, select: str | None = None) -> None:
        """Fill the tab from the page's playbook (UI thread; no store call)."""
        raise NotImplementedError

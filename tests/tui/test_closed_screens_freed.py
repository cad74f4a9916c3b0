"""A closed screen is freed soon after it closes (``IntegrationsAdmin.collect_closed_screens``),
not whenever the collector's thresholds next reach the oldest generation: its
widgets are cycles, and the next screen used to be built beside them in new
memory (tests/perf/test_memory.py measures the RSS that saved)."""

from __future__ import annotations

import gc
import weakref

from store import marketplace
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.screens.integration import IntegrationScreen

from ..ui import wait_until


async def test_a_closed_page_is_collected_once_the_keys_pause(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    gc.disable()  # no automatic collection: only the program's own can free the page
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("enter")
            assert isinstance(app.screen, IntegrationScreen)
            await pilot.press("3")  # a tab built on the way: more of the page to free
            page = weakref.ref(app.screen)
            await pilot.press("escape")
            assert not isinstance(app.screen, IntegrationScreen)
            # Within a second or so of app time, with no help from the test.
            await wait_until(pilot, lambda: page() is None, tries=100)
    finally:
        gc.enable()


async def test_without_the_collection_the_closed_page_stays(store, owner, monkeypatch):
    """The test above would pass for a page freed by reference counting alone:
    this one shows the page does need the collection (with the program's
    collection turned off, it is still alive long after it closed)."""
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    monkeypatch.setattr(IntegrationsAdmin, "collect_closed_screens", lambda self: None)
    gc.disable()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("enter")
            await pilot.press("3")
            page = weakref.ref(app.screen)
            await pilot.press("escape")
            for _ in range(60):
                await pilot.pause(0.02)
            assert page() is not None
            gc.collect()
            assert page() is None
    finally:
        gc.enable()

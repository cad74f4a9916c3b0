"""A change made here shows its result without reading the list again, but only
when the account's change counter says it was the only change meanwhile (issue
15's round-trip budget): another administrator's change made while the form
was open is never lost from the screen."""

from __future__ import annotations

from sqlalchemy import event

from store import blueprints
from store.db import Store
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog

from ..ui import loaded, screen_text, type_text


def _statements(store: Store) -> list[str]:
    sent: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args) -> None:
        if not statement.startswith("BEGIN"):
            sent.append(" ".join(statement.split())[:80])

    event.listen(store.engine, "before_cursor_execute", on_execute)
    return sent


async def _on_blueprints_tab(pilot, app) -> None:
    await loaded(pilot)
    await pilot.press("enter")
    assert "Integrations › Custom integration" in screen_text(app)
    await pilot.press("2")
    assert "Custom blueprints 0/" in screen_text(app)


async def _create(pilot, app, name: str) -> None:
    await pilot.press("n")
    assert isinstance(app.screen, FormDialog)
    await type_text(pilot, name)
    await pilot.press("ctrl+s")
    await loaded(pilot)


async def test_the_only_change_is_shown_without_reading_and_the_poll_reads_nothing(
    store, owner, custom
):
    app = IntegrationsAdmin(store, owner)
    app.CHANGES_POLL_S = 3600  # polled by hand below
    sent = _statements(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await _on_blueprints_tab(pilot, app)
        await _create(pilot, app, "Orders")
        text = screen_text(app)
        assert "Orders" in text and "Custom blueprints 1/" in text
        # The change itself and nothing after it: no list, no counts, no header.
        assert sent and sent[-1].startswith("INSERT INTO audit_entry"), sent[-8:]

        # The poll reads the counter (outside SQLAlchemy): our change alone moved
        # it, which the screen shows already: nothing is read again.
        sent.clear()
        app.poll_changes()
        await app.workers.wait_for_complete()
        await loaded(pilot)
        assert sent == [], sent

        # An edit the same way: renamed in place, the list in its order.
        await pilot.press("e")
        assert isinstance(app.screen, FormDialog)
        for _ in range(len("Orders")):
            await pilot.press("backspace")
        await type_text(pilot, "Accounts")
        sent.clear()
        await pilot.press("ctrl+s")
        await loaded(pilot)
        text = screen_text(app)
        assert "Accounts" in text and "Orders" not in text, text
        assert not any(s.startswith("SELECT account.id") for s in sent), sent


async def test_another_administrators_change_meanwhile_is_read_with_ours(
    store, owner, custom, db_url
):
    other = Store(db_url)  # another administrator's program, on the same database
    other.prepare()
    try:
        app = IntegrationsAdmin(store, owner)
        app.CHANGES_POLL_S = 3600  # the poll would find theirs by itself: not here
        async with app.run_test(size=(120, 36)) as pilot:
            await _on_blueprints_tab(pilot, app)
            await pilot.press("n")
            assert isinstance(app.screen, FormDialog)
            await type_text(pilot, "Orders")
            # While the form is open, someone else creates a blueprint.
            blueprints.create(other, owner, custom, name="Invoices")
            await pilot.press("ctrl+s")
            await loaded(pilot)
            text = screen_text(app)
            assert "Orders" in text and "Invoices" in text, text
            assert "Custom blueprints 2/" in text, text
    finally:
        other.dispose()

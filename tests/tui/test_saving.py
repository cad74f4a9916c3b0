"""Changes off the UI thread (IntegrationsAdmin.save): the outcome's routing,
and a SQLite write that waits for another administrator's lock."""

from __future__ import annotations

import sqlite3

import pytest

from store import audit, blueprints, marketplace
from store.catalog import CUSTOM_KEY
from store.errors import ValidationError
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog
from tui.saving import WAITING

from ..ui import field_error, notes, type_text, wait_until


async def test_save_routes_a_domain_error_to_its_field_and_a_value_to_on_done(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2", "n")
        form = app.screen
        assert isinstance(form, FormDialog)

        def refuse(_values):
            raise ValidationError("name", "Not this name.")

        job = app.save(refuse, {}, field_errors_to=form)
        await wait_until(pilot, lambda: job.done)
        await pilot.pause()
        assert field_error(app, "name") == "Not this name."
        assert app.screen is form  # the form stays, with what was typed

        got = []
        job = app.save(
            blueprints.create, store, owner, iid, name="Routed", description="", on_done=got.append
        )
        await wait_until(pilot, lambda: job.done)
        assert [b.name for b in got] == ["Routed"]


async def test_save_sends_an_unexpected_error_to_report(store, owner, monkeypatch):
    app = IntegrationsAdmin(store, owner)
    reported: list[Exception] = []
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        monkeypatch.setattr(app, "report", reported.append)

        def broken():
            raise KeyError("not a domain error")

        done = []
        job = app.save(broken, on_done=done.append)
        await wait_until(pilot, lambda: job.done)
        await pilot.pause()
        assert [type(e) for e in reported] == [KeyError]
        assert done == []
        assert app.is_running  # the worker's error did not end the program


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sqlite_write_waiting_for_another_administrator_gives_up_on_escape(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    entries_before = len(audit.entries(store, owner.account_id))
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another administrator's change, in progress
    app = IntegrationsAdmin(store, owner)
    try:
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await pilot.press("enter", "2", "n")
            form = app.screen
            assert isinstance(form, FormDialog)
            await type_text(pilot, "Half saved")
            await pilot.press("ctrl+s")  # returns: the change says it waits
            saying = form.query_one("#form-saving")
            await wait_until(pilot, lambda: str(saying.content) == WAITING)
            assert app.screen is form
            await pilot.press("escape")  # gives up
            await wait_until(pilot, lambda: not isinstance(app.screen, FormDialog))
            await pilot.pause()
            assert any("gave up waiting" in n for n in notes(app))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [b.name for b in blueprints.for_integration(store, owner.account_id, iid)] == []
    assert len(audit.entries(store, owner.account_id)) == entries_before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sqlite_write_waits_then_saves_once_the_lock_is_free(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    app = IntegrationsAdmin(store, owner)
    try:
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await pilot.press("enter", "2", "n")
            form = app.screen
            await type_text(pilot, "After the wait")
            await pilot.press("ctrl+s")
            saying = form.query_one("#form-saving")
            await wait_until(pilot, lambda: str(saying.content) == WAITING)
            other.execute("ROLLBACK")  # the other administrator's change ends
            await wait_until(pilot, lambda: not isinstance(app.screen, FormDialog))
    finally:
        other.close()
    names = [b.name for b in blueprints.for_integration(store, owner.account_id, iid)]
    assert names == ["After the wait"]


async def test_the_confirm_button_dims_as_a_save_starts_and_comes_back_after_a_refusal(
    store, owner
):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "2", "n")
        form = app.screen
        assert isinstance(form, FormDialog)
        confirm = form.query_one("#confirm")
        assert not confirm.has_class("-saving")
        dimmed_while_saving: list[bool] = []
        submit = form.submit

        def watched(values):  # the change itself, in its thread
            dimmed_while_saving.append(confirm.has_class("-saving"))
            return submit(values)

        form.submit = watched
        await pilot.press("ctrl+s")  # no name: the store refuses it
        assert dimmed_while_saving == [True]
        assert field_error(app, "name")
        assert app.screen is form
        assert not confirm.has_class("-saving")  # ready for the next try

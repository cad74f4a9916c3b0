"""The foundation by keys: Marketplace, Integrations, blueprints and fields.

Each test drives the real App with Pilot, presses the keymap's keys and checks
both the screen and the store.
"""

from __future__ import annotations

import asyncio

import pytest

from store import accounts, blueprints, integrations, marketplace
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog
from tui.widgets.filter_table import FilterTable

from ..ui import flat, screen_text, type_text


def custom_id(store, actor) -> int:
    return next(i.id for i in integrations.active(store, actor.account_id) if i.key == CUSTOM_KEY)


async def test_enable_custom_integration_by_keys(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        assert "No integrations are enabled yet" in screen_text(app)
        await pilot.press("m")
        await pilot.pause()
        table = app.screen.query_one(FilterTable)
        # Move to Custom integration and press e.
        while table.selected_key != CUSTOM_KEY:
            await pilot.press("down")
        await pilot.press("e")
        await pilot.pause()
        assert [i.key for i in integrations.active(store, owner.account_id)] == [CUSTOM_KEY]
        assert "Enabled" in screen_text(app)
        await pilot.press("i")
        await pilot.pause()
        assert "Custom integration" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert "Integrations › Custom integration" in screen_text(app)


async def test_create_blueprint_and_required_field_by_keys(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2", "n")
        assert isinstance(app.screen, FormDialog)
        await type_text(pilot, "Order data")
        await pilot.press("tab")
        await type_text(pilot, "Orders from the ERP")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        shot = screen_text(app)
        assert "Custom blueprints 1/10" in shot
        [bp] = blueprints.for_integration(store, owner.account_id, custom_id(store, owner))
        assert (bp.name, bp.description) == ("Order data", "Orders from the ERP")
        # The new blueprint is selected; enter opens its page, n adds a field.
        await pilot.press("enter")
        await pilot.pause()
        assert "Order data" in screen_text(app)
        await pilot.press("n")
        await type_text(pilot, "Order number")
        await pilot.press("tab", "tab", "space", "ctrl+s")
        await pilot.pause()
        detail = blueprints.detail(store, owner.account_id, bp.id)
        assert [(f.name, f.mapping_required) for f in detail.fields] == [("Order number", True)]
        assert "Order number" in screen_text(app)


@pytest.mark.parametrize(
    "name, message", [("", "Name is required."), ("Dup", "A blueprint named 'Dup' already exists.")]
)
async def test_blueprint_form_refuses_and_keeps_input(store, owner, name, message):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    blueprints.create(store, owner, iid, name="Dup")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2", "n")
        await type_text(pilot, name)
        await pilot.press("tab")
        await type_text(pilot, "kept")
        await pilot.press("ctrl+s")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.values() == {"name": name, "description": "kept"}
        assert message in flat(app)
    assert len(blueprints.for_integration(store, owner.account_id, iid)) == 1


async def test_blueprint_limit_is_named(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    accounts.set_plan_and_limits(
        store, owner.account_id, operator="op", limits={"custom_blueprints": 2}
    )
    for n in range(2):
        blueprints.create(store, owner, iid, name=f"B{n}")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2")
        assert "Custom blueprints 2/2" in screen_text(app)
        await pilot.press("n")
        await type_text(pilot, "Third")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "already has 2 of 2 custom blueprints" in flat(app)
    assert len(blueprints.for_integration(store, owner.account_id, iid)) == 2


async def test_member_is_read_only_and_told_why(store, owner, member):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    blueprints.create(store, owner, iid, name="Orders")
    app = IntegrationsAdmin(store, member)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2", "n")
        await pilot.pause()
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert "Manage add-ons and integrations" in flat(app)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("m", "e")
        await pilot.pause()
    assert len(blueprints.for_integration(store, owner.account_id, iid)) == 1
    assert [i.key for i in integrations.active(store, owner.account_id)] == [CUSTOM_KEY]


async def test_palette_jumps_to_blueprint_and_playbook_by_name(store, owner):
    from store import playbooks
    from tui.screens.blueprint import BlueprintScreen
    from tui.screens.playbook import PlaybookScreen

    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    bp = blueprints.create(store, owner, iid, name="Warehouse stock")
    pb = playbooks.create(store, owner, name="Supplier agreement")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await type_text(pilot, "Warehouse")
        await pilot.pause(0.3)  # the palette searches in the background
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BlueprintScreen) and app.screen.blueprint_id == bp.id
        assert "Warehouse stock" in screen_text(app)
        await pilot.press("ctrl+p")
        await type_text(pilot, "Supplier")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PlaybookScreen)
        assert app.current_mode == "playbooks"
        assert app.screen.playbook_id == pb.id
        assert "Supplier agreement" in screen_text(app)


@pytest.mark.parametrize("after", ["u", "p", "o", "m"])
async def test_keys_typed_after_quit_do_not_crash_the_exit(store, owner, after):
    """A fast "qu" used to open the Users screen while the app was being taken
    down, and the exit ended in a traceback."""
    from textual import events

    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for key in ("q", after):  # as a terminal delivers them: in one read
            app._driver.send_message(events.Key(key, key))
        for _ in range(200):  # until the exit has run its course
            if not app.is_running:
                break
            await asyncio.sleep(0.01)
        assert not app.is_running
    assert app._exception is None
    assert app.return_code == 0

"""Forms that change several things save them in one store call and one
transaction: the account settings form (timeout + private networks) and the
user form (role + permission). A refusal while saving the second part leaves
the first unchanged. Pilot tests on both backends."""

from __future__ import annotations

from store import accounts, audit, settings, users
from store.errors import Conflict
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog

from ..ui import flat, select_row, type_text


async def test_settings_form_refused_in_its_second_part_saves_nothing(store, owner, monkeypatch):
    real = settings._set_allow

    def refuse(c, allow):
        real(c, allow)
        raise Conflict("Refused while saving private networks.")

    monkeypatch.setattr(settings, "_set_allow", refuse)
    before = audit.count(store, owner.account_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("o", "e")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("ctrl+u")
        await type_text(pilot, "25")
        await pilot.press("tab", "space", "ctrl+s")
        await pilot.pause()
        assert "Refused while saving private networks." in flat(app) or any(
            n.message == "Refused while saving private networks." for n in app._notifications
        )
    # Neither the timeout (written first, in the same transaction) nor the switch.
    assert settings.webhook_settings(store, owner.account_id) == settings.WebhookSettings(10, False)
    assert audit.count(store, owner.account_id) == before


async def test_user_form_refused_in_its_second_part_saves_nothing(
    store, owner, member, monkeypatch
):
    users.promote(store, owner, "bob")
    real = users._set_permission

    def refuse(c, u, can_manage):
        real(c, u, can_manage)
        raise Conflict("Refused while saving the permission.")

    monkeypatch.setattr(users, "_set_permission", refuse)
    before = audit.count(store, owner.account_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("u")
        await pilot.pause()
        await select_row(pilot, "bob")
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormDialog)
        form.set_value("role", "member")
        form.set_value("can_manage", False)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Refused while saving the permission." in flat(app) or any(
            n.message == "Refused while saving the permission." for n in app._notifications
        )
    # Bob is still an owner with the permission: the demotion went back too.
    assert ("bob", "owner", True) in [
        (u.login, u.role, u.can_manage) for u in accounts.list_users(store, owner.account_id)
    ]
    assert audit.count(store, owner.account_id) == before

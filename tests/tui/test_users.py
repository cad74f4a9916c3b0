"""People by keys: the Users view (`u`), and what those without the right see.
Pilot tests on both backends: assert on the screen, the notifications and the store."""

from __future__ import annotations

from store import accounts, audit, integrations, users
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog
from tui.screens.account import AccountScreen
from tui.screens.users import UsersScreen
from tui.widgets.filter_table import FilterTable

from ..helpers import people
from ..ui import flat, notes, select_row, type_text

# -- read-only for those without the right ----------------------------------------


async def test_member_sees_read_only_screens_and_the_reason(store, owner, member):
    before = (people(store, owner.account_id), audit.count(store, owner.account_id))
    app = IntegrationsAdmin(store, member)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, AccountScreen)
        assert "Read-only: changing settings needs the permission" in flat(app)
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert notes(app)[-1] == (
            "You cannot change the account settings: it needs the permission "
            "'Manage add-ons and integrations'. Ask an owner of the account to grant it."
        )

        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)
        assert "read-only: only an owner of the account manages users" in flat(app)
        for key, doing in (("n", "add users"), ("d", "remove users"), ("e", "change users")):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, (FormDialog, ConfirmDialog)), key
            assert notes(app)[-1] == (
                f"You cannot {doing}: only an owner of the account manages users. "
                "Ask an owner to do it."
            )
        await pilot.press("g")
        await pilot.pause()
        # The cursor is on alice, who has the permission.
        assert notes(app)[-1].startswith("You cannot withdraw permissions: only an owner")
    assert (people(store, owner.account_id), audit.count(store, owner.account_id)) == before


async def test_the_integrations_permission_does_not_manage_people(store, owner):
    users.add(store, owner, "dave", can_manage=True)
    dave = accounts.sign_in(store, "dave")
    app = IntegrationsAdmin(store, dave)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("u", "n")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert notes(app)[-1].startswith("You cannot add users: only an owner")
        # The account settings are theirs to change.
        await pilot.press("o", "e")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)


async def test_owner_grants_and_the_member_can_then_act(store, owner, member):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("u")
        await pilot.pause()
        await select_row(pilot, "bob")
        await pilot.press("g")
        await pilot.pause()
        assert notes(app)[-1] == "'Manage add-ons and integrations' granted to bob."
        row = app.screen.query_one(FilterTable).table.get_row_at(1)
        assert [str(c) for c in row][:4] == ["bob", "Bob Viewer", "member", "yes"]
    assert ("bob", "member", True) in people(store, owner.account_id)

    # A new session of the app, as bob: enabling an extension now works.
    bob = accounts.sign_in(store, "bob")
    app = IntegrationsAdmin(store, bob)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        assert "bob (member)" in app.sub_title and "read-only" not in app.sub_title
        await pilot.press("m")
        await pilot.pause()
        await select_row(pilot, CUSTOM_KEY)
        await pilot.press("e")
        await pilot.pause()
    assert [i.key for i in integrations.active(store, owner.account_id)] == [CUSTOM_KEY]
    [entry] = audit.entries(store, owner.account_id, text="extension.enable")
    assert entry.actor == "bob"


async def test_owner_adds_edits_and_removes_a_user_by_keys(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("u", "n")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await type_text(pilot, "carol")
        await pilot.press("tab")
        await type_text(pilot, "Carol Dev")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)
        assert app.screen.query_one(FilterTable).selected_key == "carol"
        assert ("carol", "member", False) in people(store, owner.account_id)

        # The same login again: refused in the form, under the field, input kept.
        await pilot.press("n")
        await type_text(pilot, "carol")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert "A user with the login 'carol' already exists." in flat(app)
        await pilot.press("escape")
        await pilot.pause()

        # e: make carol an owner.
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormDialog)
        form.set_value("role", "owner")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert ("carol", "owner", True) in people(store, owner.account_id)

        # d: remove carol, after a confirmation.
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "Remove the user carol?" in flat(app)
        await pilot.press("y")
        await pilot.pause()
        assert notes(app)[-1] == "Removed carol."
    assert people(store, owner.account_id) == [("alice", "owner", True)]


async def test_the_last_owner_is_kept_from_the_users_view(store, owner, member):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("u")
        await pilot.pause()
        await select_row(pilot, "alice")
        # Demote the last owner: refused in the form, nothing changes.
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormDialog)
        form.set_value("role", "member")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert "alice is the last owner of the account and cannot be demoted" in flat(app)
        await pilot.press("escape")
        await pilot.pause()
        # Remove yourself: refused.
        await pilot.press("d", "y")
        await pilot.pause()
        assert notes(app)[-1].startswith("You cannot remove yourself")
    assert people(store, owner.account_id) == [
        ("alice", "owner", True),
        ("bob", "member", False),
    ]

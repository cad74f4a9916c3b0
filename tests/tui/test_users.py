"""People, plan and the audit log by keys: the Account view (`o`), the Users
view (`u`) and the Audit log (`a`). Pilot tests on both backends: assert on the
screen, the notifications and the store."""

from __future__ import annotations

from store import accounts, audit, integrations, settings, users
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog
from tui.screens.account import AccountScreen
from tui.screens.audit import PAGE, AuditEntryScreen, AuditScreen
from tui.screens.users import UsersScreen
from tui.widgets.filter_table import FilterTable

from ..store.test_audit import bulk_insert
from ..ui import flat, screen_text, type_text


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def people(store, account_id):
    return [(u.login, u.role, u.can_manage) for u in accounts.list_users(store, account_id)]


def field_error(app, name: str) -> str:
    """The error a form shows under one of its fields."""
    return str(app.screen.query_one(f"#e-{name}").content)


async def settle(pilot) -> None:
    """Let the audit screen's thread workers finish and their results land."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def select_row(pilot, key: str) -> None:
    table = pilot.app.screen.query_one(FilterTable)
    for _ in range(table.row_count):
        if table.selected_key == key:
            return
        await pilot.press("down")
    assert table.selected_key == key


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


# -- the account view ------------------------------------------------------------------


async def test_account_view_shows_plan_limits_usage_and_settings(store, owner):
    from store import blueprints, marketplace

    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    blueprints.create(store, owner, iid, name="Orders")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("o")
        await pilot.pause()
        text = flat(app)
        for expected in (
            "My account · Business plan · 1 user (1 owner, press u)",
            "✓ Playbooks included",
            "Custom blueprints 1/10",
            "Connected blueprints per playbook 0/5",
            "Data fields per playbook 0/300",
            "Playbooks 0/100",
            "Webhook timeout 10 s",
            "Allow webhooks to private networks off",
        ):
            assert expected in text, expected


async def test_owner_changes_settings_and_a_bad_value_changes_nothing(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("o", "e")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("ctrl+u")
        await type_text(pilot, "45")
        await pilot.press("tab", "space", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert field_error(app, "webhook_timeout_s") == (
            "The webhook timeout must be 1-30 seconds; 45 is outside that range."
        )
        assert settings.webhook_settings(store, owner.account_id) == settings.WebhookSettings(
            10, False
        )
        # The refused field has the focus again.
        assert app.focused is app.screen.query_one("#f-webhook_timeout_s")
        await pilot.press("ctrl+u")
        await type_text(pilot, "25")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, AccountScreen)
        assert "Webhook timeout 25 s" in flat(app)
    assert settings.webhook_settings(store, owner.account_id) == settings.WebhookSettings(25, True)
    assert [e.detail for e in audit.entries(store, owner.account_id, text="account.settings")] == [
        "Allow webhooks to private networks: off -> on",
        "webhook timeout 10 s -> 25 s",
    ]


# -- the audit log ------------------------------------------------------------------------


def table_rows(app) -> list[list[str]]:
    table = app.screen.table
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_audit_filter_returns_the_right_rows_among_100000(store, owner):
    bulk_insert(store, owner.account_id, 100_000)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        # One page, newest first: never the whole log.
        assert screen.table.row_count == PAGE
        assert table_rows(app)[0][1:4] == ["carol", "webhook.delete", "Object 100000"]
        assert "100,001 entries, newest first" in screen_text(app)

        await pilot.press("slash")
        await type_text(pilot, "carol")
        await settle(pilot)
        rows = table_rows(app)
        assert [r[3] for r in rows] == [f"Object {n}" for n in range(100_000, 0, -1000)]
        assert {r[1] for r in rows} == {"carol"}
        assert "100 of 100,001 entries match 'carol'" in screen_text(app)

        # Narrow further while typing: by object name.
        await pilot.press("ctrl+u")
        await type_text(pilot, "object 9999")
        await settle(pilot)
        assert sorted(r[3] for r in table_rows(app)) == sorted(
            f"Object {n}" for n in [9_999, *range(99_990, 100_000)]
        )
        await type_text(pilot, "9")
        await settle(pilot)
        assert [r[3] for r in table_rows(app)] == ["Object 99999"]

        # escape clears the filter and returns to the whole log.
        await pilot.press("escape")
        await settle(pilot)
        assert screen.table.row_count == PAGE
        assert app.focused is screen.table


async def test_audit_pages_by_key_as_the_cursor_goes_down(store, owner):
    bulk_insert(store, owner.account_id, 1000)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert len(screen.records) == PAGE
        for _ in range(6):
            await pilot.press("end")
            await settle(pilot)
        ids = [r.id for r in screen.records]
        assert len(ids) == 1001 == screen.table.row_count
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
        assert not screen.more


async def test_audit_uses_the_filter_box_of_every_list_with_its_pages(store, owner):
    """The audit log is a FilterTable (the box, `/`, escape, enter of every list)
    whose search runs in SQL; the next page is added under the cursor, not refilled."""
    bulk_insert(store, owner.account_id, 300)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        listing = screen.query_one("#audit-list")
        assert isinstance(listing, FilterTable) and listing.table is screen.table
        await pilot.press("end")  # the last loaded entry: the next page comes
        await settle(pilot)
        assert screen.table.row_count == 301 == listing.row_count
        assert screen.table.cursor_row == PAGE - 1
        last = screen.records[PAGE - 1]
        assert screen.selected() is last and listing.selected_item is last
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AuditEntryScreen) and app.screen.record is last
        await pilot.press("escape", "slash")
        await type_text(pilot, "admin3")
        await settle(pilot)
        assert listing.filter_text == "admin3" and listing.row_count == 43  # i % 7 == 3
        assert {r.actor for r in screen.records} == {"admin3"}
        assert screen.selected() is screen.records[0]  # a search starts at its first row
        await pilot.press("escape")
        await settle(pilot)
        assert listing.row_count == PAGE and app.focused is screen.table


async def test_audit_enter_shows_an_entry_whole(store, owner):
    long_detail = "step " + " ".join(f"w{n}" for n in range(60)) + "\nsecond line [bold]x"
    with store.write(owner.account_id) as s:
        audit.record(
            s,
            account_id=owner.account_id,
            actor="alice",
            action="playbook.update",
            object_type="playbook",
            object_id=7,
            object_name="Sales [red]deal",
            detail=long_detail,
        )
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AuditEntryScreen)
        body = str(app.screen.query_one("#entry-body").content)
        assert "Object  playbook #7\n" in body
        assert "Name    Sales [red]deal\n" in body
        assert body.endswith("Detail\n" + long_detail)
        assert "Sales [red]deal" in screen_text(app)  # shown literally, not as markup
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)


async def test_audit_shows_what_happened_meanwhile(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        assert [r[2] for r in table_rows(app)] == ["account.create"]
        await pilot.press("u", "n")
        await type_text(pilot, "carol")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("a")
        await settle(pilot)
        assert table_rows(app)[0][1:4] == ["alice", "user.add", "carol"]


async def test_sections_are_in_the_palette_and_help(store, owner):
    from tui.commands import palette_commands
    from tui.screens.help import HelpScreen

    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        titles = [c.title for c in palette_commands(app, app.screen)]
        for title in ("Go to Audit log", "Go to Account", "Go to Users"):
            assert title in titles
        # Running the palette's command opens the section.
        [users_cmd] = [c for c in palette_commands(app, app.screen) if c.title == "Go to Users"]
        users_cmd.callback()
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = flat(app)
        assert "o Account: plan, limits with usage, settings" in text
        assert "u Users: roles and the permission" in text

"""Refusals known before asking: a key whose action the store would refuse says
the store's words at once, before any form, picker or confirmation opens, and
the footer shows it dimmed (a change of state could allow it) or not at all
(it can never work for this user here). Pilot tests on both backends: the
screen, the notifications, the footer, and what the store holds."""

from __future__ import annotations

from store import accounts, audit, blueprints, catalog, marketplace, playbooks, tokens, users
from store.catalog import CUSTOM_KEY
from store.refusals import (
    NATIVE_BLUEPRINTS,
    NATIVE_TOKENS,
    NATIVE_WEBHOOKS,
    blueprint_delete_refusal,
    limit_refusal,
    manage_refusal,
    native_integration_refusal,
    owner_refusal,
    read_only_blueprint_refusal,
    revoked_token_refusal,
    user_remove_refusal,
)
from tui.app import IntegrationsAdmin
from tui.dialogs.base import Dialog
from tui.screens.marketplace import ExtensionCard
from tui.widgets.footer import Footer

from ..ui import select_row, wait_until


def last_note(app) -> str:
    notes = [n.message for n in app._notifications]
    return notes[-1] if notes else ""


def footer(app) -> dict[str, bool]:
    """The keys the footer of the screen on top shows: description -> enabled
    (False: dimmed). A hidden key is not there."""
    keys, _palette = app.screen.query_one(Footer).keys()
    return {k.description: k.enabled for k in keys}


def footer_text(app) -> str:
    return app.screen.query_one(Footer).render().plain


async def press_refused(pilot, key: str, words: str) -> None:
    """Press ``key``: the store's ``words`` are said at once and nothing opens."""
    app = pilot.app
    under = app.screen
    await pilot.press(key)
    await pilot.pause()
    assert app.screen is under, f"{key} opened {app.screen!r}"
    assert not isinstance(app.screen, Dialog)
    assert last_note(app) == words, key


def custom_with_blueprint(store, owner, name: str = "Orders"):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    return iid, blueprints.create(store, owner, iid, name=name)


# -- the four known defects ----------------------------------------------------------


async def test_deleting_a_connected_blueprint_is_refused_before_the_confirmation(store, owner):
    iid, bp = custom_with_blueprint(store, owner)
    for name in ("Sales", "NDA"):
        pb = playbooks.create(store, owner, name=name)
        playbooks.connect(store, owner, pb.id, bp.id)
    entries = audit.count(store, owner.account_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2")
        await pilot.pause()
        await press_refused(pilot, "d", blueprint_delete_refusal("Orders", ["NDA", "Sales"]))
        assert footer(app)["Delete"] is False  # dimmed: disconnecting would allow it
        assert footer(app)["New blueprint"] is True
        assert "'NDA', 'Sales'" in last_note(app)  # the refusal names the playbooks
    assert [b.name for b in blueprints.for_integration(store, owner.account_id, iid)] == ["Orders"]
    assert audit.count(store, owner.account_id) == entries


async def test_removing_yourself_is_refused_before_the_confirmation(store, owner, member):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("u")
        await pilot.pause()
        await select_row(pilot, "alice")
        await press_refused(
            pilot, "d", user_remove_refusal("alice", is_yourself=True, is_owner=True, owners=1)
        )
        assert footer(app)["Remove"] is False
        # Another row: the key works again, and asks first.
        await select_row(pilot, "bob")
        assert footer(app)["Remove"] is True
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, Dialog)
        await pilot.press("n")
    assert [u.login for u in accounts.list_users(store, owner.account_id)] == ["alice", "bob"]


async def test_new_blueprint_at_the_limit_is_refused_before_typing(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    for n in range(10):
        blueprints.create(store, owner, iid, name=f"Blueprint {n}")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2")
        await pilot.pause()
        await press_refused(pilot, "n", limit_refusal(10, 10, "custom blueprints"))
        assert footer(app)["New blueprint"] is False  # dimmed: deleting one would allow it
        # Typing now reaches no form: the next keys are the list's, nothing is created.
        await pilot.press("x", "y")
        await pilot.pause()
        assert not isinstance(app.screen, Dialog)
    assert len(blueprints.for_integration(store, owner.account_id, iid)) == 10


async def test_new_playbook_on_free_is_refused_before_typing(store, owner):
    playbooks.create(store, owner, name="Sales")
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", plan="Free")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p")
        await pilot.pause()
        await press_refused(pilot, "n", catalog.playbooks_refusal("Free", "create playbooks"))
        keys = footer(app)
        assert keys["New playbook"] is False and keys["Edit"] is False
        assert keys["Delete"] is True  # deleting stays possible on Free
        await press_refused(pilot, "e", catalog.playbooks_refusal("Free", "change playbooks"))
        # The playbook's own page: its keys refuse at once too.
        await pilot.press("enter")
        await pilot.pause()
        await press_refused(pilot, "n", catalog.playbooks_refusal("Free", "add data fields"))
        await press_refused(pilot, "f", catalog.playbooks_refusal("Free", "create data fields"))
        await pilot.press("2")
        await pilot.pause()
        await press_refused(
            pilot, "n", catalog.playbooks_refusal("Free", "connect blueprints to playbooks")
        )
    assert [p.name for p in playbooks.all_for_account(store, owner.account_id)] == ["Sales"]


# -- the same kind ------------------------------------------------------------------------


async def test_a_read_only_user_sees_no_key_that_only_refuses(store, owner, member):
    iid, _bp = custom_with_blueprint(store, owner)
    tokens.generate(store, owner, iid, name="ERP")
    app = IntegrationsAdmin(store, member)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2")
        await pilot.pause()
        keys = footer(app)
        assert "New blueprint" not in keys and "Edit" not in keys and "Delete" not in keys
        assert "Filter" in keys  # what a reader can do stays
        # A press still says why, in the store's words.
        await press_refused(pilot, "n", manage_refusal(member, "create blueprints"))
        await press_refused(pilot, "e", manage_refusal(member, "change blueprints"))
        await press_refused(pilot, "d", manage_refusal(member, "delete blueprints"))
        await pilot.press("3")
        await pilot.pause()
        assert "New token" not in footer(app) and "Revoke" not in footer(app)
        await press_refused(pilot, "n", manage_refusal(member, "generate API tokens"))
        await press_refused(pilot, "d", manage_refusal(member, "revoke API tokens"))
        await pilot.press("4")
        await pilot.pause()
        assert not {"New webhook", "Test", "Delete", "Webhook settings"} & set(footer(app))
        await press_refused(pilot, "n", manage_refusal(member, "create webhooks"))
        await press_refused(pilot, "s", manage_refusal(member, "change the webhook settings"))
        await pilot.press("2", "enter")  # the blueprint's page
        await pilot.pause()
        assert "Add field" not in footer(app)
        await press_refused(pilot, "n", manage_refusal(member, "add blueprint fields"))
        await pilot.press("p")
        await pilot.pause()
        assert "New playbook" not in footer(app)
        await press_refused(pilot, "n", manage_refusal(member, "create playbooks"))
        await pilot.press("m")
        await pilot.pause()
        assert "Enable/Disable" not in footer(app)
        await select_row(pilot, CUSTOM_KEY)
        await press_refused(pilot, "e", manage_refusal(member, "disable Custom integration"))
        await pilot.press("o")
        await pilot.pause()
        assert "Edit settings" not in footer(app)
        await press_refused(pilot, "e", manage_refusal(member, "change the account settings"))
        await pilot.press("u")
        await pilot.pause()
        assert not {"Add user", "Grant/Withdraw", "Edit", "Remove"} & set(footer(app))
        await press_refused(pilot, "n", owner_refusal(member, "add users"))
        await press_refused(pilot, "d", owner_refusal(member, "remove users"))


async def test_granted_meanwhile_the_key_works_at_once(store, owner, member):
    """The footer is drawn from what the screen holds; a press reads who acts
    again: an owner's grant meanwhile opens the form, no restart needed."""
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, member)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2")
        await pilot.pause()
        assert "New blueprint" not in footer(app)
        users.set_permission(store, owner, "bob", True)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, Dialog)
        await pilot.press("escape")
        await pilot.pause()
        assert footer(app)["New blueprint"] is True


async def test_withdrawn_meanwhile_the_footer_follows_before_a_key(store, owner, member):
    """An owner withdraws the permission while the member looks at the tab: the
    change poll reads who acts again (in its worker) and the keys go from the
    footer by themselves; a press then says why, and opens nothing."""
    users.set_permission(store, owner, "bob", True)
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, accounts.sign_in(store, "bob"))
    app.CHANGES_POLL_S = 0.05
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2")
        assert footer(app)["New blueprint"] is True
        users.set_permission(store, owner, "bob", False)
        await wait_until(pilot, lambda: "New blueprint" not in footer(app), tries=500)
        await press_refused(pilot, "n", manage_refusal(app.actor, "create blueprints"))


async def test_native_integration_tabs_are_read_only_with_the_store_words(store, owner):
    marketplace.enable(store, owner, "salesforce")
    [bp] = blueprints.all_for_account(store, owner.account_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2")
        await pilot.pause()
        assert not {"New blueprint", "Edit", "Delete"} & set(footer(app))
        await press_refused(
            pilot, "n", native_integration_refusal("Salesforce", True, NATIVE_BLUEPRINTS)
        )
        await press_refused(pilot, "d", read_only_blueprint_refusal(bp.name, True))
        await pilot.press("3")
        await pilot.pause()
        assert "New token" not in footer(app)
        await press_refused(
            pilot, "n", native_integration_refusal("Salesforce", True, NATIVE_TOKENS)
        )
        await pilot.press("4")
        await pilot.pause()
        assert not {"New webhook", "Test", "Delete"} & set(footer(app))
        assert footer(app)["Webhook settings"] is True  # the account's, not the integration's
        await press_refused(
            pilot, "n", native_integration_refusal("Salesforce", True, NATIVE_WEBHOOKS)
        )
        # The managed webhook's own page: no test or delete key, the reason when pressed.
        await pilot.press("enter")
        await pilot.pause()
        assert not {"Test", "Delete"} & set(footer(app))
        await press_refused(
            pilot, "t", "This webhook is managed by Salesforce: the platform sends to it."
        )
        # The native blueprint's page: its fields are read-only.
        await pilot.press("escape", "2", "enter")
        await pilot.pause()
        assert "Add field" not in footer(app)
        await press_refused(pilot, "n", read_only_blueprint_refusal(bp.name, True))


async def test_connected_blueprints_at_the_limit_refuse_before_the_picker(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    pb = playbooks.create(store, owner, name="Sales")
    for n in range(5):
        bp = blueprints.create(store, owner, iid, name=f"B{n}")
        playbooks.connect(store, owner, pb.id, bp.id)
    blueprints.create(store, owner, iid, name="One more")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "enter", "2")
        await pilot.pause()
        assert footer(app)["Connect"] is False
        assert footer(app)["Disconnect"] is True
        await press_refused(
            pilot,
            "n",
            limit_refusal(5, 5, "connected blueprints", holder="'Sales'", remedy="disconnect one"),
        )
    assert len(playbooks.detail(store, owner.account_id, pb.id).connections) == 5


async def test_data_fields_and_playbooks_at_their_limits_refuse_before_typing(store, owner):
    pb = playbooks.create(store, owner, name="Sales")
    playbooks.add_data_field(store, owner, pb.id, name="One")
    accounts.set_plan_and_limits(
        store, owner.account_id, operator="op", limits={"data_fields": 1, "playbooks": 1}
    )
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert footer(app)["New playbook"] is False
        await press_refused(pilot, "n", limit_refusal(1, 1, "playbooks"))
        await pilot.press("enter")
        await pilot.pause()
        assert footer(app)["Add"] is False and footer(app)["Edit"] is True
        await press_refused(pilot, "n", limit_refusal(1, 1, "data fields", holder="'Sales'"))


async def test_suspended_integration_dims_its_keys_and_says_why(store, owner):
    iid, _bp = custom_with_blueprint(store, owner)
    tokens.generate(store, owner, iid, name="ERP")
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", plan="Free")
    words = catalog.suspended_by_plan(CUSTOM_KEY, "Free")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2")
        await pilot.pause()
        keys = footer(app)
        assert keys["New blueprint"] is False and keys["Delete"] is False
        await press_refused(pilot, "n", words)
        await pilot.press("3")
        await pilot.pause()
        # Revoking stays possible (a leaked token can always be stopped).
        assert footer(app)["New token"] is False and footer(app)["Revoke"] is True
        await press_refused(pilot, "n", words)


async def test_a_revoked_token_is_refused_before_the_confirmation(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    info, _ = tokens.generate(store, owner, iid, name="ERP")
    revoked = tokens.revoke(store, owner, info.id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "3")
        await pilot.pause()
        assert footer(app)["Revoke"] is False
        await press_refused(pilot, "d", revoked_token_refusal("ERP", revoked.revoked_at))


async def test_enabling_on_a_plan_without_it_is_refused_on_the_card_too(store, owner):
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", plan="Essentials")
    ext = catalog.extension(CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("m")
        await pilot.pause()
        await select_row(pilot, CUSTOM_KEY)
        assert footer(app)["Enable/Disable"] is False
        await press_refused(pilot, "e", marketplace.plan_refusal(ext, "Essentials"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExtensionCard)
        assert footer(app)["Enable/Disable"] is False
        await pilot.press("e")
        await pilot.pause()
        # The card stays open, the reason said.
        assert isinstance(app.screen, ExtensionCard)
        assert last_note(app) == marketplace.plan_refusal(ext, "Essentials")
    assert marketplace.extensions(store, owner.account_id)
    assert not [s for s in marketplace.extensions(store, owner.account_id) if s.enabled], (
        "nothing was enabled"
    )


async def test_the_palette_says_the_refusal_too(store, owner):
    """The command palette's "New playbook" runs the same action: on Free it
    says the plan's words and opens no form."""
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", plan="Free")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p")
        await pilot.pause()
        await app.run_action("new", app.screen)
        await pilot.pause()
        assert not isinstance(app.screen, Dialog)
        assert last_note(app) == catalog.playbooks_refusal("Free", "create playbooks")


async def test_a_webhook_page_shows_a_reader_no_key_that_only_refuses(store, owner, member):
    from store import webhooks

    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    webhooks.create(
        store,
        owner,
        iid,
        url="https://hooks.example.com/a",
        sign_key=webhooks.generate_signing_key(),
    )
    app = IntegrationsAdmin(store, member)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "4", "enter")
        await pilot.pause()
        keys = footer(app)
        assert not {"Test", "Reveal key", "Copy key", "Delete"} & set(keys), keys
        await press_refused(pilot, "r", manage_refusal(member, "reveal signing keys"))
        await press_refused(pilot, "c", manage_refusal(member, "copy signing keys"))
        await press_refused(pilot, "t", manage_refusal(member, "test webhooks"))
    assert audit.entries(store, owner.account_id, text="webhook.reveal_key") == []

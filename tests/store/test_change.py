"""store.change: the one way to change the store, and the pure refusals whose
words it uses. Both backends."""

from __future__ import annotations

import pytest

from store import accounts, audit, blueprints, clock, marketplace, refusals, settings, users
from store.catalog import CUSTOM_KEY
from store.change import anyone, change
from store.db import Store
from store.errors import (
    Conflict,
    LimitReached,
    PermissionDenied,
    PlanRequired,
    StoreUnavailable,
    ValidationError,
)
from store.models import Account, Blueprint


def _names(store, account_id):
    return sorted(b.name for b in blueprints.all_for_account(store, account_id))


# -- the lock, the permission, one transaction -----------------------------------------


def test_a_change_holds_the_accounts_write_lock(store, owner):
    impatient = Store(store.url, lock_timeout_s=0.3)
    impatient.prepare()
    try:
        with change(store, owner, "hold the lock") as c:
            c.log("test.hold", "account", owner.account_id)
            # Another program's change of the same account waits for this one,
            # and says the store's words when it cannot wait longer.
            with (
                pytest.raises(StoreUnavailable) as err,
                change(impatient, owner, "wait") as other,
            ):
                other.log("test.wait", "account", owner.account_id)
            assert str(err.value) == (
                "The database is busy with another administrator's change; try again."
            )
        with change(impatient, owner, "go after") as other:  # free once committed
            other.log("test.after", "account", owner.account_id)
    finally:
        impatient.dispose()
    assert [e.action for e in audit.entries(store, owner.account_id, text="test.")] == [
        "test.after",
        "test.hold",
    ]


def test_a_change_opens_store_write_with_the_account(store, owner, monkeypatch):
    seen = []
    real = store.write

    def spy(account_id=None, **kw):
        seen.append((account_id, kw))
        return real(account_id, **kw)

    monkeypatch.setattr(store, "write", spy)
    with change(store, owner, "look") as c:
        assert c.account.id == owner.account_id
    # With the user whose permission it checks, read with the account's counter.
    assert seen == [
        (
            owner.account_id,
            {"whole_database": False, "quick": False, "acting_user": owner.user_id},
        )
    ]


def test_a_quick_change_reads_the_account_when_asked_and_counts_the_change(store, owner):
    """A quick change (the API's, store.driver) loads no Account up front, but
    one that asks for it gets it, and the account's change counter goes up
    as with any other change."""
    with store.read() as s:
        before = s.get(Account, owner.account_id).changes
    with change(store, owner, "look", quick=True) as c:
        assert c.account.id == owner.account_id
        c.log("test.quick", "account", owner.account_id, "quick")
    assert store.committed_changes() == before + 1
    with store.read() as s:
        assert s.get(Account, owner.account_id).changes == before + 1
    assert [e.action for e in audit.entries(store, owner.account_id, text="test.quick")] == [
        "test.quick"
    ]


def test_the_permission_is_checked_with_the_refusal_words(store, member):
    with pytest.raises(PermissionDenied) as err, change(store, member, "create blueprints") as c:
        c.log("never", "account")
    assert str(err.value) == refusals.manage_refusal(member, "create blueprints")
    assert str(err.value) == (
        "You cannot create blueprints: it needs the permission 'Manage add-ons and "
        "integrations'. Ask an owner of the account to grant it."
    )
    assert audit.entries(store, member.account_id, text="never") == []


def test_the_permission_is_read_in_the_transaction_not_from_the_actor(store, owner, member):
    stale = member  # the program opened while bob had no permission
    users.set_permission(store, owner, "bob", True)
    with change(store, stale, "create blueprints") as c:
        c.log("test.granted", "account")
    assert audit.entries(store, owner.account_id, text="test.granted")[0].actor == "bob"


def test_a_refusal_rolls_back_everything_with_its_audit_entry(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    before = audit.count(store, owner.account_id)
    with pytest.raises(Conflict), change(store, owner, "create blueprints") as c:
        c.s.add(
            Blueprint(
                account_id=owner.account_id,
                integration_id=iid,
                name="Half done",
                native=False,
                created_at=clock.now(),
                created_by=owner.login,
            )
        )
        c.s.flush()
        c.log("blueprint.create", "blueprint", None, "Half done")
        raise Conflict("refused after writing")
    assert _names(store, owner.account_id) == []
    assert audit.count(store, owner.account_id) == before


def test_log_writes_the_entry_with_the_actor_and_the_account(store, owner):
    with change(store, owner, "write") as c:
        c.log("test.log", "account", owner.account_id, "My account", "a detail")
    (e,) = audit.entries(store, owner.account_id, text="test.log")
    assert (e.actor, e.action, e.object_type, e.object_id, e.object_name, e.detail) == (
        "alice",
        "test.log",
        "account",
        owner.account_id,
        "My account",
        "a detail",
    )


def test_the_operator_is_logged_by_its_label(store, owner):
    op = users.Operator("root", owner.account_id)
    users.add(store, op, "carol")
    (e,) = audit.entries(store, owner.account_id, text="carol")
    assert e.actor == "operator:root"


# -- the checks ------------------------------------------------------------------------


def test_within_limit_refuses_with_the_limit_words(store, owner):
    with change(store, owner, "count") as c:
        c.within_limit(9, 10, "custom blueprints")  # room for one more
        with pytest.raises(LimitReached) as err:
            c.within_limit(10, 10, "custom blueprints")
        with pytest.raises(LimitReached) as err2:
            c.within_limit(5, 5, "connected blueprints", holder="'Sales'", remedy="disconnect one")
    assert (err.value.what, err.value.limit) == ("Custom blueprints", 10)
    assert str(err.value) == (
        "This account already has 10 of 10 custom blueprints: delete one or ask your "
        "operator to raise the limit."
    )
    assert str(err2.value) == (
        "'Sales' already has 5 of 5 connected blueprints: disconnect one or ask your "
        "operator to raise the limit."
    )
    assert refusals.limit_refusal(9, 10, "custom blueprints") is None
    assert refusals.limit_refusal(10, 10, "custom blueprints") == str(err.value)


def test_unchanged_since_refuses_a_stale_version_and_bumps_a_fresh_one(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    bp = blueprints.create(store, owner, iid, name="Orders")
    with change(store, owner, "edit") as c:
        row = c.s.get(Blueprint, bp.id)
        with pytest.raises(Conflict) as err:
            c.unchanged_since(row, row.version + 1, repr(row.name))
        c.unchanged_since(row, row.version, repr(row.name))
        c.unchanged_since(row, None, repr(row.name))  # no version: no check, still bumped
        c.s.add(row)
    assert str(err.value) == (
        "'Orders' was changed by someone else meanwhile; reopen it to see the latest version."
    )
    assert blueprints.detail(store, owner.account_id, bp.id).blueprint.version == bp.version + 2


def test_unique_refuses_a_taken_name_on_its_field(store, owner):
    with pytest.raises(ValidationError) as err, change(store, owner, "name") as c:
        c.unique(False, "name", "free")
        c.unique(True, "name", "A blueprint named 'Orders' already exists.")
    assert (err.value.field, str(err.value)) == (
        "name",
        "A blueprint named 'Orders' already exists.",
    )


def test_unique_turns_the_databases_refusal_into_its_words(store, owner):
    """A name taken meanwhile (the check saw it free, the database refuses it)."""
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    blueprints.create(store, owner, iid, name="Orders")
    before = audit.count(store, owner.account_id)
    with pytest.raises(ValidationError) as err, change(store, owner, "create blueprints") as c:
        c.unique(False, "name", "seen free", race="A blueprint named 'Orders' already exists.")
        c.log("blueprint.create", "blueprint", None, "Orders")
        c.s.add(
            Blueprint(
                account_id=owner.account_id,
                integration_id=iid,
                name="Orders",
                native=False,
                created_at=clock.now(),
                created_by=owner.login,
            )
        )
        c.s.flush()
    assert (err.value.field, str(err.value)) == (
        "name",
        "A blueprint named 'Orders' already exists.",
    )
    assert audit.count(store, owner.account_id) == before
    assert _names(store, owner.account_id) == ["Orders"]


def test_without_a_unique_guard_the_databases_refusal_is_not_hidden(store, owner):
    from sqlalchemy.exc import IntegrityError

    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    blueprints.create(store, owner, iid, name="Orders")
    with pytest.raises(IntegrityError), change(store, owner, "create blueprints") as c:
        c.s.add(
            Blueprint(
                account_id=owner.account_id,
                integration_id=iid,
                name="Orders",
                native=False,
                created_at=clock.now(),
                created_by=owner.login,
            )
        )
        c.s.flush()


def test_require_plan_refuses_with_the_plans_words(store, owner):
    accounts.set_plan_and_limits(store, owner.account_id, operator="test", plan="Free")
    with pytest.raises(PlanRequired) as err, change(store, owner, "enable") as c:
        c.require_plan("Business", None)  # no refusal: goes on
        c.require_plan("Business", "Needs Business.")
    assert (err.value.plan, str(err.value)) == ("Business", "Needs Business.")


def test_the_program_itself_changes_without_a_permission_check(store, member):
    with change(store, None, "tidy up", check=anyone, account_id=member.account_id) as c:
        assert c.account.id == member.account_id
        c.account.name = "Renamed by the program"
        c.s.add(c.account)
    assert accounts.account_info(store, member.account_id).name == "Renamed by the program"
    assert isinstance(c.account, Account)


# -- the pure refusals -----------------------------------------------------------------


def test_pure_refusals_say_what_the_store_says(store, owner, member):
    assert refusals.manage_refusal(owner, "create blueprints") is None
    assert refusals.owner_refusal(owner, "add users") is None
    with pytest.raises(PermissionDenied) as err:
        users.add(store, member, "carol")
    assert str(err.value) == refusals.owner_refusal(member, "add users")

    me = users.get(store, owner.account_id, "alice")
    with pytest.raises(Conflict) as err:
        users.remove(store, owner, "alice")
    assert str(err.value) == refusals.user_remove_refusal(
        "alice", is_yourself=True, is_owner=True, owners=1
    )
    assert refusals.user_remove_refusal("bob", is_yourself=False, is_owner=False, owners=1) is None
    with pytest.raises(Conflict) as err:
        users.remove(store, users.Operator("root", owner.account_id), "alice")
    assert str(err.value) == refusals.user_remove_refusal(
        me.login, is_yourself=False, is_owner=True, owners=1
    )
    with pytest.raises(Conflict) as err:
        users.demote(store, owner, "alice")
    assert str(err.value) == refusals.user_demote_refusal("alice", is_owner=True, owners=1)
    assert refusals.user_demote_refusal("alice", is_owner=True, owners=2) is None


def test_blueprint_refusals_say_what_the_store_says(store, owner):
    from store import playbooks

    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    bp = blueprints.create(store, owner, iid, name="Orders")
    for name in ("Sales 10", "Sales 2"):
        pb = playbooks.create(store, owner, name=name)
        playbooks.connect(store, owner, pb.id, bp.id)
    with pytest.raises(Conflict) as err:
        blueprints.delete(store, owner, bp.id)
    assert str(err.value) == refusals.blueprint_delete_refusal("Orders", ["Sales 2", "Sales 10"])
    assert str(err.value) == (
        "'Orders' is connected to 2 playbooks: 'Sales 2', 'Sales 10'. Disconnect it first."
    )
    assert refusals.blueprint_delete_refusal("Orders", []) is None
    assert refusals.read_only_blueprint_refusal("Orders", False) is None
    assert refusals.managed_webhook_refusal("HubSpot", False) is None
    assert "read-only" in (refusals.managed_webhook_refusal("HubSpot", True) or "")


# -- forms that change several things: one call, one transaction ------------------------


def test_settings_form_saves_both_in_one_transaction(store, owner):
    before = audit.count(store, owner.account_id)
    got = settings.update_webhook_settings(store, owner, seconds=20, allow_private=True)
    assert got == settings.WebhookSettings(20, True)
    assert settings.webhook_settings(store, owner.account_id) == got
    details = [e.detail for e in audit.entries(store, owner.account_id, limit=2)]
    assert sorted(details) == [
        "Allow webhooks to private networks: off -> on",
        "webhook timeout 10 s -> 20 s",
    ]
    assert audit.count(store, owner.account_id) == before + 2
    # Nothing to change: no entry.
    settings.update_webhook_settings(store, owner, seconds=20, allow_private=True)
    assert audit.count(store, owner.account_id) == before + 2


@pytest.mark.parametrize("seconds", [0, 31, True])
def test_settings_form_refused_timeout_changes_neither(store, owner, seconds):
    before = audit.count(store, owner.account_id)
    with pytest.raises(ValidationError) as err:
        settings.update_webhook_settings(store, owner, seconds=seconds, allow_private=True)
    assert err.value.field == "webhook_timeout_s"
    assert settings.webhook_settings(store, owner.account_id) == settings.WebhookSettings(10, False)
    assert audit.count(store, owner.account_id) == before


def test_settings_form_a_failure_in_the_second_part_undoes_the_first(store, owner, monkeypatch):
    """A refusal while saving the private-networks part, after the timeout was
    written in the same transaction, leaves the timeout as it was."""
    real = settings._set_allow

    def refuse(c, allow):
        real(c, allow)
        raise Conflict("refused while saving the second part")

    monkeypatch.setattr(settings, "_set_allow", refuse)
    before = audit.count(store, owner.account_id)
    with pytest.raises(Conflict):
        settings.update_webhook_settings(store, owner, seconds=25, allow_private=True)
    assert settings.webhook_settings(store, owner.account_id) == settings.WebhookSettings(10, False)
    assert audit.count(store, owner.account_id) == before


def test_settings_form_needs_the_permission(store, member):
    with pytest.raises(PermissionDenied) as err:
        settings.update_webhook_settings(store, member, seconds=20, allow_private=False)
    assert str(err.value) == refusals.manage_refusal(member, "change the webhook timeout")


def test_user_form_saves_role_and_permission_in_one_transaction(store, owner, member):
    users.promote(store, owner, "bob")
    before = audit.count(store, owner.account_id)
    got = users.update(store, owner, "bob", role="member", can_manage=False)
    assert (got.role, got.can_manage) == ("member", False)
    actions = [e.action for e in audit.entries(store, owner.account_id, limit=2)]
    assert sorted(actions) == ["user.demote", "user.withdraw"]
    assert audit.count(store, owner.account_id) == before + 2
    got = users.update(store, owner, "bob", role="member", can_manage=True)
    assert (got.role, got.can_manage) == ("member", True)
    got = users.update(store, owner, "bob", role="owner", can_manage=False)
    assert (got.role, got.can_manage) == ("owner", True)  # an owner always has it


def test_user_form_a_refused_role_changes_neither(store, owner, member):
    """The last owner demoted, with the permission withdrawn: nothing changes."""
    before = audit.count(store, owner.account_id)
    with pytest.raises(Conflict) as err:
        users.update(store, owner, "alice", role="member", can_manage=False)
    assert "last owner" in str(err.value)
    me = users.get(store, owner.account_id, "alice")
    assert (me.role, me.can_manage) == ("owner", True)
    assert audit.count(store, owner.account_id) == before


def test_user_form_a_failure_in_the_second_part_undoes_the_first(store, owner, member, monkeypatch):
    users.promote(store, owner, "bob")
    real = users._set_permission

    def refuse(c, u, can_manage):
        real(c, u, can_manage)
        raise Conflict("refused while saving the second part")

    monkeypatch.setattr(users, "_set_permission", refuse)
    before = audit.count(store, owner.account_id)
    with pytest.raises(Conflict):
        users.update(store, owner, "bob", role="member", can_manage=False)
    bob = users.get(store, owner.account_id, "bob")
    assert (bob.role, bob.can_manage) == ("owner", True)
    assert audit.count(store, owner.account_id) == before


def test_user_form_refusal_names_what_it_would_change_first(store, owner, member):
    with pytest.raises(PermissionDenied) as err:
        users.update(store, member, "bob", role="member", can_manage=True)
    assert str(err.value) == refusals.owner_refusal(member, "grant permissions")
    with pytest.raises(PermissionDenied) as err:
        users.update(store, member, "bob", role="owner", can_manage=True)
    assert str(err.value) == refusals.owner_refusal(member, "promote users")


def test_the_refusals_load_without_the_database_libraries():
    """A screen may ask them before the store is open (no SQLAlchemy)."""
    import subprocess
    import sys

    code = (
        "import sys, store.refusals; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_token_and_native_refusals_say_what_the_store_says(store, owner):
    from store import tokens

    hub = marketplace.enable(store, owner, "hubspot")
    with pytest.raises(Conflict) as err:
        blueprints.create(store, owner, hub, name="Mine")
    assert str(err.value) == refusals.native_integration_refusal(
        "HubSpot",
        True,
        "its blueprint is created and synced automatically. "
        "Custom blueprints belong to the Custom integration.",
    )
    assert refusals.native_integration_refusal("Custom integration", False, "") is None
    assert refusals.managed_token_refusal("HubSpot (managed)", False) is None
    assert "cannot be revoked here" in (refusals.managed_token_refusal("x", True) or "")
    assert tokens.list_for_integration(store, owner.account_id, hub) == []

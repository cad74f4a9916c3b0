"""Who may manage people: only owners; the last owner stays. Both backends."""

from __future__ import annotations

import threading

import pytest

from store import accounts, audit, users
from store.errors import Conflict, NotFound, PermissionDenied, UnknownUser, ValidationError
from store.users import Operator


def snapshot(store, account_id):
    """Everything a refused call must leave as it was: users and the audit log."""
    return (
        [(u.login, u.name, u.role, u.can_manage) for u in accounts.list_users(store, account_id)],
        audit.count(store, account_id),
    )


def actions():
    """Every user-management action, as (what, call(store, by))."""
    return [
        ("add", lambda st, by: users.add(st, by, "carol")),
        ("grant", lambda st, by: users.set_permission(st, by, "bob", True)),
        ("withdraw", lambda st, by: users.set_permission(st, by, "dave", False)),
        ("promote", lambda st, by: users.promote(st, by, "bob")),
        ("demote", lambda st, by: users.demote(st, by, "alice")),
        ("remove", lambda st, by: users.remove(st, by, "dave")),
    ]


@pytest.fixture
def dave(store, owner):
    """A second member, with the permission."""
    return users.add(store, owner, "dave", name="Dave Dev", can_manage=True)


@pytest.mark.parametrize("what", [a[0] for a in actions()])
def test_member_cannot_manage_users(store, owner, member, dave, what):
    call = dict(actions())[what]
    before = snapshot(store, owner.account_id)
    with pytest.raises(PermissionDenied) as err:
        call(store, member)
    assert "only an owner of the account manages users" in str(err.value)
    assert snapshot(store, owner.account_id) == before


@pytest.mark.parametrize("what", [a[0] for a in actions()])
def test_the_integrations_permission_is_not_enough(store, owner, member, dave, what):
    """dave may manage integrations, but people are an owner's business."""
    call = dict(actions())[what]
    dave_actor = accounts.sign_in(store, "dave")
    assert dave_actor.can_manage and not dave_actor.is_owner
    before = snapshot(store, owner.account_id)
    with pytest.raises(PermissionDenied):
        call(store, dave_actor)
    assert snapshot(store, owner.account_id) == before


def test_owner_adds_a_member_without_the_permission(store, owner):
    u = users.add(store, owner, "  carol ", name="Carol C")
    assert (u.login, u.name, u.role, u.can_manage) == ("carol", "Carol C", "member", False)
    assert u.last_seen_at is None
    [entry] = audit.entries(store, owner.account_id, text="user.add")
    assert (entry.actor, entry.object_name, entry.detail) == (
        "alice",
        "carol",
        "role member; permission no",
    )
    # The new login may now open the program.
    assert accounts.sign_in(store, "carol").login == "carol"


def test_add_refuses_bad_and_duplicate_logins(store, owner, member):
    before = snapshot(store, owner.account_id)
    with pytest.raises(ValidationError) as err:
        users.add(store, owner, "bob")
    assert (err.value.field, str(err.value)) == (
        "login",
        "A user with the login 'bob' already exists.",
    )
    with pytest.raises(ValidationError) as err:
        users.add(store, owner, "   ")
    assert (err.value.field, str(err.value)) == ("login", "Login is required.")
    with pytest.raises(ValidationError) as err:
        users.add(store, owner, "x", role="admin")
    assert err.value.field == "role"
    assert snapshot(store, owner.account_id) == before


def test_owner_grants_and_withdraws(store, owner, member):
    assert not accounts.refresh_actor(store, member).can_manage
    users.set_permission(store, owner, "bob", True)
    assert accounts.refresh_actor(store, member).can_manage
    users.set_permission(store, owner, "bob", False)
    assert not accounts.refresh_actor(store, member).can_manage
    assert [e.action for e in audit.entries(store, owner.account_id, text="bob")] == [
        "user.withdraw",
        "user.grant",
        "user.add",
    ]
    # Granting what is already granted changes nothing and logs nothing.
    n = audit.count(store, owner.account_id)
    users.set_permission(store, owner, "bob", False)
    assert audit.count(store, owner.account_id) == n


def test_an_owner_always_has_the_permission(store, owner):
    with pytest.raises(Conflict) as err:
        users.set_permission(store, owner, "alice", False)
    assert "an owner always has the permission" in str(err.value)
    assert accounts.refresh_actor(store, owner).can_manage


def test_promote_gives_the_permission_and_demote_keeps_it(store, owner, member):
    u = users.promote(store, owner, "bob")
    assert (u.role, u.can_manage) == ("owner", True)
    u = users.demote(store, owner, "bob")
    assert (u.role, u.can_manage) == ("member", True)
    details = [e.detail for e in audit.entries(store, owner.account_id, text="user.")][:2]
    assert details == [
        "role owner -> member; permission yes",
        "role member -> owner; permission yes",
    ]


def test_the_last_owner_cannot_be_demoted(store, owner, member):
    before = snapshot(store, owner.account_id)
    with pytest.raises(Conflict) as err:
        users.demote(store, owner, "alice")
    assert str(err.value) == (
        "alice is the last owner of the account and cannot be demoted: "
        "promote another user to owner first."
    )
    # Not by the operator either.
    with pytest.raises(Conflict):
        users.demote(store, Operator("root", owner.account_id), "alice")
    assert snapshot(store, owner.account_id) == before


def test_the_last_owner_cannot_be_removed(store, owner, member):
    before = snapshot(store, owner.account_id)
    with pytest.raises(Conflict) as err:
        users.remove(store, Operator("root", owner.account_id), "alice")
    assert str(err.value) == (
        "alice is the last owner of the account and cannot be removed: "
        "promote another user to owner first."
    )
    assert snapshot(store, owner.account_id) == before


def test_an_owner_cannot_remove_themselves(store, owner, member):
    users.promote(store, owner, "bob")
    before = snapshot(store, owner.account_id)
    with pytest.raises(Conflict) as err:
        users.remove(store, owner, "alice")
    assert "You cannot remove yourself" in str(err.value)
    assert snapshot(store, owner.account_id) == before


def test_with_two_owners_one_may_go(store, owner, member):
    users.promote(store, owner, "bob")
    bob = accounts.refresh_actor(store, member)
    users.demote(store, bob, "alice")
    alice = accounts.refresh_actor(store, owner)
    assert alice.role == "member"
    # alice's program still holds her old Actor: the store checks the database, not it.
    with pytest.raises(PermissionDenied):
        users.add(store, owner, "carol")
    # bob is now the last owner.
    with pytest.raises(Conflict):
        users.demote(store, bob, "bob")
    users.remove(store, bob, "alice")
    assert [u.login for u in accounts.list_users(store, owner.account_id)] == ["bob"]
    [entry] = audit.entries(store, owner.account_id, text="user.remove")
    assert (entry.actor, entry.object_name, entry.detail) == (
        "bob",
        "alice",
        "was member; permission yes",
    )


def test_owner_removes_a_member_who_then_cannot_sign_in(store, owner, member):
    users.remove(store, owner, "bob")
    assert [u.login for u in accounts.list_users(store, owner.account_id)] == ["alice"]
    with pytest.raises(UnknownUser):
        accounts.refresh_actor(store, member)
    with pytest.raises(UnknownUser) as err:
        accounts.sign_in(store, "bob")
    assert "users add bob" in str(err.value)
    # A removed user's old session can do nothing.
    with pytest.raises(UnknownUser):
        users.add(store, member, "eve")


def test_unknown_login_is_named(store, owner):
    with pytest.raises(NotFound) as err:
        users.remove(store, owner, "nobody")
    assert str(err.value) == "No user with the login 'nobody' in this account."


def test_operator_actions_are_audited_as_operator(store, owner):
    op = Operator("root", owner.account_id)
    users.add(store, op, "carol", role="owner")
    users.demote(store, op, "carol")
    users.remove(store, op, "carol")
    got = [(e.actor, e.action) for e in audit.entries(store, owner.account_id, text="carol")]
    assert got == [
        ("operator:root", "user.remove"),
        ("operator:root", "user.demote"),
        ("operator:root", "user.add"),
    ]


def test_two_owners_demoting_each_other_at_once_leave_one_owner(store, owner, member):
    users.promote(store, owner, "bob")
    bob = accounts.refresh_actor(store, member)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def demote(actor, target):
        barrier.wait()
        try:
            users.demote(store, actor, target)
            results[actor.login] = "ok"
        except (Conflict, PermissionDenied) as exc:
            results[actor.login] = exc

    threads = [
        threading.Thread(target=demote, args=(owner, "bob")),
        threading.Thread(target=demote, args=(bob, "alice")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(v == "ok" for v in results.values()) == [False, True]
    assert users.owners(store, owner.account_id) in (["alice"], ["bob"])


def test_overview_shows_every_limit_with_usage(store, owner):
    from store import blueprints, marketplace, playbooks
    from store.catalog import CUSTOM_KEY

    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    b1 = blueprints.create(store, owner, iid, name="Orders")
    b2 = blueprints.create(store, owner, iid, name="Customers")
    small = playbooks.create(store, owner, name="Small")
    big = playbooks.create(store, owner, name="Big")
    for bp in (b1, b2):
        playbooks.connect(store, owner, big.id, bp.id)
    playbooks.connect(store, owner, small.id, b1.id)
    for n in range(3):
        playbooks.add_data_field(store, owner, small.id, name=f"F{n}")
    ov = accounts.overview(store, owner.account_id)
    got = {u.key: (u.used, u.limit, u.where) for u in ov.limits}
    assert got == {
        "custom_blueprints": (2, 10, ""),
        "connected_blueprints": (2, 5, "Big"),
        "data_fields": (3, 300, "Small"),
        "playbooks": (2, 100, ""),
    }
    assert (ov.users, ov.owners) == (1, 1)
    assert [f.included for f in ov.features] == [True, True, True, True]
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", plan="Free")
    ov = accounts.overview(store, owner.account_id)
    assert [(f.needs, f.included) for f in ov.features] == [
        ("Free", True),
        ("Essentials", False),
        ("Essentials", False),
        ("Business", False),
    ]


@pytest.mark.parametrize("action", ["demote", "remove", "set_role"])
def test_a_login_holding_nul_is_nobody_on_every_backend(store, owner, action):
    """PostgreSQL cannot compare text with NUL: found by the hostile-input test as a
    DataError from demote; now every lookup says there is no such user."""
    args = {"demote": (), "remove": (), "set_role": ("member",)}[action]
    with pytest.raises(NotFound, match="No user with the login"):
        getattr(users, action)(store, owner, "ali\x00ce", *args)
    assert users.owners(store, owner.account_id) == ["alice"]

"""Store rules of accounts: the first sign-in, known and unknown logins, the
operator's plan and limits.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from store import (
    accounts,
    audit,
)
from store.errors import (
    UnknownUser,
    ValidationError,
)

from ..helpers import refused

# -- accounts and sign-in ----------------------------------------------------------


def test_first_login_creates_business_account_and_owner(store):
    actor = accounts.sign_in(store, "alice")
    assert (actor.login, actor.role, actor.can_manage) == ("alice", "owner", True)
    info = accounts.account_info(store, actor.account_id)
    assert info.plan == "Business"
    assert (info.limit_custom_blueprints, info.limit_connected_blueprints) == (10, 5)
    assert (info.limit_data_fields, info.limit_playbooks) == (300, 100)
    assert [e.action for e in audit.entries(store, actor.account_id)] == ["account.create"]


def test_unknown_login_is_refused_clearly(store, owner):
    err = refused(store, UnknownUser, accounts.sign_in, store, "mallory")
    assert "mallory" in str(err) and "users add mallory" in str(err)


def test_known_login_signs_in_again(store, owner):
    again = accounts.sign_in(store, "alice")
    assert again.user_id == owner.user_id


def test_operator_sets_plan_and_limits(store, owner):
    info = accounts.set_plan_and_limits(
        store, owner.account_id, operator="op", plan="Free", limits={"custom_blueprints": 3}
    )
    assert (info.plan, info.limit_custom_blueprints) == ("Free", 3)
    [entry] = [e for e in audit.entries(store, owner.account_id) if e.action == "account.update"]
    assert "Business -> Free" in entry.detail and "custom_blueprints 10 -> 3" in entry.detail
    refused(
        store,
        ValidationError,
        accounts.set_plan_and_limits,
        store,
        owner.account_id,
        operator="op",
        plan="Platinum",
    )
    refused(
        store,
        ValidationError,
        accounts.set_plan_and_limits,
        store,
        owner.account_id,
        operator="op",
        limits={"custom_blueprints": -1},
    )

"""Store rules of the Marketplace: enabling and disabling extensions, plans.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from store import (
    accounts,
    audit,
    blueprints,
    catalog,
    integrations,
    marketplace,
    users,
)
from store.catalog import CUSTOM_KEY
from store.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PlanRequired,
)
from store.models import ApiToken, Webhook

from ..helpers import refused

# -- Marketplace ----------------------------------------------------------------


def test_catalog_has_the_ten_natives_and_custom():
    names = {e.name for e in catalog.EXTENSIONS if e.native}
    assert names == {
        "Salesforce",
        "HubSpot",
        "Microsoft Dynamics 365",
        "Pipedrive",
        "Upsales",
        "Lime CRM",
        "Membrain",
        "Slack",
        "Zapier",
        "Power Automate",
    }
    assert catalog.extension(CUSTOM_KEY).plan == "Business"
    for e in catalog.EXTENSIONS:
        if e.native:
            assert e.fields and any(f.mapping_required for f in e.fields), e.name


def test_enable_native_provisions_blueprint_token_and_webhook(store, owner):
    iid = marketplace.enable(store, owner, "salesforce")
    [bp] = blueprints.for_integration(store, owner.account_id, iid)
    ext = catalog.extension("salesforce")
    assert bp.native and bp.field_count == len(ext.fields)
    detail = blueprints.detail(store, owner.account_id, bp.id)
    assert [f.name for f in detail.fields] == [f.name for f in ext.fields]
    assert [f.mapping_required for f in detail.fields] == [f.mapping_required for f in ext.fields]
    with store.read() as s:
        [token] = s.exec(select(ApiToken).where(ApiToken.integration_id == iid)).all()
        [hook] = s.exec(select(Webhook).where(Webhook.integration_id == iid)).all()
    assert token.managed and len(token.token_hash) == 64
    assert hook.managed
    # Native blueprints do not count against the custom limit.
    assert accounts.account_info(store, owner.account_id).custom_blueprints == 0


def test_custom_integration_gets_nothing_automatically(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    info = integrations.get(store, owner.account_id, iid)
    assert (info.blueprints, info.tokens, info.webhooks) == (0, 0, 0)


@pytest.mark.parametrize(
    "plan, key, allowed",
    [
        ("Free", "salesforce", False),
        ("Free", CUSTOM_KEY, False),
        ("Essentials", "salesforce", True),
        ("Essentials", CUSTOM_KEY, False),
        ("Business", CUSTOM_KEY, True),
        ("Enterprise", CUSTOM_KEY, True),
    ],
)
def test_plan_rules(store, owner, plan, key, allowed):
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", plan=plan)
    if allowed:
        marketplace.enable(store, owner, key)
        assert [i.key for i in integrations.active(store, owner.account_id)] == [key]
    else:
        err = refused(store, PlanRequired, marketplace.enable, store, owner, key)
        needed = catalog.extension(key).plan
        assert f"needs the {needed} plan" in str(err) and f"on {plan}" in str(err)


def test_marketplace_state_shows_plan_and_enabled(store, owner):
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", plan="Essentials")
    marketplace.enable(store, owner, "slack")
    states = {s.extension.key: s for s in marketplace.extensions(store, owner.account_id)}
    assert states["slack"].enabled and states["slack"].allowed
    assert not states[CUSTOM_KEY].allowed and not states[CUSTOM_KEY].enabled


def test_disable_pauses_and_enable_restores_everything(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    bp = blueprints.create(store, owner, iid, name="Orders", description="d")
    blueprints.add_field(store, owner, bp.id, name="Number", mapping_required=True)
    marketplace.disable(store, owner, CUSTOM_KEY)
    assert integrations.active(store, owner.account_id) == []
    assert integrations.get(store, owner.account_id, iid).enabled is False
    # Paused: blueprints stay but cannot be changed.
    refused(
        store, Conflict, blueprints.add_field, store, owner, bp.id, name="Other", match="disabled"
    )
    refused(store, Conflict, blueprints.create, store, owner, iid, name="New", match="disabled")
    assert marketplace.enable(store, owner, CUSTOM_KEY) == iid
    detail = blueprints.detail(store, owner.account_id, bp.id)
    assert [(f.name, f.mapping_required) for f in detail.fields] == [("Number", True)]
    actions = [e.action for e in audit.entries(store, owner.account_id)]
    assert actions[:2] == ["extension.enable", "extension.disable"]


def test_native_reenable_does_not_duplicate(store, owner):
    iid = marketplace.enable(store, owner, "hubspot")
    marketplace.disable(store, owner, "hubspot")
    marketplace.enable(store, owner, "hubspot")
    assert len(blueprints.for_integration(store, owner.account_id, iid)) == 1


def test_unknown_extension(store, owner):
    refused(store, NotFound, marketplace.enable, store, owner, "myspace")


def test_member_cannot_enable_or_disable(store, owner, member):
    err = refused(store, PermissionDenied, marketplace.enable, store, member, CUSTOM_KEY)
    assert "Manage add-ons and integrations" in str(err)
    marketplace.enable(store, owner, CUSTOM_KEY)
    refused(store, PermissionDenied, marketplace.disable, store, member, CUSTOM_KEY)


def test_permission_is_read_from_the_database_each_time(store, owner, member):
    users.set_permission(store, owner, "bob", True)
    marketplace.enable(store, member, CUSTOM_KEY)  # the stale Actor says no; the DB says yes
    users.set_permission(store, owner, "bob", False)
    refused(store, PermissionDenied, marketplace.disable, store, member, CUSTOM_KEY)

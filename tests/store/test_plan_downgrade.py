"""A plan downgrade: what the plan no longer includes is *suspended by plan*.

It behaves exactly as a disabled integration (tokens refused, webhooks silent,
no change under it), nothing is deleted or modified, and a plan that includes
it again restores everything as it was. Both backends (the ``store`` fixture).
"""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from store import (
    accounts,
    blueprints,
    catalog,
    deliveries,
    integrations,
    marketplace,
    playbooks,
    settings,
    tokens,
    webhooks,
)
from store.errors import PlanRequired, TokenRefused
from store.models import (
    ApiToken,
    Blueprint,
    BlueprintField,
    Delivery,
    Integration,
    Playbook,
    PlaybookBlueprint,
    Webhook,
)

SUSPENDED = (
    "Custom integration is suspended: it needs the Business plan or higher and this "
    "account is on Free."
)


def _set_plan(store, account_id: int, plan: str) -> None:
    accounts.set_plan_and_limits(store, account_id, operator="operator:test", plan=plan)


@pytest.fixture
def setup(store, owner, receiver):
    """A Business account with the Custom integration in full use, and Salesforce."""
    receiver.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    settings.set_allow_private_webhooks(store, owner, True)  # the receiver is on loopback
    custom = marketplace.enable(store, owner, "custom")
    sf = marketplace.enable(store, owner, "salesforce")
    bp = blueprints.create(store, owner, custom, name="Orders")
    field = blueprints.add_field(store, owner, bp.id, name="Order id")
    _info, token = tokens.generate(store, owner, custom, name="ERP")
    hook = webhooks.create(store, owner, custom, url=receiver.url_for("/hook"))
    pb = playbooks.create(store, owner, name="Sales")
    playbooks.connect(store, owner, pb.id, bp.id)
    return {
        "custom": custom,
        "salesforce": sf,
        "bp": bp,
        "field": field,
        "token": token,
        "hook": hook,
        "pb": pb,
    }


def _counts(store) -> dict[str, int]:
    with store.read() as s:
        return {
            m.__name__: int(s.exec(select(func.count()).select_from(m)).one())
            for m in (
                Integration,
                Blueprint,
                BlueprintField,
                ApiToken,
                Webhook,
                Playbook,
                PlaybookBlueprint,
            )
        }


def _integration_rows(store) -> list[tuple]:
    with store.read() as s:
        return [
            (i.id, i.extension_key, i.enabled, i.enabled_at)
            for i in s.exec(select(Integration).order_by(Integration.id)).all()
        ]


# -- the one rule ---------------------------------------------------------------------


def test_suspended_by_plan_is_one_pure_rule():
    assert catalog.suspended_by_plan("custom", "Business") is None
    assert catalog.suspended_by_plan("custom", "Enterprise") is None
    assert catalog.suspended_by_plan("custom", "Free").startswith(SUSPENDED)
    assert "upgraded" in catalog.suspended_by_plan("custom", "Essentials")
    assert catalog.suspended_by_plan("salesforce", "Essentials") is None
    assert "needs the Essentials plan" in catalog.suspended_by_plan("salesforce", "Free")
    assert marketplace.suspended_by_plan is catalog.suspended_by_plan


# -- what stops working -----------------------------------------------------------------


def test_downgrade_refuses_the_token_with_its_own_reason(store, owner, setup):
    tokens.verify(store, setup["token"])  # works on Business
    _set_plan(store, owner.account_id, "Free")

    with pytest.raises(TokenRefused) as refused:
        tokens.verify(store, setup["token"])

    assert refused.value.reason == "suspended"
    assert "needs the Business plan or higher and this account is on Free" in str(refused.value)
    assert setup["token"] not in str(refused.value)
    listed = tokens.list_for_integration(store, owner.account_id, setup["custom"])
    assert [t.status for t in listed] == ["suspended"]


def test_essentials_native_integration_on_free_is_suspended(store, owner, setup):
    # The managed token of a native integration is never shown; plant a known one
    # the way the Marketplace does, to verify it.
    from store import tokens_format

    secret = tokens_format.new_token()
    with store.write(owner.account_id) as s:
        s.add(
            ApiToken(
                integration_id=setup["salesforce"],
                name="Salesforce (test)",
                token_hash=tokens_format.token_hash(secret),
                hint=tokens_format.hint(secret),
                managed=True,
                created_at=s.get(Integration, setup["salesforce"]).enabled_at,
                created_by="alice",
            )
        )
    tokens.verify(store, secret)
    _set_plan(store, owner.account_id, "Free")

    with pytest.raises(TokenRefused) as refused:
        tokens.verify(store, secret)
    assert refused.value.reason == "suspended"
    assert "Salesforce" in str(refused.value) and "Essentials plan" in str(refused.value)
    shown = {i.key: i for i in integrations.active(store, owner.account_id)}
    assert shown["salesforce"].suspended.startswith("Salesforce is suspended")
    assert shown["salesforce"].suspension_label == "Suspended: needs Essentials"

    _set_plan(store, owner.account_id, "Essentials")
    assert tokens.verify(store, secret).integration_name == "Salesforce"


def test_downgrade_refuses_every_change_under_it(store, owner, setup):
    _set_plan(store, owner.account_id, "Free")
    custom, bp, field, hook = setup["custom"], setup["bp"], setup["field"], setup["hook"]
    refused = [
        lambda: blueprints.create(store, owner, custom, name="Invoices"),
        lambda: blueprints.update(store, owner, bp.id, name="Orders 2"),
        lambda: blueprints.delete(store, owner, bp.id),
        lambda: blueprints.add_field(store, owner, bp.id, name="Amount"),
        lambda: blueprints.update_field(store, owner, field.id, name="Order no"),
        lambda: blueprints.delete_field(store, owner, field.id),
        lambda: tokens.generate(store, owner, custom, name="CI"),
        lambda: webhooks.create(store, owner, custom, url="https://example.com/other"),
        lambda: webhooks.update(store, owner, hook.id, url="https://example.com/moved"),
        lambda: webhooks.delete(store, owner, hook.id),
    ]
    for call in refused:
        with pytest.raises(PlanRequired) as exc:
            call()
        assert str(exc.value).startswith(SUSPENDED)
        assert exc.value.plan == "Business"


async def test_downgrade_stops_the_webhooks(store, owner, setup, receiver):
    _set_plan(store, owner.account_id, "Free")
    logged = _counts_of(store, Delivery)

    with pytest.raises(PlanRequired, match="Custom integration is suspended"):
        await deliveries.send_test(store, owner, setup["hook"].id)
    with pytest.raises(PlanRequired, match="Custom integration is suspended"):
        await deliveries.test_url(store, owner, setup["custom"], receiver.url_for("/hook"), None)
    sent = await deliveries.deliver_event(store, owner.account_id, "contract:sign", contract_id=1)

    assert sent == [] and _counts_of(store, Delivery) == logged
    shown = webhooks.get(store, owner.account_id, setup["hook"].id)
    assert not shown.active and shown.suspended.startswith(SUSPENDED)

    _set_plan(store, owner.account_id, "Business")
    sent = await deliveries.deliver_event(store, owner.account_id, "contract:sign", contract_id=1)
    assert [r.ok for r in sent] == [True]


def _counts_of(store, model) -> int:
    with store.read() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_a_leaked_token_can_still_be_revoked(store, owner, setup):
    _set_plan(store, owner.account_id, "Free")
    token_id = tokens.list_for_integration(store, owner.account_id, setup["custom"])[0].id

    assert tokens.revoke(store, owner, token_id).status == "revoked"
    _set_plan(store, owner.account_id, "Business")
    with pytest.raises(TokenRefused) as refused:
        tokens.verify(store, setup["token"])
    assert refused.value.reason == "revoked"


def test_playbooks_on_free(store, owner, setup):
    _set_plan(store, owner.account_id, "Free")
    pb = setup["pb"]
    with pytest.raises(PlanRequired, match="playbooks need the Essentials plan"):
        playbooks.create(store, owner, name="Another")
    with pytest.raises(PlanRequired, match="playbooks need the Essentials plan"):
        playbooks.update(store, owner, pb.id, name="Renamed")
    with pytest.raises(PlanRequired, match="playbooks need the Essentials plan"):
        playbooks.add_data_field(store, owner, pb.id, name="Order")


def test_a_suspended_blueprint_cannot_be_connected(store, owner, setup):
    # Essentials: playbooks are included, the Custom integration is not.
    _set_plan(store, owner.account_id, "Essentials")
    pb = playbooks.create(store, owner, name="Renewals")

    assert setup["bp"].id not in [
        b.id for b in playbooks.connectable(store, owner.account_id, pb.id)
    ]
    with pytest.raises(PlanRequired, match="Custom integration is suspended"):
        playbooks.connect(store, owner, pb.id, setup["bp"].id)
    shown = blueprints.detail(store, owner.account_id, setup["bp"].id).blueprint
    assert "needs the Business plan" in shown.suspended


# -- nothing deleted, upgrading restores --------------------------------------------------


def test_nothing_is_deleted_and_upgrading_restores_everything(store, owner, setup):
    counts, rows = _counts(store), _integration_rows(store)

    _set_plan(store, owner.account_id, "Free")
    assert _counts(store) == counts and _integration_rows(store) == rows
    listed = {i.key: i for i in integrations.active(store, owner.account_id)}
    assert set(listed) == {"custom", "salesforce"}  # still listed, with the reason
    assert listed["custom"].suspended.startswith(SUSPENDED)
    assert listed["custom"].suspension_label == "Suspended: needs Business"
    assert integrations.get(store, owner.account_id, setup["custom"]).suspended

    _set_plan(store, owner.account_id, "Business")
    assert _counts(store) == counts and _integration_rows(store) == rows
    assert tokens.verify(store, setup["token"]).token_name == "ERP"
    assert not integrations.get(store, owner.account_id, setup["custom"]).suspended
    assert blueprints.create(store, owner, setup["custom"], name="Invoices").name == "Invoices"
    tokens.generate(store, owner, setup["custom"], name="CI")


def test_the_audit_log_names_what_the_downgrade_suspends(store, owner, setup):
    from store import audit

    _set_plan(store, owner.account_id, "Free")
    entry = audit.entries(store, owner.account_id)[0]
    assert entry.action == "account.update"
    assert "plan Business -> Free" in entry.detail
    assert "suspends Salesforce, Custom integration" in entry.detail or (
        "suspends Custom integration, Salesforce" in entry.detail
    )


# -- the warning before it happens ------------------------------------------------------


def test_plan_change_effects_lists_what_stops_working(store, owner, setup):
    before = _counts(store)
    effects = accounts.plan_change_effects(store, owner.account_id, plan="Free")

    text = "\n".join(effects.warnings)
    assert "Custom integration will be suspended: it needs the Business plan" in text
    assert "Salesforce will be suspended: it needs the Essentials plan" in text
    assert "1 API token" in text and "1 webhook" in text
    assert "Playbooks need the Essentials plan or higher" in text
    assert "the account's 1 playbook is kept" in text
    assert _counts(store) == before  # a pure read
    assert accounts.account_info(store, owner.account_id).plan == "Business"

    essentials = accounts.plan_change_effects(store, owner.account_id, plan="Essentials")
    assert [w.split(":")[0] for w in essentials.warnings] == [
        "Custom integration will be suspended"
    ]
    assert accounts.plan_change_effects(store, owner.account_id, plan="Enterprise").warnings == ()


def test_plan_change_effects_notes_what_an_upgrade_restores(store, owner, setup):
    _set_plan(store, owner.account_id, "Free")
    effects = accounts.plan_change_effects(store, owner.account_id, plan="Business")
    assert effects.warnings == ()
    assert "Custom integration works again: the Business plan includes it." in effects.notes


def test_plan_change_effects_warns_of_limits_below_use(store, owner, setup):
    effects = accounts.plan_change_effects(
        store, owner.account_id, limits={"custom_blueprints": 0, "playbooks": 5}
    )
    assert effects.warnings == (
        "custom_blueprints 0 is below current use: the account already has 1 custom "
        "blueprint. They are kept; new ones are refused.",
    )
    effects = accounts.plan_change_effects(
        store, owner.account_id, limits={"connected_blueprints": 0}
    )
    assert "the playbook 'Sales' already has 1 connected blueprint" in effects.warnings[0]

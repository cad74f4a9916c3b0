"""The demo account (store/demo.py): realistic, complete, the same on every build
and on both databases; no secret of it is real; the receiver answers on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from store import (
    accounts,
    apiaccess,
    audit,
    blueprints,
    contracts,
    deliveries,
    demo,
    integrations,
    marketplace,
    playbooks,
    settings,
    tokens,
    tokens_format,
    webhooks,
)
from store.catalog import CUSTOM_KEY
from store.db import Store

RECEIVER = "http://127.0.0.1:47011"


def _snapshot(st: Store, account_id: int) -> list[tuple]:
    """What a person sees of the account: every audit entry and delivery, ids included."""
    rows: list[tuple] = [
        (e.id, e.at, e.actor, e.action, e.object_name, e.detail)
        for e in audit.entries(st, account_id, limit=1000)
    ]
    for i in integrations.active(st, account_id):
        for w in webhooks.list_for_integration(st, account_id, i.id):
            for d in deliveries.deliveries(st, w.id):
                full = deliveries.delivery(st, d.id)
                rows.append((d.id, d.callback_id, d.attempted_at, full.request_body))
        for t in tokens.list_for_integration(st, account_id, i.id):
            rows.append((t.id, t.name, t.hint, t.status, t.last_used_at))
    return rows


def test_full_demo_account(store):
    d = demo.build(store, receiver_url=RECEIVER)
    aid = d.account_id
    info = accounts.account_info(store, aid)
    assert (info.name, info.plan, info.allow_private_webhooks) == (
        "Northwind Traders",
        "Business",
        True,
    )
    people = {u.login: (u.role, u.can_manage) for u in accounts.list_users(store, aid)}
    assert people == {
        "maria": ("owner", True),
        "jonas": ("member", True),
        "sara": ("member", False),
        "li": ("member", False),
    }
    active = {i.name for i in integrations.active(store, aid)}
    assert active == {"Salesforce", "HubSpot", "Slack", "Custom integration"}
    paused = [s for s in marketplace.extensions(store, aid) if s.extension.key == "pipedrive"]
    assert paused[0].integration_id is not None and not paused[0].enabled

    custom = d.integrations[CUSTOM_KEY]
    bps = {b.name: b for b in blueprints.for_integration(store, aid, custom)}
    assert set(bps) == {"Order data", "Customer master"}
    assert (bps["Order data"].field_count, bps["Order data"].required_count) == (5, 3)
    assert (bps["Customer master"].field_count, bps["Customer master"].required_count) == (4, 2)

    toks = {t.name: t for t in tokens.list_for_integration(store, aid, custom)}
    assert {n: t.status for n, t in toks.items()} == {
        "ERP connector": "active",
        "Reporting": "active",
        "Zapier trial": "revoked",
    }
    assert toks["ERP connector"].last_used_at == demo.at(28, 8, 55)

    hooks = {w.url: w for w in webhooks.list_for_integration(store, aid, custom)}
    assert set(hooks) == {demo.ERP_URL, demo.OLD_URL, f"{RECEIVER}/hooks/contracts"}
    erp, old = hooks[demo.ERP_URL], hooks[demo.OLD_URL]
    assert erp.verified and erp.signed and erp.delivery_count == 10 and erp.last_success
    assert not old.verified and not old.signed and old.delivery_count == 2
    assert old.last_success is False and "DNS" in (old.last_error or "")
    log = deliveries.deliveries(store, erp.id)
    assert {x.result_label for x in log} >= {"200 OK", "failed: 503 Service Unavailable"}
    assert any(x.error and x.error.startswith("Timeout") for x in log)

    books = {p.name: p for p in playbooks.all_for_account(store, aid)}
    assert {n: p.complete for n, p in books.items()} == {
        "Sales agreement": True,
        "Framework agreement": False,
        "Non-disclosure agreement": True,
        "Signing notifications": True,
    }
    missing = playbooks.completeness(store, aid, books["Framework agreement"].id).missing
    assert {m.label for m in missing} == {
        "HubSpot fields / Company name",
        "Customer master / Company name",
    }

    # The ERP's contracts, made through the API (the store's functions), and the log.
    made = {c.name: c for c in contracts.all_for_account(store, aid)}
    assert {n: c.state for n, c in made.items()} == {
        "Order SO-10463": "draft",
        "Order SO-10461": "published",
        "Order SO-10458": "declined",
        "Order SO-10452": "signed",
    }
    assert {c.integration_name for c in made.values()} == {"Custom integration"}
    draft = contracts.detail(store, aid, made["Order SO-10463"].id)
    values = {v.name: (v.value, v.source) for v in draft.values}
    assert values["Total amount"] == ("3 210.00", "Custom integration / Order data / Total amount")
    assert values["Currency"] == ("SEK", "default")  # not sent: the data field's default
    log = apiaccess.requests_for_integration(store, aid, custom)
    assert len(log) == 16 and log[0].method == "PATCH" and log[0].at == demo.at(28, 8, 52, 11)
    assert [r.status for r in log if r.status >= 400] == [422]
    usage = apiaccess.token_usage(store, aid, custom)
    assert usage[toks["ERP connector"].id].requests_24h == 6
    assert usage[toks["Reporting"].id].requests_24h == 1
    assert usage[toks["Zapier trial"].id].requests_24h == 0

    entries = audit.entries(store, aid, limit=1000)
    assert len(entries) == 69  # 59, and the ten contract changes of the ERP's API calls
    times = [e.at for e in reversed(entries)]
    assert times == sorted(times), "audit entries follow the clock"
    assert entries[0].at == demo.at(28, 9, 5)  # the newest: the receiver webhook
    assert any(
        e.action == "account.settings" and "private networks: off -> on" in e.detail
        for e in entries
    )


def test_story_variant_has_no_custom_integration(store):
    d = demo.build(store, variant="story")
    aid = d.account_id
    assert {i.name for i in integrations.active(store, aid)} == {"Salesforce", "HubSpot", "Slack"}
    assert CUSTOM_KEY not in d.integrations
    books = {p.name: p for p in playbooks.all_for_account(store, aid)}
    sales = playbooks.detail(store, aid, books["Sales agreement"].id)
    assert "Order number" in {f.name for f in sales.data_fields}
    assert [c.blueprint_name for c in sales.connections] == ["Salesforce fields"]
    assert settings.webhook_settings(store, aid).allow_private


def test_same_on_every_build_and_both_databases(store, tmp_path):
    d = demo.build(store, receiver_url=RECEIVER)
    other = Store(f"sqlite:///{tmp_path / 'again.db'}")
    again = demo.build(other, receiver_url=RECEIVER)
    assert d == again
    assert _snapshot(store, d.account_id) == _snapshot(other, again.account_id)
    other.dispose()


def test_only_into_an_empty_database(store, owner):
    with pytest.raises(ValueError, match="empty database"):
        demo.build(store)


def test_secrets_are_fake_and_randomness_comes_back(store):
    real = tokens_format.new_token
    demo.build(store)
    assert tokens_format.new_token is real
    assert tokens_format.new_token() != tokens_format.new_token()  # random again
    with demo.deterministic():
        first = tokens_format.new_token()
        key = webhooks.generate_signing_key()
    assert first.startswith("iadm_DEMOnotARealToken") and tokens_format.is_well_formed(first)
    assert webhooks.hmac_key(key).startswith(b"demo-signing-key-not-secret")
    with demo.deterministic():
        assert tokens_format.new_token() == first  # every demo run generates the same


class _AsOfTheAttempt(StandardWebhook):
    """standardwebhooks refuses timestamps older than 5 minutes: these are history,
    so check the signature as of the attempt (everything else unchanged)."""

    def _Webhook__verify_timestamp(self, header: str) -> datetime:
        return datetime.fromtimestamp(int(header), UTC)


def test_logged_history_is_what_a_receiver_could_verify(store):
    """The delivery rows written by the builder carry real signatures (checked by
    the standardwebhooks library, as a receiver would)."""
    d = demo.build(store)
    erp = d.webhooks[demo.ERP_URL]
    verifier = _AsOfTheAttempt(demo.ERP_KEY[len("whsec_") :])
    for x in deliveries.deliveries(store, erp):
        full = deliveries.delivery(store, x.id)
        headers = {k: v for k, v in full.request_headers}
        assert verifier.verify(full.request_body, headers)["callback_id"] == x.callback_id


def test_receiver_answers_on_loopback(store):
    d = demo.build(store, variant="story")
    maria = d.owner
    with demo.DemoReceiver(port=0) as receiver:
        custom = marketplace.enable(store, maria, CUSTOM_KEY)
        with demo.deterministic():
            ok = asyncio.run(
                deliveries.test_url(store, maria, custom, f"{receiver.url}/hooks/x", None)
            )
            gone = asyncio.run(
                deliveries.test_url(store, maria, custom, f"{receiver.url}/gone", None)
            )
        assert ok.ok and ok.status_code == 200, ok.reason
        assert not gone.ok and gone.status_code == 410
        assert "410 Gone" in gone.reason
        assert [path for path, _, _ in receiver.received] == ["/hooks/x", "/gone"]
        assert ok.callback_id == demo.fake_callback_id(1)

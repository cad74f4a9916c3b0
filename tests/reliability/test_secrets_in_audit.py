"""No secret in the audit log: run every store action there is with known
secrets (generated API tokens, managed tokens, typed and generated signing
keys, a secret in a webhook URL's query string), including refusals, then scan
every column of every audit entry, every refusal message and every log record
for them. Both backends."""

from __future__ import annotations

import base64
import logging

import pytest
from sqlalchemy import text

from store import (
    accounts,
    blueprints,
    deliveries,
    marketplace,
    playbooks,
    settings,
    tokens,
    tokens_format,
    users,
    webhooks,
)
from store.catalog import CUSTOM_KEY
from store.errors import DomainError

TYPED_KEY = "typed-Sgn-Kx-7Rq0m4Zt2Vw9-Lb8Pn6"
TYPED_KEY_2 = "second typed key, also secret 42"
SHORT_KEY = "tooShortKey1"  # refused: under 24 bytes
URL_SECRET = "q7SecretInQuery9x"


def fragments(secret: str, n: int = 10) -> set[str]:
    """Every ``n``-character piece of a secret: a partial leak is a leak too
    (the display hints of tokens, prefix and last 4 characters, stay shorter)."""
    return {secret[i : i + n] for i in range(len(secret) - n + 1)} if len(secret) >= n else {secret}


def test_no_secret_in_audit_entries_errors_or_logs(
    store, owner, member, receiver, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = [TYPED_KEY, TYPED_KEY_2, SHORT_KEY, URL_SECRET]
    refusals: list[str] = []

    made = tokens_format.new_token

    def recorded_token() -> str:
        token = made()
        secrets.append(token)
        return token

    monkeypatch.setattr(tokens_format, "new_token", recorded_token)

    def refused(call, *args, **kwargs) -> None:
        with pytest.raises(DomainError) as err:
            call(*args, **kwargs)
        refusals.append(str(err.value))

    receiver.expect_request("/hook").respond_with_data("ok")
    base = receiver.url_for("/hook")

    # Native integrations: managed token and webhook, pause and restore.
    marketplace.enable(store, owner, "salesforce")
    marketplace.disable(store, owner, "salesforce")
    marketplace.enable(store, owner, "salesforce")
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    settings.set_webhook_timeout(store, owner, 5)

    # API tokens.
    info, token = tokens.generate(store, owner, iid, name="ERP sync")
    _info2, token2 = tokens.generate(store, owner, iid, name="Backup job", expires_in_days=30)
    assert tokens.verify(store, token).token_name == "ERP sync"
    refused(tokens.generate, store, member, iid, name="Sneaky")
    tokens.revoke(store, owner, info.id)
    refused(tokens.verify, store, token)
    refused(tokens.verify, store, token[:-1] + ("A" if token[-1] != "A" else "B"))
    refused(tokens.verify, store, token2 + "x")
    assert token in secrets and token2 in secrets and len(secrets) >= 7  # + managed token

    # Webhooks: typed key, generated key, key changes, reveal, test, resend, delete.
    generated = webhooks.generate_signing_key()
    generated_2 = webhooks.generate_signing_key()
    secrets += [generated, generated_2]
    typed = webhooks.create(store, owner, iid, url=f"{base}?token={URL_SECRET}", sign_key=TYPED_KEY)
    gen = webhooks.create(store, owner, iid, url=f"{base}?v=2", sign_key=generated)
    refused(webhooks.create, store, owner, iid, url=f"{base}?v=3", sign_key=SHORT_KEY)
    refused(webhooks.create, store, member, iid, url=f"{base}?v=4", sign_key=TYPED_KEY)
    refused(webhooks.create, store, owner, iid, url=f"{base}?token={URL_SECRET}", sign_key=None)
    webhooks.update(store, owner, typed.id, sign_key=TYPED_KEY_2)
    webhooks.update(store, owner, gen.id, sign_key=generated_2, event_types=["contract:sign"])
    refused(webhooks.update, store, owner, gen.id, sign_key=SHORT_KEY)
    assert webhooks.reveal_key(store, owner, typed.id) == TYPED_KEY_2
    refused(webhooks.reveal_key, store, member, typed.id)
    import asyncio

    result = asyncio.run(deliveries.send_test(store, owner, gen.id))
    assert result.ok, result.reason
    asyncio.run(deliveries.resend(store, owner, result.delivery_id))
    asyncio.run(deliveries.test_url(store, owner, iid, f"{base}?x={URL_SECRET}", TYPED_KEY))
    webhooks.update(store, owner, typed.id, sign_key=None)
    webhooks.delete(store, owner, gen.id)

    # Blueprints, playbooks, people, plan: no secret involved, but every action runs.
    bp = blueprints.create(store, owner, iid, name="Orders")
    blueprints.add_field(store, owner, bp.id, name="Order number", mapping_required=True)
    pb = playbooks.create(store, owner, name="Sales")
    playbooks.connect(store, owner, pb.id, bp.id)
    playbooks.add_data_field(store, owner, pb.id, name="Order")
    users.add(store, owner, "carol", can_manage=True)
    users.set_permission(store, owner, "bob", True)
    users.promote(store, owner, "carol")
    users.demote(store, owner, "carol")
    users.remove(store, owner, "carol")
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", limits={"playbooks": 50})
    marketplace.disable(store, owner, CUSTOM_KEY)

    # The scan: every column of every audit entry, as the database holds it.
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT * FROM audit_entry")).all()
    dump = "\n".join(" | ".join(str(v) for v in row) for row in rows)
    assert len(rows) >= 30  # the actions above were all recorded
    assert "webhook.reveal_key" in dump and "token.generate" in dump
    # Every log record of this process, except the test receiver's own (it
    # stands for the remote system, which is given the URL by design) and
    # httpx's request lines (full URLs: see test_url_query_secret_not_logged).
    logs = "\n".join(
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.name != "werkzeug" and not (r.name == "httpx" and "HTTP Request:" in r.getMessage())
    )
    where = {"audit log": dump, "refusal messages": "\n".join(refusals), "log records": logs}
    assert len(refusals) == 9

    checked = 0
    for secret in secrets:
        pieces = fragments(secret)
        if secret.startswith(webhooks.GENERATED_PREFIX):
            raw = webhooks.hmac_key(secret)
            pieces |= fragments(secret[len(webhooks.GENERATED_PREFIX) :])
            pieces |= fragments(raw.hex()) | fragments(base64.urlsafe_b64encode(raw).decode())
        if secret.startswith(tokens_format.PREFIX):
            pieces |= fragments(tokens_format.token_hash(secret))
        for name, haystack in where.items():
            leaked = sorted(p for p in pieces if p in haystack)
            assert not leaked, f"a secret leaked into the {name}: {leaked[:3]}"
        checked += 1
    assert checked == len(secrets) == 9  # 4 fixed, 1 managed token, 2 tokens, 2 keys


def test_url_query_secret_not_logged(store, owner, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    import asyncio

    receiver.expect_request("/hook").respond_with_data("ok")
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    url = receiver.url_for("/hook") + f"?token={URL_SECRET}"
    asyncio.run(deliveries.test_url(store, owner, iid, url, None))
    ours = [r.getMessage() for r in caplog.records if r.name != "werkzeug"]
    assert not [m for m in ours if URL_SECRET in m]

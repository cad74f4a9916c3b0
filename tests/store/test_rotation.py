"""Rotation without downtime (issue 18): a webhook's signing key and an API
token, each with an overlap during which the old one still works. Real
deliveries to a real server on loopback, verified by the ``standardwebhooks``
library holding the old key and holding the new one. Both backends."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from store import audit, clock, deliveries, marketplace, settings, tokens, webhooks
from store.errors import Conflict, PermissionDenied, TokenRefused, ValidationError

TYPED_KEY = "a typed signing key, 32 chars ok"


@pytest.fixture(autouse=True)
def _clean(receiver):
    yield
    receiver.clear()


@pytest.fixture
def custom(store, owner) -> int:
    iid = marketplace.enable(store, owner, "custom")
    settings.set_allow_private_webhooks(store, owner, True)  # the receiver is on loopback
    return iid


def _last(receiver):
    req, _resp = receiver.log[-1]
    return req.get_data(), dict(req.headers)


def _verifies(secret: str, raw: bytes, headers: dict) -> bool:
    try:
        StandardWebhook(secret).verify(raw, headers)
    except WebhookVerificationError:
        return False
    return True


def _audit_text(store, account_id: int) -> str:
    return json.dumps([e.__dict__ for e in audit.entries(store, account_id)], default=str)


# -- signing keys ----------------------------------------------------------------


async def test_during_the_overlap_both_keys_verify_and_after_it_only_the_new(
    store, owner, custom, receiver
):
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    old = webhooks.generate_signing_key()
    w = webhooks.create(store, owner, custom, url=receiver.url_for("/hook"), sign_key=old)

    clock.fix(clock.now())  # the real time (the library checks it), held still
    info = webhooks.rotate_key(store, owner, w.id)  # a generated new key, 24 h overlap
    new = webhooks.reveal_key(store, owner, w.id)
    assert new and new != old and new.startswith("whsec_")
    assert info.in_overlap and info.previous_key_masked.endswith(old[-4:])
    assert info.previous_key_until - clock.now() == timedelta(hours=24)

    # A test, then a resend of it: each verifies with either key.
    first = await deliveries.send_test(store, owner, w.id)
    assert first.ok
    for result in (first, await deliveries.resend(store, owner, first.delivery_id)):
        raw, headers = _last(receiver)
        assert len(headers["Webhook-Signature"].split(" ")) == 2
        assert _verifies(old, raw, headers) and _verifies(new, raw, headers)
        body = json.loads(raw)
        # The legacy signature uses the new key only.
        assert body["signature"] == hashlib.sha1((result.callback_id + new).encode()).hexdigest()

    # After the overlap: only the new key.
    webhooks.end_overlap(store, owner, w.id)
    assert not webhooks.get(store, owner.account_id, w.id).in_overlap
    await deliveries.send_test(store, owner, w.id)
    raw, headers = _last(receiver)
    assert " " not in headers["Webhook-Signature"]
    assert _verifies(new, raw, headers) and not _verifies(old, raw, headers)

    text = _audit_text(store, owner.account_id)
    assert "webhook.rotate_key" in text and "webhook.end_overlap" in text
    assert old not in text and new not in text


async def test_the_overlap_ends_by_itself(store, owner, custom, receiver):
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    old = webhooks.generate_signing_key()
    w = webhooks.create(store, owner, custom, url=receiver.url_for("/hook"), sign_key=old)
    clock.fix(clock.now() - timedelta(hours=3))
    webhooks.rotate_key(store, owner, w.id, new_key=TYPED_KEY, overlap_hours=2)
    clock.fix(None)  # an hour after the overlap ended

    assert not webhooks.get(store, owner.account_id, w.id).in_overlap
    result = await deliveries.send_test(store, owner, w.id)
    assert result.ok
    raw, headers = _last(receiver)
    assert _verifies(webhooks.receiver_secret(TYPED_KEY), raw, headers)
    assert not _verifies(old, raw, headers)


async def test_events_carry_both_signatures_during_the_overlap(store, owner, custom, receiver):
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    old = webhooks.generate_signing_key()
    w = webhooks.create(store, owner, custom, url=receiver.url_for("/hook"), sign_key=old)
    webhooks.rotate_key(store, owner, w.id, overlap_hours=1)
    new = webhooks.reveal_key(store, owner, w.id)
    [result] = await deliveries.deliver_event(
        store, owner.account_id, "contract:sign", contract_id=7
    )
    assert result.ok
    raw, headers = _last(receiver)
    assert _verifies(old, raw, headers) and _verifies(new, raw, headers)


def test_overlap_zero_stops_the_old_key_at_once(store, owner, custom):
    w = webhooks.create(store, owner, custom, url="https://example.com/h", sign_key=TYPED_KEY)
    info = webhooks.rotate_key(store, owner, w.id, overlap_hours=0)
    assert not info.in_overlap and info.key_generated
    assert webhooks.reveal_keys(store, owner, w.id)[1] is None


def test_rotation_refusals(store, owner, member, custom):
    unsigned = webhooks.create(store, owner, custom, url="https://example.com/a")
    with pytest.raises(Conflict, match="no signing key to rotate"):
        webhooks.rotate_key(store, owner, unsigned.id)
    w = webhooks.create(store, owner, custom, url="https://example.com/b", sign_key=TYPED_KEY)
    for bad in (-1, 169, True, "24"):
        with pytest.raises(ValidationError) as err:
            webhooks.rotate_key(store, owner, w.id, overlap_hours=bad)
        assert err.value.field == "overlap"
    with pytest.raises(ValidationError, match="is the current one"):
        webhooks.rotate_key(store, owner, w.id, new_key=TYPED_KEY)
    with pytest.raises(ValidationError) as err:
        webhooks.rotate_key(store, owner, w.id, new_key="short")
    assert err.value.field == "sign_key" and "short" not in err.value.message
    with pytest.raises(PermissionDenied):
        webhooks.rotate_key(store, member, w.id)
    webhooks.rotate_key(store, owner, w.id)
    with pytest.raises(Conflict, match="end its overlap first"):
        webhooks.rotate_key(store, owner, w.id)
    webhooks.end_overlap(store, owner, w.id)
    with pytest.raises(Conflict, match="no overlap to end"):
        webhooks.end_overlap(store, owner, w.id)


def test_an_edited_key_ends_the_overlap(store, owner, custom):
    w = webhooks.create(store, owner, custom, url="https://example.com/b", sign_key=TYPED_KEY)
    webhooks.rotate_key(store, owner, w.id)
    info = webhooks.update(store, owner, w.id, sign_key=webhooks.generate_signing_key())
    assert not info.in_overlap
    assert webhooks.reveal_keys(store, owner, w.id)[1] is None


# -- API tokens --------------------------------------------------------------------


def _checks(store, token: str) -> str:
    """How both verification paths judge ``token``: "ok" or the refusal's reason."""
    outcomes = set()
    for check in (
        lambda: tokens.verify(store, token),
        lambda: tokens.check_quick(store, token),
    ):
        try:
            check()
            outcomes.add("ok")
        except TokenRefused as exc:
            outcomes.add(exc.reason)
    assert len(outcomes) == 1, outcomes
    return outcomes.pop()


def test_both_tokens_verify_during_the_grace_then_the_old_is_refused_rotated(store, owner, custom):
    t0 = clock.now()
    clock.fix(t0)
    info, old = tokens.generate(store, owner, custom, name="ERP sync", expires_in_days=90)
    rotated, new = tokens.rotate(store, owner, info.id)
    assert new != old and rotated.id == info.id and rotated.name == "ERP sync"
    assert rotated.previous_hint == info.hint and rotated.hint != info.hint
    assert rotated.previous_until == t0 + timedelta(hours=24)
    assert rotated.expires_at == info.expires_at
    assert _checks(store, old) == "ok" and _checks(store, new) == "ok"
    [listed] = tokens.list_for_integration(store, owner.account_id, custom)
    assert listed.in_grace(t0) and listed.previous_hint == info.hint

    clock.fix(t0 + timedelta(hours=24))
    assert _checks(store, new) == "ok"
    assert _checks(store, old) == "rotated"
    with pytest.raises(TokenRefused, match="was rotated") as err:
        tokens.verify(store, old)
    assert old not in err.value.message and new not in err.value.message

    text = _audit_text(store, owner.account_id)
    assert "token.rotate" in text and old not in text and new not in text


def test_grace_zero_and_ending_it_early(store, owner, custom):
    info, old = tokens.generate(store, owner, custom, name="A")
    _, new = tokens.rotate(store, owner, info.id, grace_hours=0)
    assert _checks(store, old) == "rotated" and _checks(store, new) == "ok"

    info, old = tokens.generate(store, owner, custom, name="B")
    _, new = tokens.rotate(store, owner, info.id, grace_hours=7 * 24)
    with pytest.raises(Conflict, match="end that grace first"):
        tokens.rotate(store, owner, info.id)
    assert _checks(store, old) == "ok"
    tokens.end_grace(store, owner, info.id)
    assert _checks(store, old) == "rotated" and _checks(store, new) == "ok"
    with pytest.raises(Conflict, match="no grace to end"):
        tokens.end_grace(store, owner, info.id)
    assert "token.end_grace" in _audit_text(store, owner.account_id)


def test_token_rotation_refusals(store, owner, member, custom):
    info, old = tokens.generate(store, owner, custom, name="A")
    for bad in (-1, 169, False, 1.5):
        with pytest.raises(ValidationError) as err:
            tokens.rotate(store, owner, info.id, grace_hours=bad)
        assert err.value.field == "grace"
    with pytest.raises(PermissionDenied):
        tokens.rotate(store, member, info.id)
    tokens.revoke(store, owner, info.id)
    with pytest.raises(Conflict, match="is revoked"):
        tokens.rotate(store, owner, info.id)
    assert _checks(store, old) == "revoked"


def test_revoking_during_the_grace_stops_both(store, owner, custom):
    info, old = tokens.generate(store, owner, custom, name="A")
    _, new = tokens.rotate(store, owner, info.id)
    tokens.revoke(store, owner, info.id)
    assert _checks(store, old) == "revoked" and _checks(store, new) == "revoked"

"""Webhooks: create/list/get/update/delete, keys, URL rules, managed webhooks,
account settings. Both backends (the ``store`` fixture)."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import event
from sqlmodel import select

from store import audit, marketplace, settings, webhooks
from store.errors import Conflict, NotFound, PermissionDenied, ValidationError
from store.models import AuditEntry, Delivery, Webhook

URL = "https://hooks.example.com/oneflow"


def _audit_text(store) -> str:
    with store.read() as s:
        rows = s.exec(select(AuditEntry)).all()
    return "\n".join(f"{e.action} {e.object_name} {e.detail}" for e in rows)


def _rows(store) -> list[Webhook]:
    with store.read() as s:
        return list(s.exec(select(Webhook)).all())


# -- keys ---------------------------------------------------------------------------


def test_generated_key_is_whsec_and_32_random_bytes():
    key = webhooks.generate_signing_key()
    assert key.startswith("whsec_")
    assert len(base64.b64decode(key[6:], validate=True)) == 32
    assert key != webhooks.generate_signing_key()
    assert webhooks.hmac_key(key) == base64.b64decode(key[6:])


def test_typed_key_signs_with_its_utf8_bytes():
    assert webhooks.hmac_key("correct horse battery ÷") == "correct horse battery ÷".encode()


def test_mask_never_shows_the_key():
    key = webhooks.generate_signing_key()
    masked = webhooks.mask_key(key)
    assert masked.startswith("whsec_••••••••") and masked.endswith(key[-4:])
    assert key[6:-4] not in masked
    assert webhooks.mask_key("sixteen-chars-ok") == "••••••••"  # short typed keys: no tail
    assert webhooks.mask_key(None) == ""


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "short-key",
            "at least 24 bytes (plain letters and digits are one byte each); this one has 9",
        ),
        ("Summer2026Summer", "at least 24 bytes"),
        ("Xq7#vR2m!Lp9@Tz4", "this one has 16. Type a longer one, or press ctrl+g"),
        ("whsec_not base64!!", "base64 of at least 16 bytes"),
        ("whsec_" + base64.b64encode(b"x" * 8).decode(), "base64 of at least 16 bytes"),
        ("line\nbreak-in-the-key", "control characters"),
        ("k" * 501, "at most 500"),
    ],
)
def test_bad_keys_are_refused_without_repeating_them(store, owner, custom, key, message):
    with pytest.raises(ValidationError) as err:
        webhooks.create(store, owner, custom, url=URL, sign_key=key)
    assert err.value.field == "sign_key"
    assert message in err.value.message
    assert key.strip() not in err.value.message
    assert _rows(store) == []  # nothing created


WEAK_KEYS = [
    "Summer2026Summer2026Summer",
    "Password1234567890!!!!!!",
    "P@ssw0rd-P@ssw0rd-2026-2027",
    "Welcome2026!Welcome2026!",
    "ababababababababababababab",
    "qwertyuiop1234567890asdfgh",
    "correct horse battery staple",
    "our-webhook-signing-secret-key",
    "Oneflow-Webhook-2026-Secret!",
    "x1y2z3x1y2z3x1y2z3x1y2z3x1y2",
]


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_guessable_typed_keys_are_refused_with_the_reason(store, owner, custom, key):
    assert len(key.encode()) >= 24
    with pytest.raises(ValidationError) as err:
        webhooks.create(store, owner, custom, url=URL, sign_key=key)
    assert err.value.field == "sign_key"
    message = err.value.message
    assert message.startswith("This signing key is too easy to guess: only ")
    assert "characters are not common words, years, sequences (abc, 123, qwerty)" in message
    assert "a typed key needs 16" in message
    assert message.endswith("Press ctrl+g to generate one.")
    assert key not in message and key.lower() not in message.lower()
    assert _rows(store) == []


@pytest.mark.parametrize(
    "key",
    [
        "a typed signing key, 32 chars ok",
        "my cat Zorro eats 3 mice per week",
        "x7#Lq9!vR2mT@8kZpW4sN0yB",
        "ourERPreceivesOrdersFrom7Shops",
        "Gröna ängar, tysta åar: 9 båtar",
        "ЖёлтыйКотПьётМолоко",  # 19 characters, 38 bytes of UTF-8
    ],
)
def test_long_unguessable_typed_keys_are_accepted(store, owner, custom, key):
    w = webhooks.create(store, owner, custom, url=URL, sign_key=key)
    assert w.signed and not w.key_generated
    [row] = _rows(store)
    assert row.sign_key == key


def test_the_24_bytes_are_counted_in_utf8(store, owner, custom):
    with pytest.raises(ValidationError) as err:  # 11 characters, 21 bytes
        webhooks.create(store, owner, custom, url=URL, sign_key="ЖёлтыйКотЖ!")
    assert "this one has 21" in err.value.message


def test_a_short_typed_key_saved_before_keeps_working(store, owner, custom):
    """Keys saved under the old rule (16 characters) are not changed or refused;
    only a new or changed key is checked."""
    old_key = "Summer2026Summer"
    w = webhooks.create(store, owner, custom, url=URL)
    with store.write(owner.account_id) as s:  # as an older release saved it
        row = s.get(Webhook, w.id)
        row.sign_key = old_key
        s.add(row)
    u = webhooks.update(store, owner, w.id, url=URL + "/v2", event_types=["contract:sign"])
    assert u.signed and u.url == URL + "/v2"
    u = webhooks.update(store, owner, w.id, sign_key=old_key)  # the form sends it unchanged
    assert u.signed
    with pytest.raises(ValidationError) as err:
        webhooks.update(store, owner, w.id, sign_key="Winter2027Winter2027Winter")
    assert err.value.field == "sign_key" and "too easy to guess" in err.value.message
    assert webhooks.reveal_key(store, owner, w.id) == old_key


def test_receiver_secret_of_typed_and_generated_keys():
    typed = "a typed signing key, 32 chars ok"
    secret = webhooks.receiver_secret(typed)
    assert secret == "whsec_" + base64.b64encode(typed.encode()).decode()
    assert webhooks.hmac_key(secret) == webhooks.hmac_key(typed) == typed.encode()
    generated = webhooks.generate_signing_key()
    assert webhooks.receiver_secret(generated) == generated


# -- create ---------------------------------------------------------------------------


def test_create_with_generated_key(store, owner, custom):
    key = webhooks.generate_signing_key()
    w = webhooks.create(
        store,
        owner,
        custom,
        url=URL,
        sign_key=key,
        event_types=["contract:sign", "contract:publish"],
        verified=True,
    )
    assert (w.url, w.signed, w.verified, w.managed, w.active) == (URL, True, True, False, True)
    assert w.event_types == ("contract:publish", "contract:sign")  # the platform's order
    assert w.events_label == "contract:publish, contract:sign"
    assert w.key_masked == webhooks.mask_key(key) and w.key_generated
    assert w.last_result_label == "never" and w.delivery_count == 0
    assert not hasattr(w, "sign_key")
    [row] = _rows(store)
    assert row.sign_key == key and row.created_by == "alice"
    text = _audit_text(store)
    assert "webhook.create https://hooks.example.com/oneflow" in text
    assert "signed (generated key)" in text and "verified by a test" in text
    assert key not in text and key[6:] not in text


def test_create_without_key_or_events_means_unsigned_and_all(store, owner, custom):
    w = webhooks.create(store, owner, custom, url=URL, sign_key="  ", event_types=[])
    assert not w.signed and w.key_masked == "" and w.event_types == () and not w.verified
    assert w.events_label == "all"
    assert "not signed; not verified" in _audit_text(store)


def test_choosing_every_event_is_all(store, owner, custom):
    w = webhooks.create(store, owner, custom, url=URL, event_types=list(webhooks.EVENT_TYPES))
    assert w.event_types == ()


def test_unknown_event_type_is_refused(store, owner, custom):
    with pytest.raises(ValidationError) as err:
        webhooks.create(store, owner, custom, url=URL, event_types=["contract:sign", "nope"])
    assert err.value.field == "event_types" and "Unknown event type: nope" in err.value.message
    assert _rows(store) == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "The URL is required."),
        ("http://hooks.example.com/x", "must start with https://. Plain http is accepted only"),
        ("ftp://hooks.example.com/x", "must start with https://"),
        ("hooks.example.com/x", "must start with https://"),
        ("https:///path-only", "has no host name"),
        ("https://user:secret@hooks.example.com/x", "cannot carry a user name or password"),
        ("https://hooks.example.com/a b", "cannot contain spaces"),
        ("https://hooks.example.com:99999/x", "not valid"),
        ("https://hooks.example.com/" + "a" * 1000, "1026 characters long; at most 1000"),
        ("https://127.0.0.1/x", "127.0.0.1 is a loopback address"),
        ("https://[::1]/x", "::1 is a loopback address"),
        ("https://[::ffff:10.0.0.1]/x", "IPv4-mapped IPv6 form of 10.0.0.1"),
        ("https://169.254.169.254/latest", "link-local"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(store, owner, custom, url, message):
    with pytest.raises(ValidationError) as err:
        webhooks.create(store, owner, custom, url=url)
    assert err.value.field == "url"
    assert message in err.value.message
    assert _rows(store) == []


def test_url_of_1000_characters_is_accepted(store, owner, custom):
    url = "https://hooks.example.com/" + "a" * (1000 - len("https://hooks.example.com/"))
    assert webhooks.create(store, owner, custom, url=url).url == url


def test_url_of_1001_characters_is_refused_not_cut(store, owner, custom):
    url = "https://hooks.example.com/" + "a" * (1001 - len("https://hooks.example.com/"))
    with pytest.raises(ValidationError) as err:
        webhooks.create(store, owner, custom, url=url)
    assert err.value.field == "url"
    assert err.value.message == "The URL is 1001 characters long; at most 1000."
    assert _rows(store) == []
    w = webhooks.create(store, owner, custom, url=URL)
    with pytest.raises(ValidationError) as err:
        webhooks.update(store, owner, w.id, url=url)
    assert err.value.field == "url" and "1001 characters long" in err.value.message
    assert [r.url for r in _rows(store)] == [URL]


def test_webhooks_needing_private_networks_are_listed_without_dns(store, owner, custom):
    settings.set_allow_private_webhooks(store, owner, True)
    marketplace.enable(store, owner, "salesforce")  # its managed webhooks are public
    urls = [
        "http://10.0.0.5:8080/hook",
        "https://hooks.example.com/public",
        "https://127.0.0.1:8443/x",
        "https://localhost:8443/x",
        "https://[::ffff:192.168.1.10]/x",
        "http://intranet.example/hook",
        "https://192.0.0.9/anycast",  # globally reachable in the registry
        "https://internal.example.com/resolves-anywhere",  # not looked up
    ]
    for url in urls:
        webhooks.create(store, owner, custom, url=url)
    found = settings.webhooks_needing_private_networks(store, owner.account_id)
    assert [(u.url, u.reason) for u in found] == [
        ("http://10.0.0.5:8080/hook", "plain http; 10.0.0.5 is a private-network address"),
        ("https://127.0.0.1:8443/x", "127.0.0.1 is a loopback address"),
        ("https://localhost:8443/x", "localhost is a loopback name"),
        (
            "https://[::ffff:192.168.1.10]/x",
            "::ffff:192.168.1.10 is an IPv4-mapped IPv6 form of 192.168.1.10, a "
            "private-network address",
        ),
        ("http://intranet.example/hook", "plain http"),
    ]
    assert {u.integration_name for u in found} == {"Custom integration"}
    # A paused integration's webhooks do not send: nothing to warn about.
    marketplace.disable(store, owner, "custom")
    assert settings.webhooks_needing_private_networks(store, owner.account_id) == []


def test_http_and_private_literals_only_when_the_account_allows(store, owner, custom):
    settings.set_allow_private_webhooks(store, owner, True)
    a = webhooks.create(store, owner, custom, url="http://10.0.0.1:8080/hook")
    b = webhooks.create(store, owner, custom, url="https://[::1]/hook")
    assert {a.url, b.url} == {"http://10.0.0.1:8080/hook", "https://[::1]/hook"}


def test_same_url_twice_in_one_integration_is_refused(store, owner, custom):
    webhooks.create(store, owner, custom, url=URL)
    with pytest.raises(ValidationError, match="already has a webhook for this URL"):
        webhooks.create(store, owner, custom, url=URL)
    assert len(_rows(store)) == 1


def test_member_cannot_create(store, owner, member, custom):
    with pytest.raises(PermissionDenied, match="Manage add-ons and integrations"):
        webhooks.create(store, member, custom, url=URL)
    assert _rows(store) == []


def test_only_on_the_enabled_custom_integration(store, owner, custom):
    sf = marketplace.enable(store, owner, "salesforce")
    with pytest.raises(Conflict, match="native integration: its webhooks are managed"):
        webhooks.create(store, owner, sf, url=URL)
    marketplace.disable(store, owner, "custom")
    with pytest.raises(Conflict, match="disabled: enable it in the Marketplace"):
        webhooks.create(store, owner, custom, url=URL)
    with pytest.raises(NotFound):
        webhooks.create(store, owner, 9999, url=URL)
    assert [w.managed for w in _rows(store)] == [True]


# -- list and get ------------------------------------------------------------------------


def test_list_shows_last_delivery_in_one_query(store, owner, custom):
    from datetime import UTC, datetime

    a = webhooks.create(store, owner, custom, url=URL + "/a")
    b = webhooks.create(store, owner, custom, url=URL + "/b")
    webhooks.create(store, owner, custom, url=URL + "/c")
    t0 = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    with store.write(owner.account_id) as s:
        for i, (wid, ok, status) in enumerate(
            [(a.id, False, 500), (a.id, True, 200), (b.id, False, None)]
        ):
            s.add(
                Delivery(
                    webhook_id=wid,
                    callback_id=f"{i:040x}",
                    event_type="webhook:test",
                    url="u",
                    attempted_at=t0,
                    success=ok,
                    status_code=status,
                    error=None if ok else "Timeout: x",
                )
            )
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(store.engine, "before_cursor_execute", listen)
    try:
        rows = webhooks.list_for_integration(store, owner.account_id, custom)
    finally:
        event.remove(store.engine, "before_cursor_execute", listen)
    assert len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) == 1
    by_url = {r.url: r for r in rows}
    assert by_url[URL + "/a"].last_result_label == "ok (200)"
    assert by_url[URL + "/a"].delivery_count == 2
    assert by_url[URL + "/b"].last_result_label == "failed (timeout)"
    assert by_url[URL + "/b"].last_error == "Timeout: x"
    assert by_url[URL + "/c"].last_result_label == "never"


def test_managed_webhooks_are_listed_read_only(store, owner):
    sf = marketplace.enable(store, owner, "salesforce")
    [w] = webhooks.list_for_integration(store, owner.account_id, sf)
    assert w.managed and w.verified and w.integration_name == "Salesforce"
    with pytest.raises(Conflict, match="managed by Salesforce: it is read-only"):
        webhooks.delete(store, owner, w.id)
    with pytest.raises(Conflict, match="managed by Salesforce: it is read-only"):
        webhooks.update(store, owner, w.id, url=URL)
    assert [r.url for r in _rows(store)] == [w.url]


def test_get_is_scoped_to_the_account(store, owner, custom):
    w = webhooks.create(store, owner, custom, url=URL)
    assert webhooks.get(store, owner.account_id, w.id) == w
    with pytest.raises(NotFound):
        webhooks.get(store, owner.account_id + 1, w.id)


def test_paused_integration_shows_inactive(store, owner, custom):
    webhooks.create(store, owner, custom, url=URL)
    marketplace.disable(store, owner, "custom")
    [w] = webhooks.list_for_integration(store, owner.account_id, custom)
    assert not w.active
    marketplace.enable(store, owner, "custom")
    [w] = webhooks.list_for_integration(store, owner.account_id, custom)
    assert w.active


# -- reveal, update, delete -----------------------------------------------------------------


def test_reveal_key_needs_the_permission_and_is_audited_without_the_key(
    store, owner, member, custom
):
    key = "a typed key of twenty chars"
    w = webhooks.create(store, owner, custom, url=URL, sign_key=key)
    with pytest.raises(PermissionDenied):
        webhooks.reveal_key(store, member, w.id)
    assert webhooks.reveal_key(store, owner, w.id) == key
    text = _audit_text(store)
    assert "webhook.reveal_key" in text and key not in text


def test_update_changes_url_key_and_events(store, owner, custom):
    w = webhooks.create(store, owner, custom, url=URL, verified=True)
    key = webhooks.generate_signing_key()
    u = webhooks.update(
        store, owner, w.id, url=URL + "/v2", sign_key=key, event_types=["contract:sign"]
    )
    assert (u.url, u.signed, u.event_types, u.verified) == (
        URL + "/v2",
        True,
        ("contract:sign",),
        False,
    )
    u = webhooks.update(store, owner, w.id, sign_key=None)
    assert not u.signed and u.url == URL + "/v2" and u.event_types == ("contract:sign",)
    text = _audit_text(store)
    assert "signing key changed" in text and "signing key removed" in text and key not in text


def test_two_edits_from_the_same_version_do_not_overwrite_each_other(store, owner, custom):
    w = webhooks.create(store, owner, custom, url=URL)
    assert w.version == 1
    first = webhooks.update(
        store, owner, w.id, url=URL + "/first", event_types=["contract:sign"], version=w.version
    )
    assert first.version == 2
    with pytest.raises(Conflict) as err:
        webhooks.update(store, owner, w.id, url=URL + "/second", sign_key=None, version=w.version)
    assert err.value.message == (
        "The webhook https://hooks.example.com/oneflow/first was changed by someone else "
        "meanwhile; reopen it to see the latest version."
    )
    after = webhooks.get(store, owner.account_id, w.id)
    assert (after.url, after.event_types, after.version) == (
        URL + "/first",
        ("contract:sign",),
        2,
    )
    assert _audit_text(store).count("webhook.update") == 1
    # From the version it now has, the edit goes through.
    again = webhooks.update(store, owner, w.id, url=URL + "/second", version=after.version)
    assert (again.url, again.version) == (URL + "/second", 3)


def test_delete_removes_the_webhook_and_its_log(store, owner, member, custom):
    from datetime import UTC, datetime

    w = webhooks.create(store, owner, custom, url=URL)
    with store.write(owner.account_id) as s:
        s.add(
            Delivery(
                webhook_id=w.id,
                callback_id="0" * 40,
                event_type="webhook:test",
                url=URL,
                attempted_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    with pytest.raises(PermissionDenied):
        webhooks.delete(store, member, w.id)
    webhooks.delete(store, owner, w.id)
    assert _rows(store) == []
    with store.read() as s:
        assert s.exec(select(Delivery)).all() == []
    assert (
        "webhook.delete https://hooks.example.com/oneflow 1 logged delivery deleted"
        in _audit_text(store)
    )
    with pytest.raises(NotFound):
        webhooks.delete(store, owner, w.id)


def test_audit_never_shows_query_strings(store, owner, custom):
    webhooks.create(store, owner, custom, url=URL + "?token=s3cr3t")
    assert "s3cr3t" not in _audit_text(store)


# -- account settings ---------------------------------------------------------------------


def test_settings_default_and_change_with_audit(store, owner, member):
    assert settings.webhook_settings(store, owner.account_id) == settings.WebhookSettings(10, False)
    with pytest.raises(PermissionDenied):
        settings.set_allow_private_webhooks(store, member, True)
    with pytest.raises(PermissionDenied):
        settings.set_webhook_timeout(store, member, 5)
    assert settings.set_allow_private_webhooks(store, owner, True).allow_private
    assert settings.set_webhook_timeout(store, owner, 1).timeout_s == 1
    assert settings.webhook_settings(store, owner.account_id) == settings.WebhookSettings(1, True)
    entries = audit.entries(store, owner.account_id, text="account.settings")
    assert [e.detail for e in entries] == [
        "webhook timeout 10 s -> 1 s",
        "Allow webhooks to private networks: off -> on",
    ]
    settings.set_allow_private_webhooks(store, owner, True)  # no change, no entry
    assert len(audit.entries(store, owner.account_id, text="account.settings")) == 2


@pytest.mark.parametrize("seconds", [0, 31, -1, True, 2.5])
def test_timeout_outside_1_to_30_is_refused(store, owner, seconds):
    with pytest.raises(ValidationError) as err:
        settings.set_webhook_timeout(store, owner, seconds)
    assert err.value.field == "webhook_timeout_s"
    assert settings.webhook_settings(store, owner.account_id).timeout_s == 10


def test_a_whsec_key_that_is_not_base64_is_refused_without_quoting_it():
    """Found by tests/reliability/test_hostile.py: ``hmac_key`` raised base64's
    own ValueError (beyond ASCII) or binascii.Error (a bad length)."""
    from store.errors import ValidationError
    from store.payload import hmac_key

    for key in ("whsec_\x80secret", "whsec_Zq7kX", "whsec_not base64!"):
        with pytest.raises(ValidationError, match="must be base64 after the prefix") as err:
            hmac_key(key)
        assert key[6:] not in str(err.value)
    assert hmac_key("whsec_" + "QUJD") == b"ABC"
    assert hmac_key("plain key") == b"plain key"

"""Webhook deliveries against a real HTTP server on loopback: success, failures
in words, signatures verified by the ``standardwebhooks`` library and by
recomputing the legacy sha1, the attempt log, resend, test-before-save.
Both backends (the ``store`` fixture)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import select
from standardwebhooks import Webhook as StandardWebhook
from werkzeug import Request, Response

from store import clock, deliveries, guard, marketplace, settings, webhooks
from store.errors import Conflict, PermissionDenied, ValidationError
from store.models import Delivery

TYPED_KEY = "a typed signing key, 32 chars ok"


@pytest.fixture(autouse=True)
def _clean(receiver):
    yield
    receiver.clear()
    guard.set_resolver(None)


@pytest.fixture
def custom(store, owner) -> int:
    iid = marketplace.enable(store, owner, "custom")
    settings.set_allow_private_webhooks(store, owner, True)  # the receiver is on loopback
    return iid


def _hook(store, owner, custom, url, key=None):
    return webhooks.create(store, owner, custom, url=url, sign_key=key)


def _logged(store) -> list[Delivery]:
    with store.read() as s:
        return list(s.exec(select(Delivery).order_by(Delivery.id)).all())


def _received(receiver) -> list[Request]:
    return [req for req, _resp in receiver.log]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- success and signatures ---------------------------------------------------------


async def test_success_with_generated_key_verified_by_standardwebhooks(
    store, owner, custom, receiver
):
    receiver.expect_request("/hook", method="POST").respond_with_data("thanks", status=200)
    key = webhooks.generate_signing_key()
    w = _hook(store, owner, custom, receiver.url_for("/hook"), key)

    result = await deliveries.send_test(store, owner, w.id)

    assert result.ok and result.status_code == 200 and result.reason == "HTTP 200 OK"
    assert result.connected_to == "127.0.0.1" and result.delivery_id is not None
    [req] = _received(receiver)
    raw = req.get_data()
    headers = dict(req.headers)
    # The peer that matters: the official verifier, given the key as the admin has it.
    payload = StandardWebhook(key).verify(raw, headers)
    assert payload["callback_id"] == result.callback_id == headers["Webhook-Id"]
    assert re.fullmatch(r"[0-9a-f]{40}", payload["callback_id"])
    assert payload["signature"] == hashlib.sha1((payload["callback_id"] + key).encode()).hexdigest()
    [ev] = payload["events"]
    assert ev["type"] == "webhook:test" and isinstance(ev["id"], int)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", ev["created_time"])
    assert payload["contract"] == {"id": 0}
    assert headers["User-Agent"] == "integrations-admin/0.1.0"
    assert headers["Content-Type"] == "application/json"
    assert raw.decode() == result.request_body
    # Logged with what was sent and what came back.
    [row] = _logged(store)
    assert (row.webhook_id, row.success, row.status_code, row.callback_id) == (
        w.id,
        True,
        200,
        result.callback_id,
    )
    assert row.event_type == "webhook:test" and row.url == receiver.url_for("/hook")
    assert row.latency_ms is not None and row.error is None
    detail = deliveries.delivery(store, row.id)
    assert ("webhook-signature", headers["Webhook-Signature"]) in detail.request_headers
    assert detail.request_body == raw.decode()
    assert detail.response_excerpt.startswith("HTTP 200 OK") and detail.response_excerpt.endswith(
        "thanks"
    )
    assert key not in detail.response_excerpt + detail.request_body + json.dumps(
        detail.request_headers
    )
    assert webhooks.get(store, owner.account_id, w.id).last_result_label == "ok (200)"


async def test_typed_key_signs_with_its_utf8_bytes(store, owner, custom, receiver):
    receiver.expect_request("/typed").respond_with_data("", status=204)
    w = _hook(store, owner, custom, receiver.url_for("/typed"), TYPED_KEY)

    result = await deliveries.send_test(store, owner, w.id)

    assert result.ok and result.status_code == 204
    [req] = _received(receiver)
    payload = StandardWebhook(TYPED_KEY.encode("utf-8")).verify(req.get_data(), dict(req.headers))
    assert (
        payload["signature"]
        == hashlib.sha1((payload["callback_id"] + TYPED_KEY).encode()).hexdigest()
    )
    with pytest.raises(Exception, match="No matching signature"):
        StandardWebhook(b"some other key of 32 characters").verify(
            req.get_data(), dict(req.headers)
        )


async def test_typed_key_verifies_with_its_receiver_secret(store, owner, custom, receiver):
    """A receiver pastes the secret the webhook page shows (``whsec_`` + base64 of the
    typed key's bytes) into the official library, which accepts only that form."""
    receiver.expect_request("/typed").respond_with_data("", status=204)
    w = _hook(store, owner, custom, receiver.url_for("/typed"), TYPED_KEY)
    secret = webhooks.receiver_secret(TYPED_KEY)
    assert secret.startswith("whsec_") and secret != TYPED_KEY

    assert (await deliveries.send_test(store, owner, w.id)).ok

    [req] = _received(receiver)
    payload = StandardWebhook(secret).verify(req.get_data(), dict(req.headers))
    assert payload["callback_id"] == req.headers["Webhook-Id"]
    # The typed key itself, pasted as a string, is not what the library wants.
    with pytest.raises(Exception):  # noqa: B017 - the library's own error types vary
        StandardWebhook(TYPED_KEY).verify(req.get_data(), dict(req.headers))


async def test_unsigned_delivery_has_no_signatures(store, owner, custom, receiver):
    receiver.expect_request("/plain").respond_with_data("ok")
    w = _hook(store, owner, custom, receiver.url_for("/plain"))
    assert (await deliveries.send_test(store, owner, w.id)).ok
    [req] = _received(receiver)
    assert "signature" not in req.get_json()
    assert not any(name.lower().startswith("webhook-") for name, _value in req.headers)


# -- failures, each in words ---------------------------------------------------------------


async def test_500_is_a_failure_with_the_status(store, owner, custom, receiver):
    receiver.expect_request("/err").respond_with_data("database down", status=500)
    w = _hook(store, owner, custom, receiver.url_for("/err"))
    result = await deliveries.send_test(store, owner, w.id)
    assert not result.ok and result.status_code == 500
    assert (
        result.reason == "HTTP 500 Internal Server Error: the receiver did not accept the delivery."
    )
    [row] = _logged(store)
    assert not row.success and row.status_code == 500 and row.error == result.reason
    assert "database down" in row.response_excerpt
    assert webhooks.get(store, owner.account_id, w.id).last_result_label == "failed (500)"


async def test_301_is_not_followed_and_shows_the_location(store, owner, custom, receiver):
    elsewhere = receiver.url_for("/elsewhere")
    receiver.expect_request("/moved").respond_with_data(
        "", status=301, headers={"Location": elsewhere}
    )
    receiver.expect_request("/elsewhere").respond_with_data("should never be reached")
    w = _hook(store, owner, custom, receiver.url_for("/moved"))
    result = await deliveries.send_test(store, owner, w.id)
    assert not result.ok and result.status_code == 301
    assert f"redirect to {elsewhere} not followed" in result.reason
    assert [r.path for r in _received(receiver)] == ["/moved"]
    assert _logged(store)[0].error == result.reason


async def test_a_very_long_location_is_cut_in_the_error(store, owner, custom, receiver):
    """The error is one line of the log, and the log's index holds it: a
    receiver's 6,000-character redirect address is cut to ERROR_MAX (PostgreSQL
    would refuse to index it whole, and the delivery would not be logged)."""
    noise = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(95))
    far = receiver.url_for("/far/") + noise
    receiver.expect_request("/moved").respond_with_data("", status=302, headers={"Location": far})
    w = _hook(store, owner, custom, receiver.url_for("/moved"))
    result = await deliveries.send_test(store, owner, w.id)
    assert not result.ok and result.status_code == 302
    assert len(result.reason) == deliveries.ERROR_MAX and result.reason.endswith("…")
    assert result.reason.startswith(f"HTTP 302 Found: redirect to {far[:100]}")
    assert _logged(store)[0].error == result.reason


async def test_timeout_uses_the_account_setting(store, owner, custom, receiver, release):
    settings.set_webhook_timeout(store, owner, 1)

    def hang(_request):
        release.wait(30)
        return Response("too late")

    receiver.expect_request("/slow").respond_with_handler(hang)
    w = _hook(store, owner, custom, receiver.url_for("/slow"))
    result = await deliveries.send_test(store, owner, w.id)
    assert not result.ok and result.status_code is None
    assert result.reason == "Timeout: 127.0.0.1 did not answer within 1 s."
    [row] = _logged(store)
    assert row.error == result.reason and not row.success
    assert webhooks.get(store, owner.account_id, w.id).last_result_label == "failed (timeout)"


async def test_connection_refused(store, owner, custom):
    port = _free_port()
    w = _hook(store, owner, custom, f"http://127.0.0.1:{port}/hook")
    result = await deliveries.send_test(store, owner, w.id)
    assert not result.ok
    assert (
        result.reason
        == f"Refused: 127.0.0.1 port {port} refused the connection (nothing listens there)."
    )
    assert _logged(store)[0].error == result.reason
    assert deliveries.deliveries(store, w.id)[0].short_label == "failed (refused)"


async def test_unresolvable_host(store, owner, custom):
    w = _hook(store, owner, custom, "https://receiver.invalid/hook")
    result = await deliveries.send_test(store, owner, w.id)
    assert not result.ok and result.status_code is None
    assert result.reason.startswith("DNS: the name receiver.invalid could not be resolved")
    assert _logged(store)[0].error == result.reason
    assert webhooks.get(store, owner.account_id, w.id).last_result_label == "failed (DNS)"
    assert deliveries.deliveries(store, w.id)[0].short_label == "failed (DNS)"


async def test_endless_response_is_read_up_to_64_kib(store, owner, custom, receiver):
    sent = {"chunks": 0}

    def endless(_request):
        def body():
            for _ in range(100_000):  # 1.6 GB if anyone read it all
                sent["chunks"] += 1
                yield b"x" * 16384

        return Response(body(), status=200)

    receiver.expect_request("/big").respond_with_handler(endless)
    w = _hook(store, owner, custom, receiver.url_for("/big"))
    result = await deliveries.send_test(store, owner, w.id)
    assert result.ok and result.status_code == 200
    assert result.response_bytes == deliveries.RESPONSE_READ_MAX == 65536
    assert result.response_truncated
    assert sent["chunks"] < 100_000
    row = _logged(store)[0]
    assert len(row.response_excerpt) < 6000
    assert "response longer than 64 KiB: reading stopped" in row.response_excerpt


async def test_oversize_fixed_length_response_is_capped(store, owner, custom, receiver):
    receiver.expect_request("/big").respond_with_data("y" * 200_000)
    w = _hook(store, owner, custom, receiver.url_for("/big"))
    result = await deliveries.send_test(store, owner, w.id)
    assert result.ok and result.response_bytes == 65536 and result.response_truncated


async def test_http_refused_once_private_networks_are_turned_off(store, owner, custom, receiver):
    w = _hook(store, owner, custom, receiver.url_for("/hook"))
    settings.set_allow_private_webhooks(store, owner, False)
    result = await deliveries.send_test(store, owner, w.id)
    assert not result.ok and "Plain http is accepted only" in result.reason
    assert _received(receiver) == []
    assert _logged(store)[0].error == result.reason


# -- the log, resend ------------------------------------------------------------------------


async def test_resend_keeps_callback_id_with_fresh_timestamp_and_signature(
    store, owner, custom, receiver
):
    key = webhooks.generate_signing_key()
    receiver.expect_oneshot_request("/flaky").respond_with_data("no", status=503)
    receiver.expect_oneshot_request("/flaky").respond_with_data("yes", status=200)
    w = _hook(store, owner, custom, receiver.url_for("/flaky"), key)
    now = clock.now()
    clock.fix(now - timedelta(seconds=90))
    first = await deliveries.send_test(store, owner, w.id)
    clock.fix(now)
    again = await deliveries.resend(store, owner, first.delivery_id)

    assert not first.ok and again.ok
    assert again.callback_id == first.callback_id
    r1, r2 = _received(receiver)
    p1 = StandardWebhook(key).verify(r1.get_data(), dict(r1.headers))
    p2 = StandardWebhook(key).verify(r2.get_data(), dict(r2.headers))
    assert p1["events"] == p2["events"] and p1["signature"] == p2["signature"]
    assert int(r2.headers["Webhook-Timestamp"]) - int(r1.headers["Webhook-Timestamp"]) == 90
    assert r1.headers["Webhook-Signature"] != r2.headers["Webhook-Signature"]
    rows = _logged(store)
    assert [(r.success, r.resend_of_id) for r in rows] == [(False, None), (True, rows[0].id)]
    log = deliveries.deliveries(store, w.id)
    assert [d.id for d in log] == [rows[1].id, rows[0].id]  # newest first
    assert log[0].result_label == "200 OK"
    assert log[1].result_label == "failed: 503 Service Unavailable"
    assert log[1].short_label == "failed (503)"


async def test_delivery_log_filter_and_limit(store, owner, custom, receiver):
    receiver.expect_request("/a").respond_with_data("", status=500)
    w = _hook(store, owner, custom, receiver.url_for("/a"))
    results = [await deliveries.send_test(store, owner, w.id) for _ in range(3)]
    assert len(deliveries.deliveries(store, w.id, limit=2)) == 2
    assert len(deliveries.deliveries(store, w.id, text_filter="500")) == 3
    assert len(deliveries.deliveries(store, w.id, text_filter="timeout")) == 0
    one = deliveries.deliveries(store, w.id, text_filter=results[1].callback_id[:12])
    assert [d.callback_id for d in one] == [results[1].callback_id]


async def test_member_cannot_test_or_resend(store, owner, member, custom, receiver):
    receiver.expect_request("/m").respond_with_data("ok")
    w = _hook(store, owner, custom, receiver.url_for("/m"))
    first = await deliveries.send_test(store, owner, w.id)
    with pytest.raises(PermissionDenied):
        await deliveries.send_test(store, member, w.id)
    with pytest.raises(PermissionDenied):
        await deliveries.resend(store, member, first.delivery_id)
    with pytest.raises(PermissionDenied):
        await deliveries.test_url(store, member, custom, receiver.url_for("/m"), None)
    assert len(_received(receiver)) == 1 and len(_logged(store)) == 1


async def test_paused_integration_does_not_send(store, owner, custom, receiver):
    receiver.expect_request("/p").respond_with_data("ok")
    w = _hook(store, owner, custom, receiver.url_for("/p"))
    marketplace.disable(store, owner, "custom")
    with pytest.raises(Conflict, match="do not send while it is paused"):
        await deliveries.send_test(store, owner, w.id)
    assert (
        await deliveries.deliver_event(store, owner.account_id, "contract:sign", contract_id=7)
        == []
    )
    assert _received(receiver) == [] and _logged(store) == []
    marketplace.enable(store, owner, "custom")
    [sent] = await deliveries.deliver_event(store, owner.account_id, "contract:sign", contract_id=7)
    assert sent.ok and _received(receiver)[0].get_json()["contract"] == {"id": 7}


async def test_events_reach_only_webhooks_that_receive_them(store, owner, custom, receiver):
    receiver.expect_request("/sign").respond_with_data("ok")
    receiver.expect_request("/all").respond_with_data("ok")
    marketplace.enable(store, owner, "salesforce")  # its managed webhook is the platform's
    webhooks.create(
        store, owner, custom, url=receiver.url_for("/sign"), event_types=["contract:sign"]
    )
    webhooks.create(store, owner, custom, url=receiver.url_for("/all"))
    await deliveries.deliver_event(store, owner.account_id, "contract:publish", contract_id=1)
    await deliveries.deliver_event(store, owner.account_id, "contract:sign", contract_id=2)
    got = sorted((r.path, r.get_json()["events"][0]["type"]) for r in _received(receiver))
    assert got == [
        ("/all", "contract:publish"),
        ("/all", "contract:sign"),
        ("/sign", "contract:sign"),
    ]
    assert len(_logged(store)) == 3


async def test_managed_webhooks_cannot_be_tested(store, owner):
    sf = marketplace.enable(store, owner, "salesforce")
    [w] = webhooks.list_for_integration(store, owner.account_id, sf)
    with pytest.raises(Conflict, match="managed by Salesforce"):
        await deliveries.send_test(store, owner, w.id)


async def test_cancelled_delivery_is_logged(store, owner, custom, receiver, release):
    arrived = threading.Event()

    def hang(_request):
        arrived.set()
        release.wait(30)
        return Response("late")

    receiver.expect_request("/hang").respond_with_handler(hang)
    w = _hook(store, owner, custom, receiver.url_for("/hang"))
    task = asyncio.create_task(deliveries.send_test(store, owner, w.id))
    await asyncio.to_thread(arrived.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [row] = _logged(store)
    assert not row.success and row.error.startswith("Cancelled before an answer came")


# -- testing a URL before the webhook exists -----------------------------------------------


async def test_test_url_is_not_logged_until_confirmed(store, owner, custom, receiver):
    receiver.expect_request("/new").respond_with_data("ok")
    url = receiver.url_for("/new")
    result = await deliveries.test_url(store, owner, custom, url, TYPED_KEY)
    assert result.ok and result.delivery_id is None and result.latency_ms is not None
    assert _logged(store) == []
    # This test's request (the receiver is the module's: a request of an earlier
    # test may still arrive late on a loaded machine).
    [req] = [r for r in _received(receiver) if r.headers.get("webhook-id") == result.callback_id]
    StandardWebhook(TYPED_KEY.encode()).verify(req.get_data(), dict(req.headers))

    w = webhooks.create(store, owner, custom, url=url, sign_key=TYPED_KEY, test=result)
    assert w.verified and w.delivery_count == 1 and w.last_result_label == "ok (200)"
    [d] = deliveries.deliveries(store, w.id)
    assert d.callback_id == result.callback_id and d.event_type == "webhook:test"


async def test_a_test_of_another_url_or_key_does_not_verify(store, owner, custom, receiver):
    receiver.expect_request("/x").respond_with_data("ok")
    result = await deliveries.test_url(store, owner, custom, receiver.url_for("/x"), TYPED_KEY)
    other_key = webhooks.create(store, owner, custom, url=receiver.url_for("/x"), test=result)
    assert not other_key.verified and other_key.delivery_count == 0
    other_url = webhooks.create(
        store, owner, custom, url=receiver.url_for("/y"), sign_key=TYPED_KEY, test=result
    )
    assert not other_url.verified and other_url.delivery_count == 0


async def test_failed_test_is_logged_but_not_verified(store, owner, custom, receiver):
    receiver.expect_request("/bad").respond_with_data("", status=404)
    url = receiver.url_for("/bad")
    result = await deliveries.test_url(store, owner, custom, url, None)
    assert not result.ok and result.reason.startswith("HTTP 404 Not Found")
    w = webhooks.create(store, owner, custom, url=url, verified=True, test=result)
    assert not w.verified and w.delivery_count == 1


async def test_test_url_refuses_bad_input_before_sending(store, owner, custom, receiver):
    with pytest.raises(ValidationError) as err:
        await deliveries.test_url(store, owner, custom, "ftp://x.example/", None)
    assert err.value.field == "url"
    with pytest.raises(ValidationError) as err:
        await deliveries.test_url(store, owner, custom, receiver.url_for("/"), "short")
    assert err.value.field == "sign_key"
    assert _received(receiver) == []


# -- names, Host header and TLS --------------------------------------------------------------


def _resolve_to(address: str):
    async def resolver(host: str, port: int) -> list[str]:
        return [address]

    return resolver


async def test_connects_to_the_checked_address_keeping_the_host_name(
    store, owner, custom, receiver
):
    receiver.expect_request("/named").respond_with_data("ok")
    guard.set_resolver(_resolve_to("127.0.0.1"))
    url = f"http://receiver.test:{receiver.port}/named"
    result = await deliveries.test_url(store, owner, custom, url, None)
    assert result.ok and result.connected_to == "127.0.0.1"
    assert _received(receiver)[0].headers["Host"] == f"receiver.test:{receiver.port}"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for the name receiver.test (openssl command line)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(d / "key.pem"),
            "-out",
            str(d / "cert.pem"),
            "-subj",
            "/CN=receiver.test",
            "-addext",
            "subjectAltName=DNS:receiver.test",
        ],
        check=True,
        capture_output=True,
    )
    return d / "cert.pem", d / "key.pem"


@pytest.fixture(scope="module")
def tls_receiver(tls_files):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*map(str, tls_files))
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=ctx, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


async def test_tls_checks_the_certificate_against_the_url_name(
    store, owner, custom, tls_receiver, tls_files, monkeypatch
):
    tls_receiver.expect_request("/tls").respond_with_data("secure ok")
    guard.set_resolver(_resolve_to("127.0.0.1"))
    url = f"https://receiver.test:{tls_receiver.port}/tls"

    untrusted = await deliveries.test_url(store, owner, custom, url, None)
    assert not untrusted.ok
    assert untrusted.reason.startswith("TLS: the certificate of receiver.test was not accepted")

    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files[0]))  # the operator trusts this CA
    trusted = await deliveries.test_url(store, owner, custom, url, None)
    # Connected to 127.0.0.1, yet SNI and the certificate check used receiver.test.
    assert trusted.ok and trusted.connected_to == "127.0.0.1"

    by_ip = await deliveries.test_url(
        store, owner, custom, f"https://127.0.0.1:{tls_receiver.port}/tls", None
    )
    assert not by_ip.ok and by_ip.reason.startswith("TLS: the certificate of 127.0.0.1")
    assert len(tls_receiver.log) == 1
    tls_receiver.clear()

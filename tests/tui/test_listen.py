"""`integrations-admin listen` (issue 18): a real `listen` process on loopback
receives real Test deliveries from the store and prints one line each:
verified, or why not (tampered body, old timestamp, wrong key); `--fail 2`
answers 500 twice; without a key, "not checked"; `--forward-to` returns the
local service's answer. The pure check (``store.receiver.check``) is tested
against the ``standardwebhooks`` library's own signatures too."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook as StandardWebhook

from store import accounts, clock, deliveries, marketplace, payload, receiver, settings, webhooks
from store.db import Store

from ..receivers import Listen

TYPED_KEY = "a typed signing key, 32 chars ok"


@pytest.fixture
def world(tmp_path) -> Iterator[tuple[Store, accounts.Actor, int]]:
    """A SQLite store whose owner is "alice" (the login the listen process runs as),
    the Custom integration enabled and private networks allowed (loopback)."""
    st = Store(f"sqlite:///{tmp_path / 'listen.db'}")
    st.prepare()
    owner = accounts.sign_in(st, "alice")
    iid = marketplace.enable(st, owner, "custom")
    settings.set_allow_private_webhooks(st, owner, True)
    yield st, owner, iid
    st.dispose()


@pytest.fixture
def running() -> Iterator[list[Listen]]:
    started: list[Listen] = []
    yield started
    for each in started:
        each.stop()


def _start(running: list[Listen], *args: str, db: str | None = None, stdin: str = "") -> Listen:
    listen = Listen(*args, db=db, stdin=stdin)
    running.append(listen)
    return listen


async def test_listen_verifies_a_real_delivery_and_says_why_not(world, running):
    store, owner, iid = world
    key = webhooks.generate_signing_key()
    # --webhook reads the key from the database; created first so the URL is known
    # only after listen started: the webhook points at it afterwards.
    hook = webhooks.create(store, owner, iid, url="http://127.0.0.1:9/x", sign_key=key)
    listen = _start(running, "--webhook", str(hook.id), "--fail", "2", db=store.url)
    advice = listen.next_line("Allow webhooks to private networks")
    assert "(it is on)" in advice and listen.url in advice
    webhooks.update(store, owner, hook.id, url=listen.url)

    # --fail 2: two 500s, then 200; each line says verified.
    results = [await deliveries.send_test(store, owner, hook.id) for _ in range(3)]
    assert [r.status_code for r in results] == [500, 500, 200]
    for r in results:
        text = listen.next_line(r.callback_id)
        assert "webhook:test" in text and "  verified  " in text
        assert re.search(rf"  {len(r.request_body.encode())} B  -> {r.status_code}$", text)
    assert key not in "\n".join(listen.seen)

    # A tampered body: signed headers as sent, another contract id in the body.
    sent = payload.prepare(listen.url, key, payload.webhook_test_events())
    body = sent.body.replace('"contract": {"id": 0}', '"contract": {"id": 666}')
    assert body != sent.body
    assert httpx.post(listen.url, content=body, headers=sent.headers).status_code == 200
    assert "does not match (wrong key or altered body)" in listen.next_line(sent.callback_id)

    # An old timestamp: signed ten minutes ago.
    clock.fix(clock.now() - timedelta(minutes=10))
    old = await deliveries.send_test(store, owner, hook.id)
    clock.fix(None)
    assert "timestamp too old" in listen.next_line(old.callback_id)


async def test_listen_with_a_wrong_key_and_without_a_key(world, running):
    store, owner, iid = world
    wrong = _start(running, "--key", webhooks.generate_signing_key())
    unchecked = _start(running)
    assert "not checked" in unchecked.seen[0]
    key = webhooks.generate_signing_key()
    for listen, expected in ((wrong, "does not match"), (unchecked, receiver.NOT_CHECKED)):
        hook = webhooks.create(store, owner, iid, url=listen.url, sign_key=key)
        result = await deliveries.send_test(store, owner, hook.id)
        assert result.ok  # answered 200 either way
        assert expected in listen.next_line(result.callback_id)


async def test_listen_forwards_and_returns_the_services_answer(world, running, httpserver):
    store, owner, iid = world
    httpserver.expect_request("/local", method="POST").respond_with_data(
        "from the local service", status=202
    )
    key = TYPED_KEY
    # --key - reads the key from standard input (out of the shell history).
    listen = _start(
        running, "--key", "-", "--forward-to", httpserver.url_for("/local"), stdin=key + "\n"
    )
    hook = webhooks.create(store, owner, iid, url=listen.url, sign_key=key)
    result = await deliveries.send_test(store, owner, hook.id)
    assert result.status_code == 202 and "from the local service" in result.response_excerpt
    [(req, _resp)] = httpserver.log
    assert req.get_data().decode() == result.request_body
    assert req.headers["webhook-signature"] == dict(result.request_headers)["webhook-signature"]
    text = listen.next_line(result.callback_id)
    assert "  verified  " in text and text.endswith("-> 202")


def test_check_accepts_what_the_library_signs_with_either_key():
    """``check`` against signatures made by the standardwebhooks library itself."""
    new, old = webhooks.generate_signing_key(), webhooks.generate_signing_key()
    cid = payload.new_callback_id()
    body = payload.build_body(cid, payload.webhook_test_events(), old)
    now = int(time.time())
    sig = StandardWebhook(old).sign(cid, datetime.fromtimestamp(now, UTC), body)
    headers = {"webhook-id": cid, "webhook-timestamp": str(now), "webhook-signature": sig}
    v = receiver.check(headers, body.encode(), [new, old])
    assert v.verified and v.reason == "verified (previous key)"
    v = receiver.check(headers, body.encode(), [new])
    assert not v.verified and "does not match" in v.reason
    # A body whose legacy signature is wrong, Standard-signed as it is: refused.
    data = json.loads(body)
    data["signature"] = "0" * 40
    forged = json.dumps(data)
    headers["webhook-signature"] = StandardWebhook(old).sign(
        cid, datetime.fromtimestamp(now, UTC), forged
    )
    v = receiver.check(headers, forged.encode(), [old], now=now)
    assert not v.verified and "legacy signature does not match" in v.reason
    headers["webhook-signature"] = sig
    future = receiver.check(headers, body.encode(), [old], now=now - 3600)
    assert "in the future" in future.reason


def test_a_rotation_since_the_start_is_picked_up():
    """``listen --webhook`` reads the keys again when a delivery does not verify:
    a rotation made after it started (here the old key's overlap is over)."""
    old, new = webhooks.generate_signing_key(), webhooks.generate_signing_key()
    asked: list[int] = []

    def refresh() -> list[str]:
        asked.append(1)
        return [new]

    lines: list[str] = []
    with receiver.Receiver(keys=[old], refresh_keys=refresh, on_line=lines.append) as r:
        sent = payload.prepare(r.url, new, payload.webhook_test_events())
        assert httpx.post(r.url, content=sent.body, headers=sent.headers).status_code == 200
        again = payload.prepare(r.url, new, payload.webhook_test_events())
        assert httpx.post(r.url, content=again.body, headers=again.headers).status_code == 200
    assert ["  verified  " in each for each in lines] == [True, True]
    assert len(asked) == 1  # the second delivery verified with the keys read again

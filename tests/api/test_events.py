"""Events that reach their webhooks (issue 17), end to end: a contract signed
through ``integrations-admin serve`` (a real process, with the dispatcher it
runs beside the API) reaches the subscribed webhook once, not the other one,
with both signatures valid by the ``standardwebhooks`` library; with
``--no-dispatch`` nothing is sent and the store says no dispatcher runs."""

from __future__ import annotations

import hashlib
import signal
import time

import httpx
from sqlmodel import select
from standardwebhooks import Webhook as StandardWebhook

from store import dispatch, settings, webhooks
from store.models import EventDelivery

from ..api_server import ServeProcess
from ..contracts_world import build
from ..receivers import Receiver


def _states(store) -> list[tuple[str, str]]:
    with store.read() as s:
        return [
            tuple(r)
            for r in s.exec(
                select(EventDelivery.event_type, EventDelivery.state).order_by(EventDelivery.id)
            ).all()
        ]


def _signed_contract(srv: ServeProcess, world) -> int:
    headers = {"Authorization": f"Bearer {world.token}"}
    r = httpx.post(
        f"{srv.url}/v1/contracts",
        headers=headers,
        json={"playbook_id": world.playbook_id, "name": "Order 7", "values": {"Amount": "7"}},
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    for step in ("publish", "sign"):
        r = httpx.post(f"{srv.url}/v1/contracts/{cid}/{step}", headers=headers)
        assert r.status_code == 200, r.text
    return cid


def test_a_contract_signed_through_the_api_reaches_its_webhook_once(store, owner):
    world = build(store, owner)
    settings.set_allow_private_webhooks(store, owner, True)
    signs, declines = Receiver(), Receiver()
    key = webhooks.generate_signing_key()
    webhooks.create(
        store,
        owner,
        world.integration_id,
        url=signs.url,
        event_types=["contract:sign"],
        sign_key=key,
    )
    webhooks.create(
        store, owner, world.integration_id, url=declines.url, event_types=["contract:decline"]
    )
    try:
        with ServeProcess(store.url) as srv:
            cid = _signed_contract(srv, world)
            deadline = time.monotonic() + 60
            while _states(store) != [("contract:sign", "delivered")]:
                assert time.monotonic() < deadline, _states(store)
                time.sleep(0.05)
            code, out, err = srv.stop(signal.SIGINT)
        assert code == 0 and "Traceback" not in err, err
        assert "A dispatcher runs beside the API" in out
    finally:
        signs.stop()
        declines.stop()
    assert declines.requests == []
    [req] = signs.requests
    body = StandardWebhook(key).verify(req.body, req.headers)
    assert body["signature"] == hashlib.sha1((body["callback_id"] + key).encode()).hexdigest()
    assert body["contract"] == {"id": cid}
    assert [e["type"] for e in body["events"]] == ["contract:sign"]
    assert dispatch.dispatchers_seen(store) == []  # it stopped with serve


def test_serve_no_dispatch_sends_nothing_and_the_store_says_so(store, owner):
    world = build(store, owner)
    settings.set_allow_private_webhooks(store, owner, True)
    rx = Receiver()
    webhooks.create(store, owner, world.integration_id, url=rx.url)
    try:
        with ServeProcess(store.url, "--no-dispatch") as srv:
            _signed_contract(srv, world)
            code, out, _ = srv.stop(signal.SIGINT)
        assert code == 0 and "dispatcher runs beside" not in out
    finally:
        rx.stop()
    assert rx.requests == []
    assert {state for _, state in _states(store)} == {"pending"}
    assert dispatch.dispatcher_missing(store, owner.account_id) == dispatch.NO_DISPATCHER

"""The transactional outbox (issue 17), on SQLite and PostgreSQL: contract
changes write their event and one pending delivery per subscribed webhook in
the change's own transaction; a change that rolls back leaves neither."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from store import clock, contracts, marketplace, outbox, settings, webhooks
from store.change import anyone, change
from store.errors import Conflict, Invalid
from store.models import Event, EventDelivery, Webhook

from ..contracts_world import World, build
from ..helpers import snapshot


@pytest.fixture
def world(store, owner) -> World:
    settings.set_allow_private_webhooks(store, owner, True)
    return build(store, owner)


def _hook(store, owner, world, url: str, events: list[str] | None = None) -> int:
    return webhooks.create(store, owner, world.integration_id, url=url, event_types=events).id


def _queue(store) -> list[tuple[str, int, str, str]]:
    with store.read() as s:
        rows = s.exec(
            select(
                Event.type, EventDelivery.webhook_id, EventDelivery.state, EventDelivery.callback_id
            )
            .join(Event, Event.id == EventDelivery.event_id)
            .order_by(EventDelivery.id)
        ).all()
    return [tuple(r) for r in rows]


def _events(store) -> list[str]:
    with store.read() as s:
        return list(s.exec(select(Event.type).order_by(Event.id)).all())


def test_each_contract_change_queues_its_event_for_the_subscribed_webhooks(store, owner, world):
    every = _hook(store, owner, world, "https://all.example.com/h")
    signs = _hook(store, owner, world, "https://signs.example.com/h", ["contract:sign"])
    caller = world.caller(store)
    made = contracts.create(
        store, caller, playbook_id=world.playbook_id, name="Order 1", values={"Amount": "10"}
    )
    cid = made.contract.id
    contracts.update(store, caller, cid, values={"Amount": "11"})
    contracts.publish(store, caller, cid)
    contracts.sign(store, caller, cid)
    assert _events(store) == [
        "contract:create",
        "data_field:update",
        "contract:publish",
        "contract:sign",
    ]
    queued = _queue(store)
    assert [(t, w, st) for t, w, st, _ in queued] == [
        ("contract:create", every, "pending"),
        ("data_field:update", every, "pending"),
        ("contract:publish", every, "pending"),
        ("contract:sign", every, "pending"),
        ("contract:sign", signs, "pending"),
    ]
    ids = [cb for *_, cb in queued]
    assert len(set(ids)) == len(ids) and all(re.fullmatch("[0-9a-f]{40}", cb) for cb in ids)
    with store.read() as s:
        ev = s.exec(select(Event).where(Event.type == "contract:sign")).one()
        assert (ev.contract_id, ev.integration_id, ev.account_id) == (
            cid,
            world.integration_id,
            owner.account_id,
        )
        assert '"Order 1"' in ev.payload
        due = s.exec(select(EventDelivery).where(EventDelivery.webhook_id == signs)).one()
        assert due.next_attempt_at is not None and due.attempts == 0


def test_paused_disabled_and_stopped_webhooks_queue_nothing(store, owner, world):
    paused = _hook(store, owner, world, "https://paused.example.com/h")
    disabled = _hook(store, owner, world, "https://disabled.example.com/h")
    live = _hook(store, owner, world, "https://live.example.com/h")
    with store.write(owner.account_id) as s:
        s.get(Webhook, paused).paused = True
        w = s.get(Webhook, disabled)
        w.disabled_at, w.disabled_reason = clock.now(), "HTTP 410 Gone"
    caller = world.caller(store)
    contracts.create(store, caller, playbook_id=world.playbook_id, name="A", values={"Amount": "1"})
    assert [w for _, w, _, _ in _queue(store)] == [live]
    # The integration disabled: nothing queued (the event itself is still recorded).
    marketplace.disable(store, owner, "custom")
    with change(store, None, "emit", check=anyone, account_id=owner.account_id) as c:
        out = outbox.emit(c, "contract:sign", {"x": 1}, integration_id=world.integration_id)
    assert out.webhook_ids == ()
    assert len(_queue(store)) == 1 and _events(store)[-1] == "contract:sign"


def test_a_change_that_rolls_back_leaves_no_event_and_no_delivery(store, owner, world):
    _hook(store, owner, world, "https://all.example.com/h")
    caller = world.caller(store)
    cid = contracts.create(
        store, caller, playbook_id=world.playbook_id, name="A", values={"Amount": "1"}
    ).contract.id
    before = snapshot(store)
    # Refused changes: nothing written, the outbox included.
    with pytest.raises(Conflict):
        contracts.sign(store, caller, cid)  # a draft cannot be signed
    with pytest.raises(Invalid):
        contracts.update(store, caller, cid, values={"Amount": ""})
    # A change that fails after its event was written rolls the event back too.
    with (
        pytest.raises(RuntimeError),
        change(store, None, "emit", check=anyone, account_id=owner.account_id) as c,
    ):
        written = outbox.emit(c, "contract:sign", {"x": 1}, contract_id=cid)
        assert written.webhook_ids  # it was queued, inside the transaction
        raise RuntimeError("the change fails after its event was written")
    assert snapshot(store) == before


def test_the_filter_takes_exactly_the_named_types(store, owner, world):
    # "contract:sign" is a substring of no other type, but the SQL prefilter is
    # only a prefilter: the exact check is on the parsed list.
    decl = _hook(store, owner, world, "https://d.example.com/h", ["contract:decline"])
    with change(store, None, "emit", check=anyone, account_id=owner.account_id) as c:
        assert outbox.emit(c, "contract:sign", {}).webhook_ids == ()
        assert outbox.emit(c, "contract:decline", {}).webhook_ids == (decl,)
        assert outbox.emit(c, "contract:dec", {}).webhook_ids == ()

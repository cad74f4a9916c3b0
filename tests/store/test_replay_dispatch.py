"""Replay through the real dispatcher (store.dispatch) to a real receiver on
loopback, both backends: an exhausted delivery replayed is sent again with the
same callback id, as one more delivery of the same row, and delivered; a
webhook disabled after 5 exhausted in a row, enabled, then replayed since its
first failure, receives what it missed (issue 17). The schedule is scaled by
the dispatcher's documented setting (``scale``), never slept through.
"""

from __future__ import annotations

from sqlmodel import func, select

from store import outbox, replay, settings, webhooks
from store.change import anyone, change
from store.models import EventDelivery

from ..receivers import Receiver
from .test_dispatch import _dispatcher, run_until


def _emit(store, account_id: int, n: int = 1) -> None:
    with change(store, None, "emit", check=anyone, account_id=account_id) as c:
        for _ in range(n):
            outbox.emit(c, "contract:sign", {"test": True})


def _rows(store) -> list[EventDelivery]:
    with store.read() as s:
        return list(s.exec(select(EventDelivery).order_by(EventDelivery.id)).all())


class Switch:
    """A receiver that fails until switched to 200 (the receiver is fixed)."""

    def __init__(self) -> None:
        self.status = 500

    def __call__(self, _r, _req):
        return self.status, {}


async def test_an_exhausted_delivery_replayed_is_delivered_with_its_callback_id(
    store, owner, custom
):
    settings.set_allow_private_webhooks(store, owner, True)
    answer = Switch()
    rx = Receiver(answer)
    try:
        hook = webhooks.create(store, owner, custom, url=rx.url)
        _emit(store, owner.account_id)
        await run_until(_dispatcher(store), lambda: _rows(store)[0].state == "exhausted")
        assert rx.count() == 10
        [before] = _rows(store)

        answer.status = 200  # the receiver is fixed
        result = replay.replay(store, owner, hook.id, [before.id])
        assert result.queued == 1
        again = replay.replay(store, owner, hook.id, [before.id])  # pressed twice
        assert (again.queued, again.waiting) == (0, 1)
        await run_until(_dispatcher(store), lambda: _rows(store)[0].state == "delivered")
        assert rx.count() == 11  # one more attempt, not two
        assert {r.callback_id for r in rx.requests} == {before.callback_id}
        [after] = _rows(store)
        assert (after.id, after.callback_id, after.attempts) == (before.id, before.callback_id, 1)
        with store.read() as s:
            n = s.exec(select(func.count()).select_from(EventDelivery)).one()
        assert n == 1
    finally:
        rx.stop()


async def test_disabled_after_5_exhausted_enable_and_replay_what_failed(store, owner, custom):
    settings.set_allow_private_webhooks(store, owner, True)
    answer = Switch()
    rx = Receiver(answer)
    try:
        hook = webhooks.create(store, owner, custom, url=rx.url)
        _emit(store, owner.account_id, n=5)
        await run_until(
            _dispatcher(store),
            lambda: webhooks.get(store, owner.account_id, hook.id).disabled,
            timeout=120,
        )
        w = webhooks.get(store, owner.account_id, hook.id)
        assert "exhausted" in w.disabled_banner
        _emit(store, owner.account_id)  # while disabled: nothing is queued for it
        assert len(_rows(store)) == 5

        answer.status = 200
        enabled = webhooks.enable(store, owner, hook.id)
        assert enabled.failed == 5
        result = replay.replay_since(store, owner, hook.id, enabled.failed_since)
        assert result.queued == 5
        await run_until(
            _dispatcher(store), lambda: {r.state for r in _rows(store)} == {"delivered"}
        )
        delivered = [r for r in rx.requests if r.callback_id]
        assert {r.callback_id for r in delivered} == {r.callback_id for r in _rows(store)}
        assert webhooks.get(store, owner.account_id, hook.id).health_label == "ok"
    finally:
        rx.stop()

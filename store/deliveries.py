"""Webhook tests, resends and event deliveries: what screens (and the platform's
events) call. Each checks and loads its target in a read transaction, sends
with ``store.sending`` and logs the attempt in ``store.delivery_log``, in a
transaction of its own; the body and signatures are ``store.payload``'s.

Tests of a URL typed in the create form (``test_url``) are *not* logged on
their own: there is no webhook yet to own them. When the administrator then
confirms the form, ``webhooks.create(..., test=result)`` logs that test as the
new webhook's first delivery.

The sending functions are async (the TUI awaits them in workers); database
work inside them runs in a thread so a slow database never blocks the loop.
httpx is imported on first send, not at start-up.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, replace

from sqlmodel import col, select

from . import catalog, clock, integrations, payload, sending, validate, webhooks
from .accounts import Actor
from .change import anyone, change, may_manage
from .db import Store

# The F401s: names screens and tests have always taken from this module, re-exported
# from their homes (delivery_log, payload, sending) so that no caller has to change.
from .delivery_log import DeliveryDetail, DeliveryInfo, deliveries, delivery, log_attempt  # noqa: F401
from .errors import Conflict, NotFound, ValidationError
from .models import Account, Delivery, Integration, Webhook
from .payload import Event, build_body, build_headers  # noqa: F401
from .refusals import managed_webhook_refusal
from .sending import ERROR_MAX, RESPONSE_READ_MAX, AttemptResult, attempt_matches  # noqa: F401


@dataclass(frozen=True)
class _Target:
    account_id: int
    webhook_id: int
    url: str
    key: str | None
    timeout_s: int
    allow_private: bool
    previous_key: str | None = None  # a key rotation's overlap: it signs too


def _load_target(store: Store, actor: Actor, webhook_id: int, doing: str) -> _Target:
    with store.read() as s:
        may_manage(s, actor, doing)
        w = s.get(Webhook, webhook_id)
        integ = s.get(Integration, w.integration_id) if w else None
        if w is None or integ is None or integ.account_id != actor.account_id:
            raise NotFound("That webhook no longer exists.")
        name = catalog.extension(integ.extension_key).name
        refusal = managed_webhook_refusal(name, w.managed, sending=True)
        if refusal:
            raise Conflict(refusal)
        if not integ.enabled:
            raise Conflict(
                f"{name} is disabled: its webhooks do not send while it is paused. "
                "Enable it in the Marketplace first."
            )
        integrations.refuse_if_suspended(s, integ)  # its webhooks do not send either
        account = s.get(Account, actor.account_id)
        assert account is not None
        return _Target(
            actor.account_id,
            webhook_id,
            w.url,
            w.sign_key,
            account.webhook_timeout_s,
            account.allow_private_webhooks,
            webhooks.previous_key_at(w.sign_key, w.previous_key, w.previous_key_until, clock.now()),
        )


def _log(
    store: Store,
    account_id: int,
    webhook_id: int,
    attempt: AttemptResult,
    resend_of_id: int | None = None,
) -> AttemptResult:
    # The program logs what it sent: no permission check, no audit entry.
    with change(store, None, "log deliveries", check=anyone, account_id=account_id) as c:
        if c.s.get(Webhook, webhook_id) is None:
            return attempt  # deleted while the request was in flight: nothing to attach to
        return replace(attempt, delivery_id=log_attempt(c.s, webhook_id, attempt, resend_of_id))


async def _attempt_and_log(
    store: Store, target: _Target, prep: payload.Prepared, resend_of_id: int | None = None
) -> AttemptResult:
    try:
        webhooks.validate_url(target.url, allow_private=target.allow_private)
    except ValidationError as exc:  # e.g. an http URL after private networks were turned off
        attempt = sending.refused(prep, exc.message)
    else:
        try:
            attempt = await sending.send(
                prep, timeout_s=target.timeout_s, allow_private=target.allow_private
            )
        except asyncio.CancelledError:
            # Logged synchronously: the task is being cancelled and must not await again.
            _log(
                store,
                target.account_id,
                target.webhook_id,
                sending.refused(
                    prep,
                    "Cancelled before an answer came; the receiver may still have received it.",
                ),
                resend_of_id,
            )
            raise
    return await asyncio.to_thread(
        _log, store, target.account_id, target.webhook_id, attempt, resend_of_id
    )


async def test_url(
    store: Store, actor: Actor, integration_id: int, url: str, sign_key: str | None
) -> AttemptResult:
    """Send a ``webhook:test`` delivery to a URL typed in the create form.

    Bad input raises ValidationError (with the form field); a failed delivery is
    a result with ``ok`` false and the reason. Not logged (see the module notes).
    """
    key = webhooks.validate_sign_key(sign_key)

    def check() -> tuple[str, int, bool]:
        with store.read() as s:
            may_manage(s, actor, "test webhooks")
            webhooks.custom_integration(s, actor, integration_id)
            account = s.get(Account, actor.account_id)
            assert account is not None
            checked = webhooks.validate_url(url, allow_private=account.allow_private_webhooks)
            return checked, account.webhook_timeout_s, account.allow_private_webhooks

    checked_url, timeout_s, allow_private = await asyncio.to_thread(check)
    prep = payload.prepare(checked_url, key, payload.webhook_test_events())
    return await sending.send(prep, timeout_s=timeout_s, allow_private=allow_private)


async def test_edit(
    store: Store,
    actor: Actor,
    webhook_id: int,
    url: str,
    sign_key: str | None,
    *,
    keep_key: bool = False,
) -> AttemptResult:
    """Send a ``webhook:test`` delivery from the edit form of a saved webhook: to the
    URL typed, signed with the key typed, or with the saved key when ``keep_key``
    (the form leaves the key blank to keep it). Not logged here: confirming the
    edit logs it (``webhooks.update(..., test=result)``) when it matches what is saved."""
    key = None if keep_key else webhooks.validate_sign_key(sign_key)

    def check() -> tuple[str, str | None, int, bool]:
        target = _load_target(store, actor, webhook_id, "test webhooks")
        checked = webhooks.validate_url(url, allow_private=target.allow_private)
        return checked, target.key if keep_key else key, target.timeout_s, target.allow_private

    checked_url, signing, timeout_s, allow_private = await asyncio.to_thread(check)
    prep = payload.prepare(checked_url, signing, payload.webhook_test_events())
    return await sending.send(prep, timeout_s=timeout_s, allow_private=allow_private)


async def send_test(store: Store, actor: Actor, webhook_id: int) -> AttemptResult:
    """Send a ``webhook:test`` delivery to a saved webhook; the attempt is logged."""
    target = await asyncio.to_thread(_load_target, store, actor, webhook_id, "test webhooks")
    prep = payload.prepare(
        target.url, target.key, payload.webhook_test_events(), previous_key=target.previous_key
    )
    return await _attempt_and_log(store, target, prep)


async def resend(store: Store, actor: Actor, delivery_id: int) -> AttemptResult:
    """Send a logged delivery again: same callback id and events (receivers can
    deduplicate), fresh timestamp and signatures, to the webhook's current URL
    and key. The new attempt is logged with ``resend_of_id``."""

    def load() -> tuple[_Target, Delivery]:
        with store.read() as s:
            d = s.get(Delivery, delivery_id)
            if d is None:
                raise NotFound("That delivery is no longer in the log.")
        return _load_target(store, actor, d.webhook_id or 0, "resend deliveries"), d

    target, original = await asyncio.to_thread(load)
    try:
        events, contract_id = payload.sent_events(original.request_body)
    except ValidationError:
        raise Conflict(
            "This delivery's logged body cannot be read, so it cannot be resent."
        ) from None
    if not events:
        raise Conflict("This delivery has no events to resend.")
    prep = payload.prepare(
        target.url,
        target.key,
        events,
        callback_id=original.callback_id,
        contract_id=contract_id,
        previous_key=target.previous_key,
    )
    return await _attempt_and_log(store, target, prep, resend_of_id=original.id)


async def deliver_event(
    store: Store,
    account_id: int,
    event_type: str,
    *,
    contract_id: int,
    event_id: int | None = None,
) -> list[AttemptResult]:
    """Deliver one platform event to every webhook of the account that receives it:
    custom webhooks of running integrations only (paused or suspended ones do not send; managed
    ones are the platform's). Each attempt is logged. Retries are not scheduled here."""

    def targets() -> list[_Target]:
        with store.read() as s:
            account = s.get(Account, account_id)
            if account is None:
                raise NotFound("The account no longer exists.")
            rows = s.exec(
                select(Webhook, Integration.extension_key)
                .join(Integration, Integration.id == Webhook.integration_id)
                .where(
                    Integration.account_id == account_id,
                    col(Integration.enabled).is_(True),
                    col(Webhook.managed).is_(False),
                )
                .order_by(col(Webhook.id))
            ).all()
            return [
                _Target(
                    account_id,
                    w.id or 0,
                    w.url,
                    w.sign_key,
                    account.webhook_timeout_s,
                    account.allow_private_webhooks,
                    webhooks.previous_key_at(
                        w.sign_key, w.previous_key, w.previous_key_until, clock.now()
                    ),
                )
                for w, key in rows
                # A suspended integration (its plan does not include it) sends nothing.
                if catalog.suspended_by_plan(key, account.plan) is None
                and (
                    not webhooks.events_of(w.event_types)
                    or event_type in webhooks.events_of(w.event_types)
                )
            ]

    found = await asyncio.to_thread(targets)
    event = Event(
        id=event_id if event_id is not None else secrets.randbelow(2**31 - 1) + 1,
        type=event_type,
        created_at=clock.now(),
    )
    return list(
        await asyncio.gather(
            *(
                _attempt_and_log(
                    store,
                    t,
                    payload.prepare(
                        t.url, t.key, [event], contract_id=contract_id, previous_key=t.previous_key
                    ),
                )
                for t in found
            )
        )
    )


test_url.__test__ = False  # type: ignore[attr-defined]  # a store function, not a pytest test
test_edit.__test__ = False  # type: ignore[attr-defined]


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
